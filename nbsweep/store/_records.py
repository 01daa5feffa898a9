"""Plain records the store returns; every layer above reads these, never rows."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "RUN_STATES",
    "SWEEP_STATES",
    "TERMINAL_STATES",
    "RunRecord",
    "SweepRecord",
]

SWEEP_STATES = ("RUNNING", "PAUSED", "FINISHED", "CANCELED")
RUN_STATES = ("running", "finished", "failed", "crashed", "stopped")
TERMINAL_STATES = frozenset({"finished", "failed", "crashed", "stopped"})


@dataclass(frozen=True)
class SweepRecord:
    """A stored sweep.

    Attributes
    ----------
    id
        Short random id, e.g. ``k3v9x2qa``.
    config
        The normalised config (a plain dict).
    state
        ``RUNNING``, ``PAUSED``, ``FINISHED`` or ``CANCELED``.
    seed
        Seed of random and bayes search; runs drawn with the same seed are the same.
    version
        Grows with every change to the sweep or its runs; readers use it to fetch only what
        changed.
    strategy_state
        What the search strategy keeps between proposals (fitted model settings).
    """

    id: str
    name: str | None
    config: dict[str, Any]
    method: str
    metric_name: str | None
    goal: str
    run_cap: int | None
    state: str
    seed: int
    created_at: float
    updated_at: float
    version: int
    state_reason: str | None = None
    strategy_state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunRecord:
    """A stored run, of a sweep or standalone.

    Attributes
    ----------
    config
        The run's config as ``run.config`` shows it (nested dicts for nested parameters).
    summary
        The last logged value of every key, plus anything set on ``run.summary``.
    metric_value
        The sweep metric's best finite value over the run's history and summary (min for
        ``minimize``, max for ``maximize``), as W&B's bayes search reads it; None when the run
        logged no finite value of it.
    metric_count
        How many values of the sweep metric the run logged, NaN and inf included.
    error
        For a failed run: the exception's type and message followed by the traceback.
    stop_reason
        For a stopped or crashed run: why.
    output
        What the run printed; only filled by single-run reads (``Run.load``), None otherwise.
    """

    id: str
    sweep_id: str | None
    seq: int | None
    state: str
    config: dict[str, Any]
    summary: dict[str, Any] = field(default_factory=dict)
    metric_value: float | None = None
    metric_count: int = 0
    created_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    heartbeat_at: float | None = None
    agent_id: str | None = None
    host: str | None = None
    pid: int | None = None
    grid_key: str | None = None
    error: str | None = None
    stop_reason: str | None = None
    last_step: int | None = None
    rev: int = 0
    name: str | None = None
    output: str | None = None

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish (to the last heartbeat while it runs)."""
        if self.started_at is None:
            return None
        end = self.finished_at if self.finished_at is not None else self.heartbeat_at
        return None if end is None else max(0.0, end - self.started_at)

    @property
    def metric_is_nonfinite(self) -> bool:
        """True when the metric was logged but never as a finite number (NaN or inf only)."""
        return self.metric_count > 0 and self.metric_value is None

    @property
    def error_summary(self) -> str | None:
        """The first line of :attr:`error`: the exception type and message."""
        return self.error.splitlines()[0] if self.error else None

    def objective(self, goal: str) -> float | None:
        """:attr:`metric_value` signed so that smaller is better."""
        if self.metric_value is None or math.isnan(self.metric_value):
            return None
        return self.metric_value if goal == "minimize" else -self.metric_value
