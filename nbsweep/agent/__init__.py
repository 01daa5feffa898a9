"""Agents: run a sweep's function in this kernel, or a program from the command line."""

from nbsweep.agent._agent import AgentHandle, AgentProgress, RunError, in_kernel, start_agent
from nbsweep.agent._command import DEFAULT_COMMAND, expand_command
from nbsweep.agent._program import ProgramAgentError, run_program_agent

__all__ = [
    "DEFAULT_COMMAND",
    "AgentHandle",
    "AgentProgress",
    "ProgramAgentError",
    "RunError",
    "expand_command",
    "in_kernel",
    "run_program_agent",
    "start_agent",
]
