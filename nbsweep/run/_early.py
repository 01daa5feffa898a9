"""Early termination checked where the values arrive: at each ``run.log`` of the metric."""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Mapping
from typing import Any

from nbsweep.config import hyperband_bands
from nbsweep.search._hyperband import HyperbandDecision, hyperband_decision
from nbsweep.store import SQLiteStore

__all__ = ["HyperbandWatch"]

# How long the other runs' values at a band are reused before they are read again.
_REFRESH_S = 2.0


class HyperbandWatch:
    """Follows one run's metric and says when hyperband stops it.

    The run's own values are counted here as they are logged (none is missed by waiting for
    a flush); the other runs' values at a band are read from the store, at most every two
    seconds per band, so a check costs microseconds between reads.
    """

    def __init__(
        self,
        store: SQLiteStore,
        *,
        run_id: str,
        sweep_id: str,
        metric: str,
        goal: str,
        spec: Mapping[str, Any],
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.sweep_id = sweep_id
        self.metric = metric
        self.goal = goal
        self.spec = dict(spec)
        self.bands = hyperband_bands(spec)
        self.history: list[float] = []
        self._others: dict[int, tuple[float, list[float]]] = {}

    def observe(self, value: Any) -> HyperbandDecision | None:
        """Count one logged value of the metric; return a decision when the run must stop."""
        try:
            value = float(value)
        except (TypeError, ValueError, OverflowError):
            return None
        if not math.isfinite(value):  # NaN and inf are not iterations, as in W&B
            return None
        self.history.append(value)
        reached = bisect.bisect_right(self.bands, len(self.history))
        if reached == 0:
            return None
        band = self.bands[reached - 1]
        values = [*self._other_values(band), self.history[band - 1]]
        return hyperband_decision(self.spec, self.goal, self.history, {band: values})

    def _other_values(self, band: int) -> list[float]:
        now = time.monotonic()
        cached = self._others.get(band)
        if cached is None or now - cached[0] > _REFRESH_S:
            values = self.store.band_values(
                self.sweep_id, self.metric, band, exclude_run=self.run_id
            )
            cached = self._others[band] = (now, values)
        return cached[1]
