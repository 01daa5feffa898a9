"""Runs: config, buffered logging and summary of a run being executed."""

from nbsweep.run._config import ConfigLockedError, RunConfig, deep_merge
from nbsweep.run._current import agent_run, current_run, set_standalone, standalone_run
from nbsweep.run._run import Run, RunFinishedError, StopRun, Summary

__all__ = [
    "ConfigLockedError",
    "Run",
    "RunConfig",
    "RunFinishedError",
    "StopRun",
    "Summary",
    "agent_run",
    "current_run",
    "deep_merge",
    "set_standalone",
    "standalone_run",
]
