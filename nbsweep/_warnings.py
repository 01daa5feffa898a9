"""Warning classes that nbsweep emits for likely mistakes in user input."""

from __future__ import annotations

__all__ = ["AgentWarning", "ConfigWarning", "MetricWarning", "NbsweepWarning"]


class NbsweepWarning(UserWarning):
    """Base class of every warning nbsweep emits."""


class ConfigWarning(NbsweepWarning):
    """A sweep config is valid but probably not what its author meant."""


class AgentWarning(NbsweepWarning):
    """An agent was started or run in a way that is allowed but easy to regret."""


class MetricWarning(NbsweepWarning):
    """The sweep's metric is missing or unusable in the runs so far."""
