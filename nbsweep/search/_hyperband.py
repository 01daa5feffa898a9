"""Hyperband early termination, with W&B's parameters and meaning.

Brackets ("bands") come from ``min_iter`` (or ``max_iter`` and ``s``) and ``eta``
(:func:`nbsweep.config.hyperband_bands`). An iteration is one logged finite value of the
sweep's metric. At band ``b`` every run of the sweep that has at least ``b`` values, in any
state and the judged run included, contributes its ``b``-th value; the threshold is the
value at place ``int(n / eta)`` of those, sorted best first. A running run whose value at its
largest reached band (``strict``, the default) or whose best value so far (``strict: false``)
is worse than that threshold is stopped. So roughly the best ``1/eta`` of runs pass each band,
and a run alone in its sweep is never stopped.

Li et al., "Hyperband: A Novel Bandit-Based Approach to Hyperparameter Optimization", JMLR
2018; the rule above is W&B's engine's adaptation of its successive-halving step.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nbsweep.config import hyperband_bands

__all__ = ["HyperbandDecision", "hyperband_decision", "hyperband_thresholds"]


@dataclass(frozen=True)
class HyperbandDecision:
    """Why a run is stopped.

    Attributes
    ----------
    band
        The iteration at which it was compared.
    value
        The run's value that was compared (its ``band``-th value, or its best so far).
    threshold
        The value it had to be at least as good as.
    runs
        How many runs had reached the band.
    """

    band: int
    value: float
    threshold: float
    runs: int

    @property
    def reason(self) -> str:
        """The stop reason stored with the run."""
        return (
            f"hyperband: {self.value:.6g} at iteration {self.band} is worse than the "
            f"threshold {self.threshold:.6g} set by {self.runs} runs at that band"
        )


def _signed(value: float, goal: str) -> float:
    return value if goal == "minimize" else -value


def hyperband_thresholds(
    spec: Mapping[str, Any], goal: str, band_values: Mapping[int, Sequence[float]]
) -> dict[int, float]:
    """The threshold of each band, from every run's value at that band (best kept first).

    Examples
    --------
    >>> hyperband_thresholds({"min_iter": 1, "eta": 2}, "minimize", {1: [10, 10, 10, 10, 10]})
    {1: 10}
    """
    eta = float(spec.get("eta", 3))
    out = {}
    for band, values in band_values.items():
        ranked = sorted(_signed(v, goal) for v in values)
        if ranked:
            out[band] = _signed(ranked[int(len(ranked) / eta)], goal)
    return out


def hyperband_decision(
    spec: Mapping[str, Any],
    goal: str,
    history: Sequence[float],
    band_values: Mapping[int, Sequence[float]],
) -> HyperbandDecision | None:
    """Whether a running run with this metric history should stop now.

    Parameters
    ----------
    spec
        The normalised ``early_terminate`` section.
    goal
        ``minimize`` or ``maximize``.
    history
        The run's finite values of the metric, in logging order.
    band_values
        For a band, the values at that band of every run that reached it, this run included.

    Examples
    --------
    >>> spec = {"max_iter": 5, "s": 2, "eta": 2, "strict": True}
    >>> others = {1: [10, 10, 10, 10, 10], 2: [9, 10, 8, 7, 6]}
    >>> hyperband_decision(spec, "minimize", [10, 10], others).threshold
    8
    >>> hyperband_decision(spec, "minimize", [10, 7, 7], others) is None
    True
    """
    bands = hyperband_bands(spec)
    reached = bisect.bisect_right(bands, len(history))
    if reached == 0:
        return None
    band = bands[reached - 1]
    values = band_values.get(band, ())
    if not values:
        return None
    threshold = hyperband_thresholds(spec, goal, {band: values})[band]
    if spec.get("strict", True):
        value = history[band - 1]
    else:
        value = min(history) if goal == "minimize" else max(history)
    if _signed(value, goal) > _signed(threshold, goal):
        return HyperbandDecision(band, value, threshold, len(values))
    return None
