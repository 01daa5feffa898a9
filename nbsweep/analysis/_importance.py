"""Parameter importance: random-forest impurity importance and Pearson correlation.

Importance is the mean decrease in impurity of a random forest fitted to predict the metric
from the parameters (Breiman, "Random Forests", Machine Learning 45, 2001), as W&B's
parameter-importance panel reports it. It is averaged over several fixed seeds and the spread
across seeds is kept, so the same runs always give the same numbers and a reader sees how
stable they are. Correlation is Pearson's r between each parameter and the metric: of log10
of the value for log-distributed parameters, and of one indicator per level for categoricals
(``opt == "sgd"``), never of arbitrary integer codes.

Categoricals enter the forest one-hot, and a parameter's importance is the sum over its
columns, as Optuna's MDI evaluator does it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestRegressor

from nbsweep.analysis._best import USABLE_STATES, finite_metric, format_value
from nbsweep.config import canonical_key
from nbsweep.space import Param, Space
from nbsweep.store._records import RunRecord

__all__ = [
    "MIN_RUNS",
    "ImportanceData",
    "LevelCorrelation",
    "ParamImportance",
    "build_importance_data",
]

logger = logging.getLogger(__name__)

MIN_RUNS = 3

# Forest size. Impurity importance settles with a few dozen trees, and five seeds of 32
# trees each give the spread; depth 8 and at most 2048 runs per tree keep a 10,000-run,
# 20-parameter sweep at a couple of seconds on one core, whatever the number of runs.
_N_ESTIMATORS = 32
_MAX_DEPTH = 8
_MAX_SAMPLES = 2048


@dataclass(frozen=True)
class LevelCorrelation:
    """Correlation of one level of a categorical (``param == value``) with the metric.

    Attributes
    ----------
    value
        The level's value as the config gives it.
    label
        How the level is written (``True``, ``None``, ``adam``, ``128``).
    correlation
        Pearson's r between the indicator ``param == value`` and the metric, over the runs
        that have a value for the parameter; None when the level is in all or none of them.
    n_runs
        How many of those runs have this level.
    """

    value: Any
    label: str
    correlation: float | None
    n_runs: int


@dataclass(frozen=True)
class ParamImportance:
    """Importance and correlation of one parameter.

    Attributes
    ----------
    name
        Dotted name (``head.dropout`` for nested parameters).
    importance
        Mean over seeds of the forest's impurity importance; the importances of all
        parameters sum to 1 for each seed (0 everywhere when nothing explains the metric).
    importance_std, importance_min, importance_max
        Spread of the importance across seeds.
    correlation
        Pearson's r with the metric for numeric parameters (of log10 of the value for
        log-distributed ones); None for categoricals (see ``level_correlations``) and for
        parameters that do not vary.
    level_correlations
        For categoricals, one entry per level, in axis order (numbers sorted, otherwise the
        config's order, then values seen in runs but not listed in the config).
    encoding
        How the parameter was fed to the forest and the correlation: ``linear``, ``log10``,
        ``one-hot (3 levels)`` or ``constant``.
    n_runs
        Runs used that have a value for this parameter.
    note
        Why the numbers are what they are, when that needs saying (constant, missing values).
    """

    name: str
    importance: float
    importance_std: float
    importance_min: float
    importance_max: float
    correlation: float | None
    level_correlations: tuple[LevelCorrelation, ...]
    encoding: str
    n_runs: int
    note: str | None = None


@dataclass(frozen=True)
class ImportanceData:
    """What the importance view shows: one entry per parameter, most important first.

    Attributes
    ----------
    metric_name, goal
        The metric the forest predicts and whether smaller or larger is better.
    params
        One entry per parameter, sorted by importance, descending (ties in W&B's order).
        Empty when there are too few runs.
    n_runs
        Runs used: finished or stopped, with a finite metric value.
    n_excluded_failed
        Failed or crashed runs left out.
    n_excluded_unfinished
        Runs still running (or in another state) left out.
    n_excluded_nonfinite
        Finished or stopped runs whose metric was only ever NaN or inf.
    n_excluded_no_metric
        Finished or stopped runs that never logged the metric.
    message
        Set when there is no result, e.g. ``need at least 3 finished runs with a finite loss;
        have 2``.
    notes
        Sentences to show under the chart (what was left out, and why).
    seeds
        The forest's seeds.
    method
        How importance was computed, in words.
    """

    metric_name: str
    goal: str
    params: tuple[ParamImportance, ...]
    n_runs: int
    n_excluded_failed: int
    n_excluded_unfinished: int
    n_excluded_nonfinite: int
    n_excluded_no_metric: int
    message: str | None
    notes: tuple[str, ...]
    seeds: tuple[int, ...]
    method: str

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to show but :attr:`message`."""
        return not self.params

    @property
    def n_excluded(self) -> int:
        """All runs left out, whatever the reason."""
        return (
            self.n_excluded_failed
            + self.n_excluded_unfinished
            + self.n_excluded_nonfinite
            + self.n_excluded_no_metric
        )

    def __getitem__(self, name: str) -> ParamImportance:
        for entry in self.params:
            if entry.name == name:
                return entry
        raise KeyError(name)


# Building blocks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Encoded:
    """One parameter turned into forest columns plus what the report says about it."""

    columns: np.ndarray  # (n_runs, k); k == 0 when the parameter cannot explain anything
    correlation: float | None
    levels: tuple[LevelCorrelation, ...]
    encoding: str
    n_runs: int
    note: str | None


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {plural or word + 's'}"


def pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson's r of two equal-length arrays; None when either does not vary.

    Examples
    --------
    >>> pearson(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 7.0])) > 0.99
    True
    >>> pearson(np.array([1.0, 1.0, 1.0]), np.array([2.0, 4.0, 7.0])) is None
    True
    """
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    # Scale before multiplying so that huge values cannot overflow.
    dx = x - x.mean()
    dy = y - y.mean()
    dx = dx / np.abs(dx).max()
    dy = dy / np.abs(dy).max()
    denominator = math.sqrt(float(dx @ dx) * float(dy @ dy))
    if not denominator > 0:
        return None
    r = float(dx @ dy) / denominator
    return None if math.isnan(r) else min(1.0, max(-1.0, r))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def category_levels(param: Param, observed: Iterable[Any]) -> list[Any]:
    """Levels of a categorical in axis order: numbers sorted, else config order; then extras.

    Values found in runs but not listed in the config (the config changed) come last, in
    the order first seen. Equal numbers (``2`` and ``2.0``) are one level.

    Examples
    --------
    >>> space = Space({"b": {"distribution": "categorical", "values": [128, 16, 64]}})
    >>> category_levels(space["b"], [16, 8])
    [16, 64, 128, 8]
    """
    distribution = param.distribution
    choices = list(getattr(distribution, "choices", [getattr(distribution, "value", None)]))
    if choices and all(_is_number(v) and not math.isnan(v) for v in choices):
        choices = sorted(choices)
    keys = {canonical_key(v) for v in choices}
    for value in observed:
        key = canonical_key(value)
        if key not in keys:
            keys.add(key)
            choices.append(value)
    return choices


def _encode_categorical(
    param: Param, values: Sequence[Any], present: np.ndarray, y: np.ndarray
) -> _Encoded:
    levels = category_levels(param, (v for v, p in zip(values, present, strict=True) if p))
    index = {canonical_key(v): i for i, v in enumerate(levels)}
    codes = np.full(len(values), -1)
    for row, (value, is_present) in enumerate(zip(values, present, strict=True)):
        if is_present:
            codes[row] = index[canonical_key(value)]
    # A run without the parameter has every indicator at 0, which the forest can split on.
    onehot = (codes[:, None] == np.arange(len(levels))[None, :]).astype(float)
    y_present = y[present]
    level_entries = tuple(
        LevelCorrelation(
            value=level,
            label=format_value(level),
            correlation=pearson(onehot[present, i], y_present),
            n_runs=int(onehot[present, i].sum()),
        )
        for i, level in enumerate(levels)
    )
    return _Encoded(
        onehot,
        None,
        level_entries,
        f"one-hot ({_plural(len(levels), 'level')})",
        int(present.sum()),
        None,
    )


def _encode_numeric(
    param: Param, values: Sequence[Any], present: np.ndarray, y: np.ndarray
) -> _Encoded:
    log = param.distribution.log_scale
    x = np.full(len(values), np.nan)
    unusable = 0
    for row, (value, is_present) in enumerate(zip(values, present, strict=True)):
        if not is_present:
            continue
        if not _is_number(value) or not math.isfinite(value) or (log and value <= 0):
            unusable += 1
            continue
        x[row] = math.log10(value) if log else float(value)
    usable = ~np.isnan(x)
    note = None
    if unusable:
        what = "not a positive number" if log else "not a finite number"
        note = f"{_plural(unusable, 'run')} had a value that is {what}; treated as missing"
    correlation = pearson(x[usable], y[usable])
    columns = [np.where(usable, x, np.median(x[usable]) if usable.any() else 0.0)]
    if not usable.all():
        # A flag column lets the forest split on "the run has no value" instead of
        # pretending the imputed median was drawn.
        columns.append((~usable).astype(float))
    return _Encoded(
        np.column_stack(columns),
        correlation,
        (),
        "log10" if log else "linear",
        int(usable.sum()),
        note,
    )


def _encode(param: Param, flats: Sequence[dict[str, Any]], y: np.ndarray) -> _Encoded:
    distribution = param.distribution
    present = np.array([param.name in flat for flat in flats], dtype=bool)
    values = [flat.get(param.name) for flat in flats]
    n_missing = int((~present).sum())
    distinct = {canonical_key(v) for v, p in zip(values, present, strict=True) if p}
    n_distinct = len(distinct) + (1 if n_missing else 0)

    if distribution.is_constant:
        note = f"constant in the config ({format_value(distribution.sample(0.5))})"
        return _Encoded(np.empty((len(flats), 0)), None, (), "constant", int(present.sum()), note)

    categorical = hasattr(distribution, "choices")
    encoded = (_encode_categorical if categorical else _encode_numeric)(param, values, present, y)
    notes = [encoded.note] if encoded.note else []
    if n_missing:
        notes.append(f"missing from {_plural(n_missing, 'run')}")
    if n_distinct <= 1:
        # Nothing to split on and nothing to correlate: report it as constant.
        notes.insert(0, f"no variation among the {_plural(len(flats), 'run')} used")
        return replace(
            encoded, columns=np.empty((len(flats), 0)), correlation=None, note="; ".join(notes)
        )
    return replace(encoded, note="; ".join(notes) or None)


# Limitation: impurity importance favours parameters with many distinct values (continuous
# ones) over few-level categoricals (Strobl et al., BMC Bioinformatics 8:25, 2007), and it is
# computed on the training runs; permutation importance, fANOVA and PED-ANOVA are not offered.
def _forest_importances(
    x: np.ndarray, y: np.ndarray, owners: np.ndarray, n_params: int, seeds: Sequence[int]
) -> np.ndarray:
    """Per-seed importance of each parameter: shape ``(len(seeds), n_params)``."""
    out = np.zeros((len(seeds), n_params))
    if x.shape[1] == 0 or np.ptp(y) == 0:
        return out
    # Importances are ratios of impurity decreases, so rescaling the target changes
    # nothing but keeps squared errors of huge metrics finite.
    target = y / np.abs(y).max()
    target = target - target.mean()
    max_samples = _MAX_SAMPLES if len(y) > _MAX_SAMPLES else None
    # The forest works in float32; rescale each column to [0, 1] first (trees only compare
    # values within a column, so this changes no split, but keeps 1e39 from becoming inf).
    low, high = x.min(axis=0), x.max(axis=0)
    width = (high / 2 - low / 2) * 2
    x = np.where(width > 0, (x / 2 - low / 2) / np.where(width > 0, width / 2, 1.0), 0.0)
    for i, seed in enumerate(seeds):
        forest = RandomForestRegressor(
            n_estimators=_N_ESTIMATORS,
            max_depth=_MAX_DEPTH,
            max_samples=max_samples,
            random_state=seed,
            n_jobs=1,
        )
        forest.fit(x, target)
        per_column = np.nan_to_num(forest.feature_importances_, nan=0.0)
        np.add.at(out[i], owners, per_column)
    return out


# Public ------------------------------------------------------------------------------------


def build_importance_data(
    runs: Iterable[RunRecord],
    space: Space,
    metric_name: str,
    goal: str,
    *,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
) -> ImportanceData:
    """Compute the importance and correlation of every parameter with the metric.

    Parameters
    ----------
    runs
        Runs of one sweep. Only finished or stopped runs with a finite metric value are
        used; the others are counted in :attr:`ImportanceData.notes`.
    space
        The sweep's parameters.
    metric_name
        Name of the sweep metric (for messages and titles).
    goal
        ``minimize`` or ``maximize``.
    seeds
        One random forest is fitted per seed; the mean is reported with its spread.

    Returns
    -------
    ImportanceData
        Empty, with a message, below 3 usable runs.

    Examples
    --------
    >>> from nbsweep.analysis._best import _example_run
    >>> space = Space({"x": {"distribution": "uniform", "min": 0.0, "max": 1.0},
    ...                "c": {"distribution": "constant", "value": 7}})
    >>> runs = [_example_run(str(i), seq=i, metric_value=i * 0.1, config={"x": i / 9, "c": 7})
    ...         for i in range(10)]
    >>> data = build_importance_data(runs, space, "loss", "minimize")
    >>> [(p.name, round(p.importance, 2), p.correlation and round(p.correlation, 3))
    ...  for p in data.params]
    [('x', 1.0, 1.0), ('c', 0.0, None)]
    """
    if goal not in ("minimize", "maximize"):
        raise ValueError(f"goal must be 'minimize' or 'maximize', not {goal!r}")
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    started = time.perf_counter()

    used: list[RunRecord] = []
    failed = unfinished = nonfinite = no_metric = 0
    for run in runs:
        if run.state in ("failed", "crashed"):
            failed += 1
        elif run.state not in USABLE_STATES:
            unfinished += 1
        elif finite_metric(run) is not None:
            used.append(run)
        elif run.metric_count > 0 or run.metric_value is not None:
            nonfinite += 1
        else:
            no_metric += 1

    notes = []
    left_out = [
        (failed, "failed or crashed run", None),
        (unfinished, "unfinished run", None),
        (
            nonfinite,
            f"run whose {metric_name} was only NaN or inf",
            f"runs whose {metric_name} was only NaN or inf",
        ),
        (
            no_metric,
            f"run that never logged {metric_name}",
            f"runs that never logged {metric_name}",
        ),
    ]
    parts = [_plural(count, one, many) for count, one, many in left_out if count]
    if parts:
        notes.append("Left out: " + ", ".join(parts) + ".")
    method = (
        f"random-forest impurity importance ({_N_ESTIMATORS} trees, max depth {_MAX_DEPTH}, "
        f"at most {_MAX_SAMPLES} runs per tree), mean over {_plural(len(seeds), 'seed')}"
    )

    def result(params: tuple[ParamImportance, ...], message: str | None) -> ImportanceData:
        return ImportanceData(
            metric_name,
            goal,
            params,
            len(used),
            failed,
            unfinished,
            nonfinite,
            no_metric,
            message,
            tuple(notes),
            seeds,
            method,
        )

    if len(used) < MIN_RUNS:
        message = (
            f"need at least {MIN_RUNS} finished runs with a finite {metric_name}; have {len(used)}"
        )
        return result((), message)
    if not space.params:
        return result((), "the sweep has no parameters")

    y = np.array([finite_metric(run) for run in used], dtype=float)
    flats = [space.flatten(run.config) if isinstance(run.config, dict) else {} for run in used]
    encoded = [_encode(param, flats, y) for param in space.params]

    blocks = [e.columns for e in encoded]
    owners = np.concatenate([np.full(b.shape[1], i) for i, b in enumerate(blocks)]).astype(int)
    x = np.hstack(blocks) if owners.size else np.empty((len(used), 0))
    per_seed = _forest_importances(x, y, owners, len(space.params), seeds)
    if np.ptp(y) == 0:
        notes.append(f"{metric_name} is the same in every run used; nothing to explain.")
    elif x.shape[1] == 0:
        notes.append("No parameter varies among the runs used.")

    entries = [
        ParamImportance(
            name=param.name,
            importance=float(per_seed[:, i].mean()),
            importance_std=float(per_seed[:, i].std()),
            importance_min=float(per_seed[:, i].min()),
            importance_max=float(per_seed[:, i].max()),
            correlation=e.correlation,
            level_correlations=e.levels,
            encoding=e.encoding,
            n_runs=e.n_runs,
            note=e.note,
        )
        for i, (param, e) in enumerate(zip(space.params, encoded, strict=True))
    ]
    order = sorted(range(len(entries)), key=lambda i: (-entries[i].importance, i))
    logger.debug(
        "importance of %d parameters over %d runs in %.2f s",
        len(entries),
        len(used),
        time.perf_counter() - started,
    )
    return result(tuple(entries[i] for i in order), None)
