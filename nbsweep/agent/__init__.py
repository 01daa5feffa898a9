"""Agents: run a sweep's function in this kernel (or a program, from the command line)."""

from nbsweep.agent._agent import AgentHandle, AgentProgress, RunError, in_kernel, start_agent

__all__ = ["AgentHandle", "AgentProgress", "RunError", "in_kernel", "start_agent"]
