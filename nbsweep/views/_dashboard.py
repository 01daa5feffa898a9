"""The live dashboard: parallel coordinates, importance, runs table and curves in one widget.

Python keeps every run of the sweep as columns in data units (:class:`RunColumns`), read from
the store incrementally (only runs changed since the last read), and ships them to the page
as binary typed arrays; the page only decodes and draws. One publisher thread per dashboard
does all the sending, at most ten times a second, woken by the agent's events and otherwise
polling the store once a second, so runs added by other processes show up too.

Messages (anywidget custom messages: JSON content plus binary buffers, little-endian)

Python to page

``rows``
    ``{"type": "rows", "seq": int, "reset": bool, "n": int, "new_from": int,
    "new_ids": [str, ...], "columns": [str, ...], "time": float, "axes_version": int}``
    and one buffer per name in ``columns``, each with one entry per run carried:
    ``row`` (Uint32 row index), ``state`` (Uint8, :data:`STATE_CODES`), ``metric``
    (Float64, NaN without a finite value), ``nonfinite`` (Uint8, 1 when the metric was
    logged only as NaN or inf), ``started`` and ``finished`` (Float64 epoch seconds, NaN when
    unknown), then ``param:<axis key>`` per parameter axis (Float64 in data units; the
    category's code for categorical axes; NaN where the run has no usable value). ``seq``
    grows by one per ``rows`` message; ``reset`` marks a full snapshot; rows from
    ``new_from`` to ``n - 1`` are new and ``new_ids`` holds their ids, in order.
``curves``
    ``{"type": "curves", "request": id, "series": [{"run", "key", "n", "thinned"}, ...]}``
    with two Float64 buffers per series, steps then values.
``run_detail``
    ``{"type": "run_detail", "request": id, "run", "state", "output", "output_truncated",
    "error", "stop_reason", "config", "summary"}`` (``missing`` set instead when the run is
    not in the store).

Page to Python

``{"type": "snapshot"}`` (sent when a view renders), ``{"type": "curves", "request": id,
"runs": [...], "keys": [...]}``, ``{"type": "run_detail", "request": id, "run": id}`` and
``{"type": "stop"}``.

Everything else travels as small synced traits: ``axes``, ``metric``, ``header``,
``importance``, ``brush``, ``selected``, ``curve_keys`` and ``logged_keys``.
"""

from __future__ import annotations

import base64
import contextlib
import difflib
import io
import logging
import math
import numbers
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets

from nbsweep._sweep import Sweep, SweepStateError
from nbsweep.agent import AgentHandle, AgentProgress
from nbsweep.analysis._best import USABLE_STATES, finite_metric, format_value
from nbsweep.config import canonical_key
from nbsweep.controller import crash_grace_s
from nbsweep.run._stored import StoredRun
from nbsweep.space import Space
from nbsweep.store import RUN_STATES, RunRecord, SQLiteStore, SweepRecord
from nbsweep.views._data import _bounds, build_parallel_data

__all__ = [
    "STATE_CODES",
    "Dashboard",
    "ImportanceSchedule",
    "RunColumns",
    "brush_mask",
    "importance_json",
    "normalize_brush",
    "rows_message",
]

logger = logging.getLogger(__name__)

_STATIC = Path(__file__).resolve().parent.parent / "static"

# Run state codes of the ``state`` column, in the store's order of states.
STATE_CODES: dict[str, int] = {state: code for code, state in enumerate(RUN_STATES)}
_UNKNOWN_STATE = 255

_MIN_INTERVAL_S = 0.1  # at most ten publishing rounds a second
_POLL_S = 1.0  # store reads when no agent event comes
_IMPORTANCE_INTERVAL_S = 2.0
_CRASH_CHECK_S = 30.0
_MAX_CURVE_RUNS = 24
_MAX_CURVE_KEYS = 6
_MAX_CURVE_POINTS = 5000
_MAX_OUTPUT_CHARS = 100_000
_FALLBACK_MAX_RUNS = 500
_FALLBACK_COLORS = 64

StoreArg = str | os.PathLike[str] | SQLiteStore | None


# Values -----------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    """A JSON-ready copy of a config or summary value; non-finite floats become strings."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return format_value(value)


def _labels(nested: Any, prefix: str = "") -> dict[str, str]:
    """Flat ``{dotted name: label}`` of a config or summary, as the axes write values."""
    if not isinstance(nested, Mapping):
        return {prefix or "value": format_value(nested)}
    out: dict[str, str] = {}
    for key, value in nested.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            out.update(_labels(value, name))
        else:
            out[name] = format_value(value)
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _nan_to_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


# Columns ----------------------------------------------------------------------------------


@dataclass
class _AxisState:
    """What a dashboard axis knows beyond its spec: its levels or its running domain."""

    key: str
    name: str
    kind: str
    is_metric: bool
    integer: bool
    levels: list[Any]
    level_index: dict[str, int]
    domain: list[float] | None
    code_cache: dict[tuple[type, Any], int] = field(default_factory=dict)

    def code(self, value: Any) -> tuple[int, bool]:
        """The code of a category value, adding it at the end when new; True when added."""
        try:
            # canonical_key is exact but slow; a cache by type and value is not (2 and 2.0
            # are two entries of one code, True and 1 two codes).
            return self.code_cache[(type(value), value)], False
        except (KeyError, TypeError):
            pass
        key = canonical_key(value)
        code = self.level_index.get(key)
        added = code is None
        if code is None:
            code = self.level_index[key] = len(self.levels)
            self.levels.append(value)
        with contextlib.suppress(TypeError):  # lists and dicts are not hashable
            self.code_cache[(type(value), value)] = code
        return code, added

    def spec(self) -> dict[str, Any]:
        categorical = self.kind == "categorical"
        constant = (
            len(self.levels) <= 1
            if categorical
            else self.domain is not None and self.domain[0] == self.domain[1]
        )
        return {
            "key": self.key,
            "name": self.name,
            "kind": self.kind,
            "is_metric": self.is_metric,
            "integer": self.integer,
            "constant": constant,
            "domain": None if categorical or self.domain is None else list(self.domain),
            "categories": (
                [{"value": _jsonable(v), "label": format_value(v)} for v in self.levels]
                if categorical
                else None
            ),
        }


class RunColumns:
    """Every run of one sweep as columns in data units, kept up to date by incremental reads.

    Rows are in the order runs were first seen (claim order). Parameter columns hold the
    value itself for numeric axes (NaN when missing or unusable, e.g. not positive on a log
    axis) and the category's code for categorical axes; categories only ever grow, at the
    end, so a code never changes meaning. Axes start from
    :func:`~nbsweep.views.build_parallel_data` (kinds, domains, category order).

    Parameters
    ----------
    space
        The sweep's parameters.
    metric_name, goal
        The sweep's metric (None when it has none) and whether smaller or larger is better.
    records
        Runs already in the store.

    Examples
    --------
    >>> from nbsweep.analysis._best import _example_run
    >>> space = Space({"opt": {"distribution": "categorical", "values": ["adam", "sgd"]}})
    >>> columns = RunColumns(space, "loss", "minimize", [_example_run("a", config={"opt": "sgd"})])
    >>> columns.n, columns.column("opt").tolist(), columns.axes[0]["categories"][1]["label"]
    (1, [1.0], 'sgd')
    """

    def __init__(
        self,
        space: Space,
        metric_name: str | None,
        goal: str,
        records: Iterable[RunRecord] = (),
    ) -> None:
        records = list(records)
        self.space = space
        self.metric_name = metric_name
        self.goal = goal
        self.ids: list[str] = []
        self.records: list[RunRecord] = []
        self.last_rev = 0
        self.axes_version = 0
        self.logged_keys: set[str] = set()
        self._row: dict[str, int] = {}
        self._params = list(space.params)
        self._capacity = 0
        self.state = np.zeros(0, dtype=np.uint8)
        self.metric = np.zeros(0)
        self.nonfinite = np.zeros(0, dtype=np.uint8)
        self.started = np.zeros(0)
        self.finished = np.zeros(0)
        self.params = np.zeros((0, len(self._params)))
        self._axes = self._initial_axes(records)
        self._specs = [axis.spec() for axis in self._axes]
        self.ingest(records)

    # Axes -------------------------------------------------------------------------------

    def _initial_axes(self, records: list[RunRecord]) -> list[_AxisState]:
        # The axes of the config alone; ingesting the runs then grows them exactly as the
        # figures' axes are built from the runs (domains widened to the values seen,
        # categories seen in runs but not in the config appended in claim order).
        data = build_parallel_data([], self.space, self.metric_name, self.goal)
        names = {p.name for p in self._params}
        axes = []
        for axis, param in zip(data.axes, self._params, strict=False):
            distribution = param.distribution
            integer = distribution.name == "int_uniform" or bool(
                getattr(distribution, "integer", False)
            )
            domain = None if axis.domain is None else [*axis.domain]
            if records and _bounds(param) is None and not distribution.is_constant:
                domain = None  # unbounded: the values seen make the domain, not quantiles
            levels = list(axis.values)
            axes.append(
                _AxisState(
                    key=param.name,
                    name=param.name,
                    kind=axis.kind,
                    is_metric=False,
                    integer=integer,
                    levels=levels,
                    level_index={canonical_key(v): i for i, v in enumerate(levels)},
                    domain=domain,
                )
            )
        if self.metric_name is not None:
            key = self.metric_name
            while key in names:  # a parameter of the same name keeps the plain key
                key = f"metric.{key}"
            axes.append(
                _AxisState(
                    key=key,
                    name=self.metric_name,
                    kind="linear",
                    is_metric=True,
                    integer=False,
                    levels=[],
                    level_index={},
                    domain=None,
                )
            )
        return axes

    @property
    def axes(self) -> list[dict[str, Any]]:
        """Axis specs (JSON-ready): parameters in W&B order, then the metric."""
        return self._specs

    @property
    def metric_key(self) -> str | None:
        """The metric axis's key (its name, unless a parameter has that name)."""
        last = self._axes[-1] if self._axes else None
        return last.key if last is not None and last.is_metric else None

    @property
    def n(self) -> int:
        """Number of runs."""
        return len(self.ids)

    def column(self, key: str) -> np.ndarray:
        """One axis's column in data units (the metric's by its key), a view of ``n`` rows."""
        if key == self.metric_key:
            return self.metric[: self.n]
        for j, axis in enumerate(self._axes):
            if axis.key == key and not axis.is_metric:
                return self.params[: self.n, j]
        raise KeyError(key)

    def columns(self) -> dict[str, np.ndarray]:
        """Every axis's column by key."""
        return {axis["key"]: self.column(axis["key"]) for axis in self._specs}

    # Rows -------------------------------------------------------------------------------

    def _grow(self, need: int) -> None:
        if need <= self._capacity:
            return
        capacity = max(64, self._capacity * 2, need)

        def grown(array: np.ndarray, fill: float) -> np.ndarray:
            out = np.full((capacity, *array.shape[1:]), fill, dtype=array.dtype)
            out[: len(array)] = array
            return out

        self.state = grown(self.state, _UNKNOWN_STATE)
        self.metric = grown(self.metric, math.nan)
        self.nonfinite = grown(self.nonfinite, 0)
        self.started = grown(self.started, math.nan)
        self.finished = grown(self.finished, math.nan)
        self.params = grown(self.params, math.nan)
        self._capacity = capacity

    def ingest(self, records: Iterable[RunRecord]) -> list[int]:
        """Take new or changed runs; return the changed rows, in order.

        New runs get the next rows. Axes grow when a run brings a new category or a value
        outside a numeric domain (``axes_version`` then goes up).
        """
        changed: set[int] = set()
        specs_before = self.axes_version
        dirty_axes = False
        for record in records:
            row = self._row.get(record.id)
            if row is None:
                row = self.n
                self._grow(row + 1)
                self._row[record.id] = row
                self.ids.append(record.id)
                self.records.append(record)
            self.records[row] = record
            dirty_axes |= self._fill(row, record)
            changed.add(row)
            self.last_rev = max(self.last_rev, record.rev)
        if dirty_axes:
            self._specs = [axis.spec() for axis in self._axes]
            self.axes_version = specs_before + 1
        return sorted(changed)

    def _fill(self, row: int, record: RunRecord) -> bool:
        """Write one run's row; True when an axis grew."""
        self.state[row] = STATE_CODES.get(record.state, _UNKNOWN_STATE)
        value = finite_metric(record) if self.metric_name is not None else None
        self.metric[row] = math.nan if value is None else value
        self.nonfinite[row] = (
            self.metric_name is not None
            and value is None
            and (record.metric_is_nonfinite or record.metric_value is not None)
        )
        self.started[row] = math.nan if record.started_at is None else record.started_at
        self.finished[row] = math.nan if record.finished_at is None else record.finished_at
        for key, logged in record.summary.items():
            numeric = isinstance(logged, int | float) and not isinstance(logged, bool)
            if numeric and not key.startswith("_"):
                self.logged_keys.add(key)
        flat = self.space.flatten(record.config) if isinstance(record.config, dict) else {}
        grew = False
        for j, (param, axis) in enumerate(zip(self._params, self._axes, strict=False)):
            if param.name not in flat:
                self.params[row, j] = math.nan
                continue
            raw = flat[param.name]
            if axis.kind == "categorical":
                code, added = axis.code(raw)
                grew |= added
                self.params[row, j] = code
            elif _is_number(raw) and (axis.kind != "log" or raw > 0):
                number = float(raw)
                self.params[row, j] = number
                grew |= _extend(axis, number)
            else:
                self.params[row, j] = math.nan
        if value is not None and self._axes and self._axes[-1].is_metric:
            grew |= _extend(self._axes[-1], value)
        return grew

    # Summaries --------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """How many runs are in each state."""
        codes = np.bincount(self.state[: self.n], minlength=256)
        return {state: int(codes[code]) for state, code in STATE_CODES.items()}

    def best(self) -> tuple[float, str] | None:
        """The best finite metric of a finished or stopped run, and that run's id."""
        if self.metric_name is None or not self.n:
            return None
        usable = np.isin(self.state[: self.n], [STATE_CODES[s] for s in USABLE_STATES])
        values = np.where(usable, self.metric[: self.n], np.nan)
        if np.isnan(values).all():
            return None
        row = int(np.nanargmin(values) if self.goal == "minimize" else np.nanargmax(values))
        return float(values[row]), self.ids[row]

    def last_error(self) -> dict[str, str] | None:
        """The most recently ended failed run and the first line of its error."""
        failed = np.flatnonzero(self.state[: self.n] == STATE_CODES["failed"])
        if not failed.size:
            return None
        ends = np.nan_to_num(self.finished[failed], nan=-math.inf)
        record = self.records[int(failed[int(np.argmax(ends))])]
        return {"run_id": record.id, "head": record.error_summary or "failed"}


def _extend(axis: _AxisState, value: float) -> bool:
    if axis.domain is None:
        axis.domain = [value, value]
        return True
    if value < axis.domain[0]:
        axis.domain[0] = value
        return True
    if value > axis.domain[1]:
        axis.domain[1] = value
        return True
    return False


# Messages ---------------------------------------------------------------------------------

_FIXED_COLUMNS = ("row", "state", "metric", "nonfinite", "started", "finished")


def rows_message(
    columns: RunColumns,
    rows: Iterable[int],
    *,
    known: int,
    seq: int,
    reset: bool,
    now: float,
) -> tuple[dict[str, Any], list[bytes]]:
    """The ``rows`` message carrying some rows (a delta) or all of them (``reset``).

    Parameters
    ----------
    columns
        The runs.
    rows
        Rows that changed; ignored with ``reset``. Rows from ``known`` on must be included.
    known
        How many rows the page has already (0 with ``reset``).
    seq
        This message's sequence number.
    reset, now
        Whether this is a full snapshot, and the kernel's clock (epoch seconds).

    Returns
    -------
    tuple
        The JSON content and the buffers, one per name in ``content["columns"]``.

    Examples
    --------
    >>> from nbsweep.analysis._best import _example_run
    >>> space = Space({"x": {"distribution": "uniform", "min": 0.0, "max": 1.0}})
    >>> columns = RunColumns(space, "loss", "minimize", [_example_run("a", config={"x": 0.5})])
    >>> content, buffers = rows_message(columns, [0], known=0, seq=1, reset=False, now=0.0)
    >>> content["new_ids"], content["columns"][-1], np.frombuffer(buffers[-1]).tolist()
    (['a'], 'param:x', [0.5])
    """
    n = columns.n
    if reset:
        known = 0
        chosen = np.arange(n, dtype=np.uint32)
    else:
        chosen = np.array(sorted(set(rows) | set(range(known, n))), dtype=np.uint32)
    param_keys = [axis["key"] for axis in columns.axes if not axis["is_metric"]]
    content = {
        "type": "rows",
        "seq": seq,
        "reset": reset,
        "n": n,
        "new_from": known,
        "new_ids": columns.ids[known:n],
        "columns": [*_FIXED_COLUMNS, *(f"param:{key}" for key in param_keys)],
        "time": now,
        "axes_version": columns.axes_version,
    }
    index = chosen.astype(np.intp)
    buffers = [
        chosen.astype("<u4").tobytes(),
        columns.state[index].astype(np.uint8).tobytes(),
        columns.metric[index].astype("<f8").tobytes(),
        columns.nonfinite[index].astype(np.uint8).tobytes(),
        columns.started[index].astype("<f8").tobytes(),
        columns.finished[index].astype("<f8").tobytes(),
        *(columns.params[index, j].astype("<f8").tobytes() for j in range(len(param_keys))),
    ]
    return content, buffers


def importance_json(data: Any) -> dict[str, Any]:
    """The ``importance`` trait's value for an :class:`~nbsweep.analysis.ImportanceData`.

    Examples
    --------
    >>> from nbsweep.analysis import build_importance_data
    >>> space = Space({"x": {"distribution": "uniform", "min": 0.0, "max": 1.0}})
    >>> importance_json(build_importance_data([], space, "loss", "minimize"))["message"]
    'need at least 3 finished runs with a finite loss; have 0'
    """
    return {
        "pending": False,
        "metric": data.metric_name,
        "goal": data.goal,
        "n_runs": data.n_runs,
        "message": data.message,
        "notes": list(data.notes),
        "method": data.method,
        "seeds": list(data.seeds),
        "params": [
            {
                "name": p.name,
                "importance": p.importance,
                "std": p.importance_std,
                "min": p.importance_min,
                "max": p.importance_max,
                "correlation": p.correlation,
                "encoding": p.encoding,
                "n_runs": p.n_runs,
                "note": p.note,
                "levels": [
                    {
                        "label": level.label,
                        "correlation": level.correlation,
                        "n_runs": level.n_runs,
                    }
                    for level in p.level_correlations
                ],
            }
            for p in data.params
        ],
    }


# Brushes ----------------------------------------------------------------------------------


def _finite(value: Any) -> float | None:
    """``value`` as a finite float, or None (numpy numbers count; huge ints do not fit)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _category_key(value: Any, levels: Mapping[str, Any]) -> str:
    """The canonical key of the category ``value`` names.

    The page sends numbers back through JSON, where ``1e20`` arrives as the integer
    100000000000000000000 and ints past 2**53 arrive rounded; such a number names the
    category whose value it equals as a float.
    """
    key = canonical_key(value)
    if key in levels or isinstance(value, bool) or not isinstance(value, numbers.Real):
        return key
    for level_key, level in levels.items():
        if isinstance(level, numbers.Real) and not isinstance(level, bool):
            with contextlib.suppress(OverflowError):
                if float(level) == float(value):
                    return level_key
    return key


def normalize_brush(axes: Sequence[Mapping[str, Any]], brush: Mapping[str, Any]) -> dict[str, Any]:
    """Check a brush against the axes and return it in its stored form.

    Numeric axes take ``[low, high]`` in data units (swapped when reversed); categorical axes
    take a list of category values, each one of the axis's categories (``2`` and ``2.0``
    are the same category, ``True`` and ``1`` are not).

    Raises
    ------
    ValueError
        Naming the axis and what it accepts.

    Examples
    --------
    >>> axes = [{"key": "lr", "kind": "log"},
    ...         {"key": "opt", "kind": "categorical",
    ...          "categories": [{"value": "adam", "label": "adam"}]}]
    >>> normalize_brush(axes, {"lr": [0.1, 0.001], "opt": ["adam"]})
    {'lr': [0.001, 0.1], 'opt': ['adam']}
    """
    by_key = {axis["key"]: axis for axis in axes}
    out: dict[str, Any] = {}
    for key, chosen in brush.items():
        axis = by_key.get(key)
        if axis is None:
            close = difflib.get_close_matches(str(key), list(by_key), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"brush: no axis {key!r}{hint} (axes: {', '.join(by_key)})")
        if not isinstance(chosen, list | tuple):
            raise ValueError(f"brush[{key!r}]: expected a list, got {chosen!r}")
        if axis["kind"] == "categorical":
            levels = {canonical_key(c["value"]): c["value"] for c in axis["categories"] or []}
            picked: dict[str, Any] = {}  # by canonical key: True and 1 stay apart
            for value in chosen:
                canonical = _category_key(value, levels)
                if canonical not in levels:
                    known = ", ".join(format_value(v) for v in levels.values())
                    raise ValueError(f"brush[{key!r}]: {value!r} is not a category ({known})")
                picked.setdefault(canonical, levels[canonical])
            out[key] = list(picked.values())
        else:
            bounds = [_finite(v) for v in chosen] if len(chosen) == 2 else [None]
            if None in bounds:
                raise ValueError(
                    f"brush[{key!r}]: expected [low, high] as two finite numbers, got {chosen!r}"
                )
            low, high = sorted(bounds)  # type: ignore[type-var]
            out[key] = [low, high]
    return out


def brush_mask(
    axes: Sequence[Mapping[str, Any]],
    columns: Mapping[str, np.ndarray],
    brush: Mapping[str, Any],
) -> np.ndarray:
    """Which runs are inside every brushed range: the one rule that the page applies too.

    A numeric axis keeps values in ``[low, high]``, ends included; a categorical axis keeps
    the listed categories (an empty list keeps none). A run without a value on a brushed
    axis (NaN) is out. Brushes on axes that do not exist are ignored.

    Parameters
    ----------
    axes
        Axis specs (``key``, ``kind``, ``categories``).
    columns
        Each axis's column in data units (category codes for categorical axes), by key.
    brush
        Axis key to ``[low, high]`` or to a list of category values.

    Returns
    -------
    numpy.ndarray
        One boolean per run.

    Examples
    --------
    >>> axes = [{"key": "x", "kind": "linear"}]
    >>> brush_mask(axes, {"x": np.array([0.1, 0.5, np.nan])}, {"x": [0.0, 0.5]}).tolist()
    [True, True, False]
    """
    lengths = {len(column) for column in columns.values()}
    n = lengths.pop() if lengths else 0
    mask = np.ones(n, dtype=bool)
    by_key = {axis["key"]: axis for axis in axes}
    for key, chosen in brush.items():
        axis = by_key.get(key)
        if axis is None or key not in columns:
            continue
        column = np.asarray(columns[key], dtype=float)
        if axis["kind"] == "categorical":
            wanted = {canonical_key(v) for v in chosen}
            codes = [
                i
                for i, category in enumerate(axis.get("categories") or [])
                if canonical_key(category["value"]) in wanted
            ]
            mask &= np.isin(column, codes)
        else:
            low, high = sorted(float(v) for v in chosen)
            with np.errstate(invalid="ignore"):
                mask &= (column >= low) & (column <= high)
    return mask


# Importance schedule ----------------------------------------------------------------------


class ImportanceSchedule:
    """When to recompute importance: when the finished count changed, at most every interval.

    Examples
    --------
    >>> schedule = ImportanceSchedule(interval=2.0)
    >>> schedule.due(3, now=0.0)
    True
    >>> schedule.start(3, now=0.0); schedule.due(4, now=1.0)
    False
    >>> schedule.finish(); schedule.due(4, now=1.0), schedule.due(4, now=2.0)
    (False, True)
    """

    def __init__(self, interval: float = _IMPORTANCE_INTERVAL_S) -> None:
        self.interval = interval
        self.running = False
        self._done: int | None = None
        self._pending: int | None = None
        self._last_start = -math.inf

    def due(self, finished: int, now: float) -> bool:
        """True when a computation should start now for this many finished runs."""
        return (
            not self.running and finished != self._done and now - self._last_start >= self.interval
        )

    def start(self, finished: int, now: float) -> None:
        """Note that a computation for ``finished`` runs started at ``now``."""
        self.running = True
        self._pending = finished
        self._last_start = now

    def finish(self) -> None:
        """Note that the running computation ended."""
        self.running = False
        self._done = self._pending


# Header -----------------------------------------------------------------------------------


def _header(
    columns: RunColumns,
    sweep: SweepRecord,
    space: Space,
    *,
    progress: AgentProgress | None,
    notices: Sequence[str],
    stop_requested: bool,
) -> dict[str, Any]:
    counts = columns.counts()
    ended = columns.n - counts["running"]
    total: tuple[int, str] | None = None
    if progress is not None and progress.count is not None:
        total = (progress.count, "agent count")
        done = progress.finished + progress.failed + progress.stopped
    elif sweep.run_cap is not None:
        total, done = (sweep.run_cap, "run_cap"), columns.n - counts["running"]
    else:
        if sweep.method == "grid":
            with contextlib.suppress(Exception):
                total = (space.grid_size(), "grid")
        done = ended
    best = columns.best()
    agent = None
    if progress is not None:
        agent = {
            "state": progress.state,
            "message": progress.message,
            "started": progress.started,
            "finished": progress.finished,
            "failed": progress.failed,
            "stopped": progress.stopped,
            "count": progress.count,
            "current_run": progress.current_run,
        }
    if progress is not None:
        mode, enabled = "agent", progress.state == "running"
    else:
        mode, enabled = "sweep", sweep.state in ("RUNNING", "PAUSED")
    return {
        "sweep_id": sweep.id,
        "sweep_state": sweep.state,
        "sweep_reason": sweep.state_reason,
        "metric": columns.metric_name,
        "goal": columns.goal,
        "runs": columns.n,
        "finished": counts["finished"],
        "running": counts["running"],
        "failed": counts["failed"] + counts["crashed"],
        "crashed": counts["crashed"],
        "stopped": counts["stopped"],
        "progress": None if total is None else {"done": done, "total": total[0], "of": total[1]},
        "best": None
        if best is None
        else {"value": best[0], "label": format_value(best[0]), "run_id": best[1]},
        "agent": agent,
        "notices": list(notices),
        "last_error": columns.last_error(),
        "stop": {
            "mode": mode,
            "enabled": enabled and not stop_requested,
            "requested": stop_requested,
        },
    }


# The widget -------------------------------------------------------------------------------


class _Publisher:
    """The dashboard's one sending thread: a round per wake-up, at most ten a second.

    ``round_`` returns whether it did its work (read the store); ``rounds`` counts those, not
    the wake-ups that found nobody looking.
    """

    def __init__(
        self, round_: Callable[[], bool], idle: Callable[[], bool] = lambda: False
    ) -> None:
        self._round = round_
        self._idle = idle
        self._wake = threading.Event()
        self._closed = threading.Event()
        self.rounds = 0
        self._thread = threading.Thread(target=self._loop, name="nbsweep-dashboard", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def wake(self) -> None:
        self._wake.set()

    def close(self, timeout: float = 5.0) -> None:
        self._closed.set()
        self._wake.set()
        if threading.current_thread() is not self._thread and self._thread.ident is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        failures = 0
        while not self._closed.is_set():
            started = time.monotonic()
            try:
                if self._round():
                    self.rounds += 1
                failures = 0
            except Exception:
                failures += 1
                if failures == 1:
                    logger.exception("the nbsweep dashboard could not update")
            # Never more than ten rounds a second, however often the agent wakes us.
            rest = _MIN_INTERVAL_S - (time.monotonic() - started)
            if rest > 0 and self._closed.wait(rest):
                return
            # While nobody looks, sleep until something wakes us (a view, the agent).
            self._wake.wait(None if self._idle() else _POLL_S * min(failures + 1, 30))
            self._wake.clear()


class Dashboard(anywidget.AnyWidget):
    """A live view of one sweep: header, parallel coordinates, importance, runs and curves.

    It reads the store, so it works for any stored sweep (also after a kernel restart) and
    follows runs that agents in other processes add. With an agent ``handle`` its header
    shows the agent's progress and its stop button stops that agent; without one the button
    stops the sweep (after a confirmation in the page).

    Parameters
    ----------
    sweep_id
        The sweep to show.
    store
        The store (a path, a store, or None for the default).
    handle
        An agent of this sweep, from :func:`nbsweep.agent`.
    static_fallback
        Add a PNG of the parallel-coordinates figure to the cell output, for renderers
        without widgets (nbconvert, GitHub).

    Attributes
    ----------
    brush
        Axis key to ``[low, high]`` in data units (numeric axes) or to a list of category
        values (categorical axes). Set it to draw a brush; brushing in the page sets it.
    selected
        Ids of the selected runs (the table's selection; their curves are drawn).
    curve_keys
        Logged keys drawn in the curves view.

    Examples
    --------
    >>> import tempfile, os, nbsweep
    >>> store = os.path.join(tempfile.mkdtemp(), "d.db")
    >>> sweep_id = nbsweep.sweep({"method": "grid", "metric": {"name": "y"},
    ...                           "parameters": {"x": {"values": [1, 2, 3]}}}, store=store)
    >>> def train():
    ...     run = nbsweep.init()
    ...     run.log({"y": run.config.x})
    >>> _ = nbsweep.agent(sweep_id, function=train, store=store, verbose=False)
    >>> dash = nbsweep.Sweep(sweep_id, store=store).dashboard()
    >>> dash.brush = {"x": [2, 3]}
    >>> sorted(run.config["x"] for run in dash.filtered_runs())
    [2, 3]
    >>> dash.close()
    """

    _esm = _STATIC / "dashboard.js"
    _css = _STATIC / "dashboard.css"

    sweep_id = traitlets.Unicode("").tag(sync=True)
    axes = traitlets.List(traitlets.Dict()).tag(sync=True)
    metric = traitlets.Dict().tag(sync=True)
    header = traitlets.Dict().tag(sync=True)
    importance = traitlets.Dict().tag(sync=True)
    brush = traitlets.Dict().tag(sync=True)
    selected = traitlets.List(traitlets.Unicode()).tag(sync=True)
    curve_keys = traitlets.List(traitlets.Unicode()).tag(sync=True)
    logged_keys = traitlets.List(traitlets.Unicode()).tag(sync=True)
    _dashboard_id = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        sweep_id: str,
        *,
        store: StoreArg = None,
        handle: AgentHandle | None = None,
        static_fallback: bool = True,
    ) -> None:
        sweep = Sweep(sweep_id, store=store)
        if handle is not None and handle.sweep_id != sweep_id:
            raise ValueError(f"the agent runs sweep {handle.sweep_id}, not {sweep_id}")
        self._sweep = sweep
        self._store = sweep.store
        self._handle = handle
        self._static_fallback = static_fallback
        self._lock = threading.RLock()
        self._requests: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._columns = RunColumns(
            sweep.space,
            sweep.config.metric_name,
            sweep.config.goal,
            self._store.sweep_runs(sweep_id),
        )
        self._dirty: set[int] = set()
        self._seq = 0
        self._known = 0
        self._sent_axes = self._columns.axes_version
        self._schedule = ImportanceSchedule()
        self._importance_result: dict[str, Any] | None = None
        self._importance_rounds = 0
        self._stop_requested = False
        self._last_crash_check = -math.inf
        self._agent_ended = False
        self._display_handle: Any = None
        metric_key = self._columns.metric_key
        super().__init__(
            sweep_id=sweep_id,
            axes=self._columns.axes,
            metric={
                "name": sweep.config.metric_name,
                "goal": sweep.config.goal,
                "key": metric_key,
            },
            importance={"pending": True, "params": [], "message": None, "notes": []},
            curve_keys=[sweep.config.metric_name] if sweep.config.metric_name else [],
            logged_keys=self._logged_keys(),
            _dashboard_id=uuid.uuid4().hex,
            # Ask the page to count this widget's views: a dashboard whose cell was cleared
            # or run again has none, and stops reading the store until one appears.
            _view_count=0,
        )
        self._ever_viewed = False
        self.observe(self._on_view_count, names="_view_count")
        with self._lock:
            self.header = self._make_header()
        self.on_msg(self._on_message)
        self._publisher = _Publisher(self._round, idle=self._unseen)
        if handle is not None:
            handle.subscribe(self._on_agent_event)
        self._publisher.start()

    def __repr__(self) -> str:
        return f"<nbsweep.Dashboard sweep={self.sweep_id} runs={self._columns.n}>"

    # Public -----------------------------------------------------------------------------

    @traitlets.validate("brush")
    def _check_brush(self, proposal: Any) -> dict[str, Any]:
        try:
            return normalize_brush(self.axes, proposal["value"])
        except ValueError as err:
            raise traitlets.TraitError(str(err)) from None

    def filtered_runs(self) -> list[StoredRun]:
        """The runs inside the current brush (all runs when nothing is brushed), in claim order.

        Numeric ranges include their ends, categorical brushes keep the listed categories,
        and a run without a value on a brushed axis is out, as in the page.
        """
        self._pull()
        with self._lock:
            mask = brush_mask(self._columns.axes, self._columns.columns(), self.brush)
            records = [self._columns.records[int(i)] for i in np.flatnonzero(mask)]
        return [StoredRun(self._store, record) for record in records]

    def show(self) -> None:
        """Display the dashboard under the current cell, keeping a handle on that output.

        With an agent, the output's static picture is redrawn once when the agent ends, so a
        notebook saved afterwards shows the final state where widgets do not render.
        """
        from IPython.display import display

        self._display_handle = display(self, display_id=True)  # type: ignore[no-untyped-call]

    def close(self) -> None:
        """Stop following the store and close the widget (its views disappear)."""
        publisher = getattr(self, "_publisher", None)
        if publisher is not None:
            publisher.close()
        super().close()

    # Mime bundle ------------------------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)
        if not self._static_fallback or bundle is None:
            return bundle
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        try:
            data = {**data, "image/png": self._fallback_png()}
        except Exception:
            logger.exception("could not draw the dashboard's static picture")
        return data, metadata

    def _fallback_png(self) -> str:
        # Limitation: the picture is the parallel-coordinates figure only (no importance,
        # table or brush), drawn when the output is displayed and redrawn once when the agent
        # ends; a sweep changed later by other processes keeps the older picture.
        from nbsweep.views._static import plot_parallel_coordinates

        with self._lock:
            records = list(self._columns.records)
            best = self._columns.best()
        total = len(records)
        if total > _FALLBACK_MAX_RUNS:
            # Limitation: above this many runs the picture shows an even sample of them
            # (the best run always among them), so that drawing it stays under a second.
            stride = math.ceil(total / _FALLBACK_MAX_RUNS)
            kept = records[::stride]
            if best is not None and all(r.id != best[1] for r in kept):
                kept.append(next(r for r in records if r.id == best[1]))
            records = kept
        config = self._sweep.config
        data = build_parallel_data(records, self._sweep.space, config.metric_name, config.goal)
        figure = plot_parallel_coordinates(data, collected=True)
        if len(records) < total:
            title = f"{len(records)} of {total} runs (an even sample)"
            if config.metric_name is not None:
                title += f", coloured by {config.metric_name}"
            figure.axes[0].set_title(title, fontsize=10)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=72)
        with contextlib.suppress(ImportError):
            # A palette of 64 colours keeps the picture about a fifth of its RGBA size, which
            # matters because it is saved in the notebook.
            from PIL import Image

            buffer.seek(0)
            image = (
                Image.open(buffer)
                .convert("RGB")
                .quantize(colors=_FALLBACK_COLORS, method=Image.Quantize.FASTOCTREE)
            )
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", optimize=True)
        return base64.b64encode(buffer.getvalue()).decode("ascii")

    # Publishing -------------------------------------------------------------------------

    def _on_message(self, _: Any, content: Any, buffers: Any) -> None:
        # Runs on the kernel's main thread: only queue the request; the publisher answers.
        # Limitation: while a cell runs (a foreground agent), the kernel reads no message
        # from the page, so a snapshot request, the stop button and curve requests wait for
        # the cell to end; the first snapshot and the deltas are sent unasked meanwhile.
        if isinstance(content, dict) and content.get("type") in (
            "snapshot",
            "curves",
            "run_detail",
            "stop",
        ):
            self._requests.put(content)
            self._publisher.wake()

    def _on_agent_event(self, _: AgentHandle) -> None:
        self._publisher.wake()

    def _closed(self) -> bool:
        return self.comm is None or bool(getattr(self.comm, "_closed", False))

    def _logged_keys(self) -> list[str]:
        metric = self._columns.metric_name
        keys = sorted(self._columns.logged_keys - {metric})
        return [metric, *keys] if metric in self._columns.logged_keys else keys

    def _pull(self) -> list[int]:
        """Read runs changed since the last read; mark their rows for sending."""
        with self._lock:
            records = self._store.sweep_runs(self.sweep_id, since_rev=self._columns.last_rev)
            changed = self._columns.ingest(records)
            self._dirty.update(changed)
            return changed

    def _make_header(self) -> dict[str, Any]:
        handle = self._handle
        record = self._store.get_sweep(self.sweep_id)
        if handle is None and self._stop_requested and record.state == "RUNNING":
            self._stop_requested = False  # the sweep was resumed: its button works again
        return _header(
            self._columns,
            record,
            self._sweep.space,
            progress=None if handle is None else handle.progress,
            notices=[] if handle is None else handle.notices,
            stop_requested=self._stop_requested,
        )

    def _on_view_count(self, change: Mapping[str, Any]) -> None:
        if change["new"]:
            self._ever_viewed = True
            self._publisher.wake()

    def _unseen(self) -> bool:
        """True once every view of this dashboard is gone (its output cleared or replaced)."""
        return self._ever_viewed and not self._view_count

    def _round(self) -> bool:
        """One publishing round (publisher thread): answer requests, send what changed.

        Returns False when it did nothing: the widget is closed or nobody looks.
        """
        if self._closed():
            self._publisher.close()
            return False
        if self._unseen():
            return False  # nobody looks: no store reads until a view appears again
        requests = []
        while True:
            try:
                requests.append(self._requests.get_nowait())
            except queue.Empty:
                break
        for request in requests:
            if request["type"] == "stop":
                self._stop()
        now = time.monotonic()
        if now - self._last_crash_check >= _CRASH_CHECK_S:
            self._last_crash_check = now
            self._store.mark_crashed_if_any(self.sweep_id, grace_s=crash_grace_s())
        self._pull()
        snapshot = self._seq == 0 or any(r["type"] == "snapshot" for r in requests)
        with self._lock:
            columns = self._columns
            if columns.axes_version != self._sent_axes:
                self._sent_axes = columns.axes_version
                self.axes = columns.axes
            keys = self._logged_keys()
            if keys != self.logged_keys:
                self.logged_keys = keys
            message = None
            if snapshot or self._dirty:
                self._seq += 1
                message = rows_message(
                    columns,
                    self._dirty,
                    known=self._known,
                    seq=self._seq,
                    reset=snapshot,
                    now=time.time(),
                )
                self._dirty.clear()
                self._known = columns.n
            header = self._make_header()
            counts = columns.counts()
            finished = sum(counts[state] for state in USABLE_STATES)
        if message is not None:
            self.send(*message)
        if header != self.header:
            self.header = header
        self._schedule_importance(finished)
        for request in requests:
            if request["type"] == "curves":
                self.send(*self._curves(request))
            elif request["type"] == "run_detail":
                self.send(self._run_detail(request))
        if self._handle is not None and not self._agent_ended and not self._handle.is_alive():
            self._agent_ended = True
            self._refresh_display()
        return True

    def _stop(self) -> None:
        self._stop_requested = True
        if self._handle is not None:
            self._handle.stop()
            return
        try:
            self._sweep.stop()
        except SweepStateError as err:
            logger.info("stop: %s", err)

    def _schedule_importance(self, finished: int) -> None:
        result = self._importance_result
        if result is not None:
            self._importance_result = None
            self._schedule.finish()
            self.importance = result
        if self._columns.metric_name is None:
            if not self.importance.get("message"):
                self.importance = {
                    "pending": False,
                    "params": [],
                    "notes": [],
                    "message": "the sweep has no metric, so there is no importance",
                }
            return
        now = time.monotonic()
        if not self._schedule.due(finished, now):
            return
        self._schedule.start(finished, now)
        with self._lock:
            records = list(self._columns.records)
        threading.Thread(
            target=self._compute_importance,
            args=(records,),
            name="nbsweep-importance",
            daemon=True,
        ).start()

    def _compute_importance(self, records: list[RunRecord]) -> None:
        from nbsweep.analysis import build_importance_data

        config = self._sweep.config
        try:
            data = build_importance_data(
                records, self._sweep.space, str(config.metric_name), config.goal
            )
            result = importance_json(data)
        except Exception as err:
            logger.exception("importance failed")
            result = {"pending": False, "params": [], "notes": [], "message": repr(err)}
        self._importance_rounds += 1
        self._importance_result = result
        self._publisher.wake()

    def _curves(self, request: Mapping[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
        runs = [str(r) for r in request.get("runs", [])][:_MAX_CURVE_RUNS]
        keys = [str(k) for k in request.get("keys", [])][:_MAX_CURVE_KEYS]
        series, buffers = [], []
        for run_id in runs:
            for key in keys:
                points = self._store.metric_history(run_id, key)
                thinned = len(points) > _MAX_CURVE_POINTS
                if thinned:
                    # Limitation: long curves are thinned by taking every k-th point (the
                    # last point always kept), so narrow spikes can vanish.
                    stride = math.ceil(len(points) / _MAX_CURVE_POINTS)
                    last = [points[-1]] if (len(points) - 1) % stride else []
                    points = points[::stride] + last
                array = np.array(points, dtype="<f8").reshape(-1, 2)
                series.append({"run": run_id, "key": key, "n": len(array), "thinned": thinned})
                buffers += [array[:, 0].copy().tobytes(), array[:, 1].copy().tobytes()]
        content = {"type": "curves", "request": request.get("request"), "series": series}
        return content, buffers

    def _run_detail(self, request: Mapping[str, Any]) -> dict[str, Any]:
        run_id = str(request.get("run"))
        content: dict[str, Any] = {
            "type": "run_detail",
            "request": request.get("request"),
            "run": run_id,
        }
        try:
            record = self._store.get_run(run_id)
        except KeyError:
            return {**content, "missing": True}
        output = record.output or ""
        return {
            **content,
            "state": record.state,
            "output": output[-_MAX_OUTPUT_CHARS:],
            "output_truncated": len(output) > _MAX_OUTPUT_CHARS,
            "error": record.error,
            "stop_reason": record.stop_reason,
            "config": _labels(record.config),
            "summary": _labels(record.summary),
        }

    # Limitation: JupyterLab re-renders the widget for the updated output (a new view that
    # asks for a snapshot); the widget manager leaves the old view detached, and the page's
    # views stop drawing once detached.
    def _refresh_display(self) -> None:
        if self._display_handle is None or not self._static_fallback:
            return
        try:
            self._display_handle.update(self)
        except Exception:
            logger.exception("could not refresh the dashboard's static picture")
