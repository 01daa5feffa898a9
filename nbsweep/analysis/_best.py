"""The best run of a sweep and a table of its runs."""

from __future__ import annotations

import csv
import html
import io
import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from nbsweep.space import Space
from nbsweep.store._records import RunRecord

__all__ = [
    "USABLE_STATES",
    "RunsTable",
    "best_run",
    "finite_metric",
    "format_value",
    "runs_table",
]

# Runs in these states ran to an end their function chose (or the sweep chose, for early
# termination); their metric counts. Failed and crashed runs are left out of rankings.
USABLE_STATES = frozenset({"finished", "stopped"})

# A table this long in a notebook cell is unreadable and slow to render; the rest is in
# ``rows`` and in ``to_csv``.
_HTML_MAX_ROWS = 200


def finite_metric(run: RunRecord) -> float | None:
    """Return the run's metric value when it is a finite number, else None.

    Examples
    --------
    >>> finite_metric(_example_run(metric_value=float("nan"))) is None
    True
    """
    value = run.metric_value
    if value is None or isinstance(value, bool):
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def best_run(runs: Iterable[RunRecord], goal: str) -> RunRecord | None:
    """Return the finished or stopped run with the best finite metric value.

    Parameters
    ----------
    runs
        Runs of one sweep, in any order.
    goal
        ``minimize`` or ``maximize``.

    Returns
    -------
    RunRecord or None
        The best run; among equal values the one with the smaller ``seq`` (then the earlier
        ``created_at``). None when no run qualifies.

    Examples
    --------
    >>> runs = [_example_run("a", seq=1, metric_value=0.5),
    ...         _example_run("b", seq=2, metric_value=0.2)]
    >>> best_run(runs, "minimize").id, best_run(runs, "maximize").id
    ('b', 'a')
    """
    if goal not in ("minimize", "maximize"):
        raise ValueError(f"goal must be 'minimize' or 'maximize', not {goal!r}")
    sign = 1.0 if goal == "minimize" else -1.0
    best: tuple[tuple[float, bool, int, float, str], RunRecord] | None = None
    for run in runs:
        value = finite_metric(run)
        if run.state not in USABLE_STATES or value is None:
            continue
        key = (sign * value, run.seq is None, run.seq or 0, run.created_at, run.id)
        if best is None or key < best[0]:
            best = (key, run)
    return None if best is None else best[1]


def format_value(value: Any) -> str:
    """Format a config or metric value as a short, readable label.

    Examples
    --------
    >>> [format_value(v) for v in (True, None, "adam", 128, 1.0, 0.30000000000000004)]
    ['True', 'None', 'adam', '128', '1.0', '0.3']
    """
    if value is None or isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return text if len(text) <= 10 else f"{value:.6g}"
    try:
        return json.dumps(value, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return repr(value)


def _cell(column: str, value: Any, error_width: int) -> str:
    if value is None:
        return ""
    if column == "duration_s":
        return f"{value:.1f}s"
    if column == "error":
        text = " ".join(str(value).split())
        return text if len(text) <= error_width else text[: error_width - 1] + "…"
    return format_value(value)


@dataclass(frozen=True)
class RunsTable:
    """One row per run: id, state, metric value, each parameter, duration and error.

    Attributes
    ----------
    columns
        Column names in order: ``id``, ``state``, the metric (left out when the sweep has
        none), each parameter by dotted name, ``duration_s`` and ``error``. A parameter whose
        name is taken by one of the other columns is listed as ``config.<name>``.
    rows
        One dict per run, keyed by ``columns``, ordered by ``seq`` (then creation time).
        A parameter missing from a run's config is None; a metric that was logged only as
        NaN or inf is ``nan``; a metric never logged is None.
    metric_name
        The sweep metric's name, or None.
    metric_column
        The column that holds the metric value, or None.
    """

    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    metric_name: str | None
    metric_column: str | None

    def __len__(self) -> int:
        return len(self.rows)

    def __str__(self) -> str:
        return self.to_text()

    def to_text(self, *, indent: str = "", error_width: int = 60) -> str:
        """The table as aligned plain text, for a terminal or ``print``.

        Examples
        --------
        >>> print(RunsTable(("id", "loss"), [{"id": "a1", "loss": 0.5}], "loss", "loss"))
        id  loss
        a1  0.5
        """
        columns = list(self.columns)
        rows = [
            [_cell(column, row[column], error_width) for column in columns] for row in self.rows
        ]
        header = ["duration" if c == "duration_s" else c for c in columns]
        widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]
        lines = [
            (
                indent + "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True))
            ).rstrip()
            for line in [header, *rows]
        ]
        return "\n".join(lines)

    def to_csv(self, path_or_buffer: str | os.PathLike[str] | IO[str]) -> None:
        """Write the table as CSV (empty cells for None) to a path or an open text file.

        Examples
        --------
        >>> buffer = io.StringIO()
        >>> RunsTable(("id", "loss"), [{"id": "a", "loss": 0.5}], "loss", "loss").to_csv(buffer)
        >>> buffer.getvalue().splitlines()
        ['id,loss', 'a,0.5']
        """
        if isinstance(path_or_buffer, str | os.PathLike):
            with open(path_or_buffer, "w", newline="", encoding="utf-8") as handle:
                self._write_csv(handle)
        else:
            self._write_csv(path_or_buffer)

    def _write_csv(self, handle: IO[str]) -> None:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow([_csv_cell(row[c]) for c in self.columns])

    def to_pandas(self) -> Any:
        """Return the table as a ``pandas.DataFrame`` (needs pandas, an optional extra).

        Examples
        --------
        >>> table = RunsTable(("id",), [{"id": "a"}], "loss", "loss")
        >>> table.to_pandas().shape  # doctest: +SKIP
        (1, 1)
        """
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(
                "RunsTable.to_pandas needs pandas, which is optional for nbsweep; "
                "install it with `pip install pandas`, or use .rows or .to_csv()"
            ) from exc
        return pd.DataFrame.from_records(self.rows, columns=list(self.columns))

    def _repr_html_(self) -> str:
        shown = self.rows[:_HTML_MAX_ROWS]
        out = io.StringIO()
        out.write('<table class="nbsweep-runs">')
        if len(shown) < len(self.rows):
            out.write(
                f"<caption>first {len(shown)} of {len(self.rows)} runs; "
                "use .to_csv() or .rows for all</caption>"
            )
        out.write("<thead><tr>")
        for column in self.columns:
            out.write(f"<th>{html.escape(column)}</th>")
        out.write("</tr></thead><tbody>")
        for row in shown:
            out.write("<tr>")
            for column in self.columns:
                value = row[column]
                text = "" if value is None and column != "id" else format_value(value)
                out.write(f"<td>{html.escape(text)}</td>")
            out.write("</tr>")
        out.write("</tbody></table>")
        return out.getvalue()


# A text cell starting with one of these would run as a formula in a spreadsheet.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> Any:
    """A CSV cell: empty for None; text that starts like a formula gets a leading apostrophe.

    Numbers are written as they are (``-0.5`` stays a number); only text (an error message, a
    string-valued parameter) is guarded, so a config value such as ``=HYPERLINK(...)`` opens
    in a spreadsheet as the text it is.
    """
    if value is None:
        return ""
    if isinstance(value, dict | list | tuple):
        value = format_value(value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _unique_columns(
    metric_name: str | None, param_names: Sequence[str]
) -> tuple[str | None, list[str], tuple[str, ...]]:
    fixed = {"id", "state", "duration_s", "error"}
    metric_column = metric_name
    if metric_name is not None and metric_name in fixed:
        metric_column = f"metric.{metric_name}"
    taken = fixed if metric_column is None else fixed | {metric_column}
    param_columns = [f"config.{n}" if n in taken else n for n in param_names]
    metric = () if metric_column is None else (metric_column,)
    columns = ("id", "state", *metric, *param_columns, "duration_s", "error")
    return metric_column, param_columns, columns


def runs_table(runs: Iterable[RunRecord], space: Space, metric_name: str | None) -> RunsTable:
    """Tabulate runs: id, state, metric value, each parameter, duration and error summary.

    Parameters
    ----------
    runs
        Runs of one sweep, in any order.
    space
        The sweep's parameters; one column each, by dotted name, in W&B order.
    metric_name
        Name of the sweep metric, used as the metric column's title; None for a sweep
        without a metric (no metric column).

    Returns
    -------
    RunsTable
        Rows ordered by ``seq``.

    Examples
    --------
    >>> space = Space({"lr": {"distribution": "uniform", "min": 0.0, "max": 1.0}})
    >>> table = runs_table([_example_run("a", config={"lr": 0.1})], space, "loss")
    >>> table.columns
    ('id', 'state', 'loss', 'lr', 'duration_s', 'error')
    >>> table.rows[0]["lr"]
    0.1
    """
    metric_column, param_columns, columns = _unique_columns(metric_name, space.names)
    ordered = sorted(runs, key=lambda r: (r.seq is None, r.seq or 0, r.created_at, r.id))
    rows = []
    for run in ordered:
        flat = space.flatten(run.config) if isinstance(run.config, dict) else {}
        metric: float | None = finite_metric(run)
        if metric is None and (run.metric_is_nonfinite or run.metric_value is not None):
            metric = math.nan
        row: dict[str, Any] = {"id": run.id, "state": run.state}
        if metric_column is not None:
            row[metric_column] = metric
        # Limitation: a parameter missing from a run's config and one set to None both read
        # None here (and an empty cell in CSV).
        for name, column in zip(space.names, param_columns, strict=True):
            row[column] = flat.get(name)
        row["duration_s"] = run.duration
        row["error"] = run.error_summary
        rows.append(row)
    return RunsTable(columns, rows, metric_name, metric_column)


def _example_run(
    run_id: str = "r",
    *,
    seq: int = 1,
    state: str = "finished",
    metric_value: float | None = 1.0,
    config: dict[str, Any] | None = None,
) -> RunRecord:
    """Build a minimal run record for the examples in docstrings."""
    return RunRecord(
        run_id,
        "s",
        seq,
        state,
        config or {},
        metric_value=metric_value,
        metric_count=1,
        created_at=float(seq),
        rev=1,
    )
