"""Plain, frozen data behind the views: computed once, drawn by any back end.

Every position is in ``[0, 1]`` along its axis, so a back end only maps that to pixels; every
tick carries its real value and a label, so no back end shows indices or log exponents.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nbsweep.analysis._best import finite_metric, format_value
from nbsweep.analysis._importance import category_levels
from nbsweep.config import canonical_key
from nbsweep.space import Param, Space
from nbsweep.store._records import RunRecord

__all__ = [
    "AXIS_KINDS",
    "Axis",
    "Curve",
    "CurvesData",
    "ParallelData",
    "ParallelRun",
    "build_curves_data",
    "build_parallel_data",
]

AXIS_KINDS = ("linear", "log", "categorical")

# Where the unbounded distributions (normal, log-normal) put their axis ends when no run
# has a value yet: the 5% and 95% quantiles.
_QUANTILE_ENDS = (0.05, 0.95)


@dataclass(frozen=True)
class Axis:
    """One vertical axis of the parallel-coordinates view.

    Attributes
    ----------
    name
        The parameter's dotted name (``head.dropout``), or the metric's name.
    kind
        ``linear``, ``log`` (positions are linear in log10 of the value) or ``categorical``.
    is_metric
        True for the metric axis, which is always last.
    is_constant
        True when the axis has a single value (a constant parameter, or one value seen):
        every run sits at 0.5 on it.
    domain
        For numeric axes, the values at position 0 and 1, in real units; None for
        categorical axes and for a metric no run has logged.
    values
        For categorical axes, the real values at the ticks, in order: numbers sorted, other
        values in the config's order, then values seen in runs but not in the config.
    tick_positions, tick_values, tick_labels
        Ticks in ``[0, 1]``, their real values and their labels.
    """

    name: str
    kind: str
    is_metric: bool
    is_constant: bool
    domain: tuple[float, float] | None
    values: tuple[Any, ...]
    tick_positions: tuple[float, ...]
    tick_values: tuple[Any, ...]
    tick_labels: tuple[str, ...]


@dataclass(frozen=True)
class ParallelRun:
    """One run as a line across the axes.

    Attributes
    ----------
    id, state
        The run's id and state.
    positions
        One position in ``[0, 1]`` per axis, the metric last; NaN where the run has no value
        (a parameter missing from its config, or a metric that is not a finite number).
    metric_value
        The finite metric value, or None.
    metric_nonfinite
        True when the run logged the metric only as NaN or inf; such a run is marked as such,
        never placed at a number.
    color
        Position on the colour scale in ``[0, 1]``, where 1 is always the best metric value
        (smallest for ``minimize``, largest for ``maximize``); None without a finite metric.
    """

    id: str
    state: str
    positions: tuple[float, ...]
    metric_value: float | None
    metric_nonfinite: bool
    color: float | None


@dataclass(frozen=True)
class ParallelData:
    """What the parallel-coordinates view shows.

    Attributes
    ----------
    axes
        One per parameter, in W&B order (constants included, as flat axes), then the metric
        (none when the sweep has no metric).
    runs
        One per run, in the order given.
    metric_name, goal
        The metric (None for a sweep without one) and whether smaller or larger is better.
    color_range
        ``(worst, best)``: the metric values at colour 0 and colour 1; None when no run has
        a finite metric value.
    notes
        Sentences to show with the view.
    """

    axes: tuple[Axis, ...]
    runs: tuple[ParallelRun, ...]
    metric_name: str | None
    goal: str
    color_range: tuple[float, float] | None
    notes: tuple[str, ...]

    @property
    def metric_axis(self) -> Axis | None:
        """The metric's axis (the last one), or None when the sweep has no metric."""
        return self.axes[-1] if self.axes and self.axes[-1].is_metric else None

    def axis(self, name: str) -> Axis:
        """Return the axis of a parameter by dotted name (the metric's by its name)."""
        for axis in sorted(self.axes, key=lambda a: a.is_metric):
            if axis.name == name:
                return axis
        raise KeyError(name)

    def positions(self) -> np.ndarray:
        """Positions as an array of shape ``(runs, axes)``."""
        return np.array([run.positions for run in self.runs], dtype=float).reshape(
            len(self.runs), len(self.axes)
        )


# Ticks -------------------------------------------------------------------------------------


def _round_tick(value: float, step: float) -> float:
    decimals = max(0, 1 - math.floor(math.log10(step))) if step > 0 else 0
    return round(value, decimals) + 0.0


def nice_ticks(low: float, high: float, *, integer: bool = False, target: int = 5) -> list[float]:
    """Round values between ``low`` and ``high`` (steps of 1, 2, 2.5 or 5 times a power of 10).

    Examples
    --------
    >>> nice_ticks(0.0, 0.5)
    [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    >>> nice_ticks(1, 3, integer=True)
    [1, 2, 3]
    """
    if not high > low:
        return [low]
    # Halves first: high - low overflows for bounds near the float limits.
    width = 2.0 * (high / 2 - low / 2)
    if not math.isfinite(width):
        return [low, high]
    magnitude = 10.0 ** math.floor(math.log10(width / max(1, target - 1)))

    def span(step: float) -> range:
        return range(math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9) + 1)

    steps = [m * magnitude * f for f in (0.1, 1.0, 10.0) for m in (1, 2, 2.5, 5)]
    if integer:
        steps = sorted({float(max(1, round(s))) for s in steps})
    # The step whose tick count is nearest the target; on a tie, the coarser one.
    step = min(steps, key=lambda s: (abs(len(span(s)) - target), -s))
    ticks = [_round_tick(k * step, step) for k in span(step)]
    if integer:
        return [int(t) for t in ticks]
    return ticks


def log_ticks(low: float, high: float) -> list[float]:
    """Round values between two positive numbers on a log axis: powers of 10, else 1-2-5.

    Examples
    --------
    >>> log_ticks(1e-5, 1e-1)
    [1e-05, 0.0001, 0.001, 0.01, 0.1]
    """
    if not high > low:
        return [low]
    lo, hi = math.log10(low), math.log10(high)
    decades = [10.0**k for k in range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1)]
    if len(decades) >= 2:
        # Thin out a very wide range to about eight ticks.
        stride = math.ceil(len(decades) / 8)
        return [float(f"{d:.1e}") for d in decades[::stride]]
    ticks = []
    for k in range(math.floor(lo) - 1, math.ceil(hi) + 1):
        for m in (1, 2, 5):
            value = float(f"{m * 10.0**k:.1e}")
            if low * (1 - 1e-9) <= value <= high * (1 + 1e-9):
                ticks.append(value)
    return ticks if len(ticks) >= 2 else [low, high]


def _tick_label(value: float) -> str:
    return f"{value:g}"


# Axes --------------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _bounds(param: Param) -> tuple[float, float] | None:
    distribution = param.distribution
    low, high = getattr(distribution, "low", None), getattr(distribution, "high", None)
    if low is not None and high is not None:
        return float(low), float(high)
    support = getattr(distribution, "support", None)
    if support is not None:
        s_low, s_high = support()
        if math.isfinite(s_low) and math.isfinite(s_high):
            return float(s_low), float(s_high)
    return None


def _categorical_axis(
    name: str, levels: Sequence[Any], values: Sequence[Any], present: Sequence[bool]
) -> tuple[Axis, list[float]]:
    count = len(levels)
    spots = [0.5] if count == 1 else [i / (count - 1) for i in range(count)]
    index = {canonical_key(v): i for i, v in enumerate(levels)}
    positions = [
        spots[index[canonical_key(v)]] if p else math.nan
        for v, p in zip(values, present, strict=True)
    ]
    axis = Axis(
        name=name,
        kind="categorical",
        is_metric=False,
        is_constant=count <= 1,
        domain=None,
        values=tuple(levels),
        tick_positions=tuple(spots),
        tick_values=tuple(levels),
        tick_labels=tuple(format_value(v) for v in levels),
    )
    return axis, positions


def _numeric_axis(
    name: str,
    log: bool,
    values: Sequence[Any],
    present: Sequence[bool],
    *,
    bounds: tuple[float, float] | None,
    integer: bool,
    is_metric: bool,
) -> tuple[Axis, list[float]]:
    usable = [
        p and _is_number(v) and (not log or v > 0) for v, p in zip(values, present, strict=True)
    ]
    seen = [float(v) for v, u in zip(values, usable, strict=True) if u]
    low, high = bounds if bounds is not None else (math.inf, -math.inf)
    if seen:
        low, high = min(low, *seen), max(high, *seen)
    if not low <= high:
        axis = Axis(name, "log" if log else "linear", is_metric, True, None, (), (), (), ())
        return axis, [math.nan] * len(values)

    if high == low:
        ticks = [low]
        positions = [0.5 if u else math.nan for u in usable]
        spots = [0.5]
    else:

        def place(value: float) -> float:
            if log:
                return (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low))
            return (value - low) / (high - low)

        ticks = log_ticks(low, high) if log else nice_ticks(low, high, integer=integer)
        if len(ticks) < 2:
            ticks = [low, high]
        positions = [
            min(1.0, max(0.0, place(float(v)))) if u else math.nan
            for v, u in zip(values, usable, strict=True)
        ]
        spots = [place(t) for t in ticks]
    axis = Axis(
        name=name,
        kind="log" if log else "linear",
        is_metric=is_metric,
        is_constant=high == low,
        domain=(low, high),
        values=(),
        tick_positions=tuple(spots),
        tick_values=tuple(ticks),
        tick_labels=tuple(_tick_label(t) for t in ticks),
    )
    return axis, positions


def _param_axis(param: Param, flats: Sequence[dict[str, Any]]) -> tuple[Axis, list[float]]:
    distribution = param.distribution
    present = [param.name in flat for flat in flats]
    values = [flat.get(param.name) for flat in flats]
    categorical = hasattr(distribution, "choices") or (
        distribution.is_constant and not distribution.is_numeric
    )
    if categorical:
        levels = category_levels(param, (v for v, p in zip(values, present, strict=True) if p))
        return _categorical_axis(param.name, levels, values, present)

    bounds = _bounds(param)
    if bounds is None and distribution.is_constant:
        constant = float(distribution.sample(0.5))
        bounds = (constant, constant)
    elif bounds is None and not any(p for p in present):
        ppf = getattr(distribution, "ppf", None)
        if ppf is not None:
            bounds = (float(ppf(_QUANTILE_ENDS[0])), float(ppf(_QUANTILE_ENDS[1])))
    integer = distribution.name == "int_uniform" or bool(getattr(distribution, "integer", False))
    return _numeric_axis(
        param.name,
        distribution.log_scale,
        values,
        present,
        bounds=bounds,
        integer=integer,
        is_metric=False,
    )


# Public ------------------------------------------------------------------------------------


def build_parallel_data(
    runs: Iterable[RunRecord], space: Space, metric_name: str | None, goal: str
) -> ParallelData:
    """Axes and run lines of the parallel-coordinates view.

    Parameters
    ----------
    runs
        Runs of one sweep in any state; their state is kept so the view can draw running,
        stopped and failed runs apart.
    space
        The sweep's parameters: one axis each, in W&B order.
    metric_name
        The metric, drawn on the last axis; None for a sweep without a metric (no metric
        axis, no colours).
    goal
        ``minimize`` or ``maximize``; decides which end of the colour scale is best.

    Returns
    -------
    ParallelData

    Examples
    --------
    >>> from nbsweep.analysis._best import _example_run
    >>> space = Space({"lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 0.1}})
    >>> data = build_parallel_data([_example_run(config={"lr": 1e-3})], space, "loss",
    ...                            "minimize")
    >>> data.axes[0].kind, data.axes[0].tick_labels, data.runs[0].positions
    ('log', ('1e-05', '0.0001', '0.001', '0.01', '0.1'), (0.5, 0.5))
    """
    if goal not in ("minimize", "maximize"):
        raise ValueError(f"goal must be 'minimize' or 'maximize', not {goal!r}")
    runs = list(runs)
    flats = [space.flatten(run.config) if isinstance(run.config, dict) else {} for run in runs]

    axes: list[Axis] = []
    columns: list[list[float]] = []
    notes: list[str] = []
    for param in space.params:
        axis, positions = _param_axis(param, flats)
        axes.append(axis)
        columns.append(positions)
        missing = sum(param.name not in flat for flat in flats)
        if missing:
            notes.append(f"{param.name} is missing from {missing} of {len(runs)} runs.")

    if metric_name is None:
        notes.append("The sweep has no metric; lines are not coloured.")
        metrics: list[float | None] = [None] * len(runs)
    else:
        metrics = [finite_metric(run) for run in runs]
        # Limitation: the metric axis is always linear, so a few diverged runs can squash the
        # rest near one end; there is no log or quantile metric axis yet.
        metric_axis, metric_positions = _numeric_axis(
            metric_name,
            False,
            metrics,
            [m is not None for m in metrics],
            bounds=None,
            integer=False,
            is_metric=True,
        )
        axes.append(metric_axis)
        columns.append(metric_positions)

    finite = [m for m in metrics if m is not None]
    color_range = None
    colors: list[float | None] = [None] * len(runs)
    if finite:
        low, high = min(finite), max(finite)
        worst, best = (high, low) if goal == "minimize" else (low, high)
        color_range = (worst, best)
        colors = [
            None if m is None else 1.0 if high == low else (m - worst) / (best - worst)
            for m in metrics
        ]

    nonfinite = [
        metric_name is not None
        and m is None
        and (run.metric_is_nonfinite or run.metric_value is not None)
        for run, m in zip(runs, metrics, strict=True)
    ]
    if any(nonfinite):
        count = sum(nonfinite)
        notes.append(
            f"{count} run{'s' if count != 1 else ''} logged {metric_name} only as NaN or inf;"
            " marked, not placed on the metric axis."
        )

    lines = tuple(
        ParallelRun(
            id=run.id,
            state=run.state,
            positions=tuple(float(column[i]) for column in columns),
            metric_value=metrics[i],
            metric_nonfinite=nonfinite[i],
            color=colors[i],
        )
        for i, run in enumerate(runs)
    )
    return ParallelData(tuple(axes), lines, metric_name, goal, color_range, tuple(notes))


@dataclass(frozen=True)
class Curve:
    """One logged key of one run over steps.

    Attributes
    ----------
    run_id, key
        Whose curve and of what.
    state
        The run's state when known, else None.
    steps, values
        The logged points in step order; a value logged as NaN or inf is NaN here, so a line
        breaks there instead of jumping to a number.
    nonfinite_steps
        Steps at which the value was NaN or inf, for marking.
    """

    run_id: str
    key: str
    state: str | None
    steps: tuple[float, ...]
    values: tuple[float, ...]
    nonfinite_steps: tuple[float, ...]


@dataclass(frozen=True)
class CurvesData:
    """What the metric-vs-step view shows.

    Attributes
    ----------
    keys
        The keys asked for.
    curves
        One per run and key that has at least one logged value, runs in the order given.
    message
        Set when there is nothing to draw.
    best_run
        The run to highlight (the sweep's best), if any.
    """

    keys: tuple[str, ...]
    curves: tuple[Curve, ...]
    message: str | None
    best_run: str | None = None


def build_curves_data(
    histories: Mapping[str, Sequence[Mapping[str, Any]]],
    keys: str | Sequence[str],
    *,
    states: Mapping[str, str] | None = None,
    best_run: str | None = None,
) -> CurvesData:
    """Curves of logged keys against step, one per run and key.

    Parameters
    ----------
    histories
        Run id to its logged rows, each a mapping with ``step`` and the logged keys. A row
        without ``step`` takes its index in the list.
    keys
        One key or several.
    states
        Optional run id to state, so running and failed runs can be drawn apart.

    Returns
    -------
    CurvesData

    Examples
    --------
    >>> data = build_curves_data({"a": [{"_step": 0, "loss": 1.0}, {"_step": 5, "loss": 0.5}]},
    ...                          "loss")
    >>> data.curves[0].steps, data.curves[0].values
    ((0.0, 5.0), (1.0, 0.5))
    """
    keys = (keys,) if isinstance(keys, str) else tuple(keys)
    curves = []
    for run_id, rows in histories.items():
        for key in keys:
            points = []
            for index, row in enumerate(rows):
                value = row.get(key)
                if isinstance(value, bool) or not isinstance(value, int | float):
                    continue
                step = row.get("_step", row.get("step", index))
                if isinstance(step, bool) or not isinstance(step, int | float):
                    step = index
                points.append((float(step), float(value)))
            if not points:
                continue
            points.sort(key=lambda point: point[0])
            values = tuple(v if math.isfinite(v) else math.nan for _, v in points)
            curves.append(
                Curve(
                    run_id=str(run_id),
                    key=key,
                    state=None if states is None else states.get(run_id),
                    steps=tuple(s for s, _ in points),
                    values=values,
                    nonfinite_steps=tuple(s for s, v in points if not math.isfinite(v)),
                )
            )
    message = None
    if not curves:
        message = f"no run has logged {' or '.join(keys) or 'any key'} yet"
    return CurvesData(keys, tuple(curves), message, best_run)
