"""The best run and the runs table."""

from __future__ import annotations

import csv
import io
import math
import sys
from typing import Any

import pytest

import nbsweep
from nbsweep.analysis import RunsTable, best_run, format_value, runs_table
from nbsweep.space import Space
from nbsweep.store._records import RunRecord

CONFIG = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1},
        "opt": {"values": ["adam", "sgd"]},
        "head": {"parameters": {"dropout": {"min": 0.0, "max": 0.5}}},
    },
}


def make_run(
    seq: int | None,
    metric_value: float | None,
    *,
    state: str = "finished",
    config: dict[str, Any] | None = None,
    metric_count: int | None = None,
    error: str | None = None,
    run_id: str | None = None,
    duration: float | None = 10.0,
) -> RunRecord:
    if metric_count is None:
        metric_count = 0 if metric_value is None else 1
    created = 1000.0 + (seq or 0)
    return RunRecord(
        id=run_id or f"run{seq}",
        sweep_id="sweep",
        seq=seq,
        state=state,
        config=config
        if config is not None
        else {"lr": 0.01, "opt": "adam", "head": {"dropout": 0.1}},
        metric_value=metric_value,
        metric_count=metric_count,
        created_at=created,
        started_at=None if duration is None else created,
        finished_at=None if duration is None else created + duration,
        error=error,
        rev=1,
    )


@pytest.fixture
def space() -> Space:
    return Space(nbsweep.validate(CONFIG))


# best_run ------------------------------------------------------------------------------------


def test_best_run_follows_goal() -> None:
    runs = [make_run(1, 0.5), make_run(2, 0.2), make_run(3, 0.9)]

    assert best_run(runs, "minimize") is runs[1]
    assert best_run(runs, "maximize") is runs[2]


def test_best_run_ties_go_to_the_earlier_seq() -> None:
    runs = [make_run(5, 0.2), make_run(2, 0.2), make_run(9, 0.2)]

    best = best_run(runs, "minimize")

    assert best is not None
    assert best.seq == 2


def test_best_run_counts_finished_and_stopped_runs_with_a_finite_metric_only() -> None:
    runs = [
        make_run(1, 0.9),
        make_run(2, 0.5, state="stopped"),
        make_run(3, 0.0, state="failed"),
        make_run(4, 0.0, state="crashed"),
        make_run(5, 0.0, state="running"),
        make_run(6, float("nan")),
        make_run(7, float("-inf")),
        make_run(8, None, metric_count=4),
        make_run(9, None),
    ]

    best = best_run(runs, "minimize")

    assert best is not None
    assert best.id == "run2"


def test_best_run_of_nothing_usable_is_none() -> None:
    assert best_run([], "minimize") is None
    assert best_run([make_run(1, 0.1, state="failed"), make_run(2, None)], "maximize") is None


def test_best_run_checks_goal() -> None:
    with pytest.raises(ValueError, match="goal must be"):
        best_run([make_run(1, 0.1)], "min")


# runs_table ----------------------------------------------------------------------------------


def test_table_columns_and_rows(space: Space) -> None:
    runs = [
        make_run(2, 0.3, config={"lr": 0.001, "opt": "sgd", "head": {"dropout": 0.25}}),
        make_run(
            1,
            None,
            state="failed",
            error="ValueError: bad lr\nTraceback (...)\n  ...",
            config={"lr": 0.1, "opt": "adam", "head": {"dropout": 0.0}},
        ),
    ]

    table = runs_table(runs, space, "loss")

    assert table.columns == (
        "id",
        "state",
        "loss",
        "head.dropout",
        "lr",
        "opt",
        "duration_s",
        "error",
    )
    assert [row["id"] for row in table.rows] == ["run1", "run2"]  # by seq
    first, second = table.rows
    assert first["state"] == "failed"
    assert first["loss"] is None
    assert first["error"] == "ValueError: bad lr"
    assert second["head.dropout"] == 0.25
    assert second["lr"] == 0.001
    assert second["loss"] == 0.3
    assert second["duration_s"] == 10.0
    assert second["error"] is None
    assert len(table) == 2


def test_table_marks_nonfinite_metric_and_missing_values(space: Space) -> None:
    runs = [
        make_run(1, None, metric_count=3, config={"lr": 0.01}),  # only NaN logged
        make_run(2, None, state="running", duration=None, config={}),  # nothing yet
    ]

    table = runs_table(runs, space, "loss")

    nan_row, empty_row = table.rows
    assert math.isnan(nan_row["loss"])
    assert nan_row["opt"] is None
    assert nan_row["head.dropout"] is None
    assert empty_row["loss"] is None
    assert empty_row["duration_s"] is None


def test_parameter_named_like_a_fixed_column_is_prefixed() -> None:
    space = Space({"state": {"distribution": "categorical", "values": ["a", "b"]}})

    table = runs_table([make_run(1, 0.1, config={"state": "b"})], space, "loss")

    assert table.columns == ("id", "state", "loss", "config.state", "duration_s", "error")
    assert table.rows[0]["state"] == "finished"
    assert table.rows[0]["config.state"] == "b"


def test_to_csv_path_and_buffer(space: Space, tmp_path: Any) -> None:
    runs = [
        make_run(1, 0.5),
        make_run(2, None, metric_count=1, state="failed", error='KeyError: "a, b"\n...'),
    ]
    table = runs_table(runs, space, "loss")

    path = tmp_path / "runs.csv"
    table.to_csv(path)
    buffer = io.StringIO()
    table.to_csv(buffer)

    assert path.read_text(encoding="utf-8") == buffer.getvalue()
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert list(rows[0]) == list(table.columns)
    assert rows[0]["loss"] == "0.5"
    assert rows[0]["opt"] == "adam"
    assert rows[1]["loss"] == "nan"
    assert rows[1]["error"] == 'KeyError: "a, b"'
    assert rows[0]["error"] == ""


def test_to_pandas_without_pandas_says_what_to_do(
    space: Space, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    table = runs_table([make_run(1, 0.5)], space, "loss")

    with pytest.raises(ImportError, match="pip install pandas"):
        table.to_pandas()


def test_to_pandas_with_pandas(space: Space) -> None:
    pd = pytest.importorskip("pandas")
    table = runs_table([make_run(1, 0.5), make_run(2, 0.7)], space, "loss")

    frame = table.to_pandas()

    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(table.columns)
    assert frame.shape == (2, len(table.columns))


def test_html_is_escaped(space: Space) -> None:
    runs = [
        make_run(
            1,
            None,
            state="failed",
            error="ValueError: <script>alert(1)</script>",
            config={"lr": 0.01, "opt": "<b>sgd</b>", "head": {"dropout": 0.1}},
        )
    ]

    html = runs_table(runs, space, "loss")._repr_html_()

    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "&lt;b&gt;sgd&lt;/b&gt;" in html
    assert html.count("<tr>") == 2  # header and one run
    assert "<th>head.dropout</th>" in html


def test_html_of_many_runs_is_capped_with_a_caption(space: Space) -> None:
    table = runs_table([make_run(i, i / 10) for i in range(250)], space, "loss")

    html = table._repr_html_()

    assert html.count("<tr>") == 201
    assert "first 200 of 250 runs" in html
    assert len(table.rows) == 250


def test_table_is_frozen(space: Space) -> None:
    table = runs_table([make_run(1, 0.5)], space, "loss")
    with pytest.raises(AttributeError):
        table.rows = []  # type: ignore[misc]
    assert isinstance(table, RunsTable)


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (True, "True"),
        (False, "False"),
        (None, "None"),
        ("adam", "adam"),
        (128, "128"),
        (1.0, "1.0"),
        (1e-05, "1e-05"),
        (0.1 + 0.2, "0.3"),
        ([1, 2], "[1, 2]"),
    ],
)
def test_format_value(value: Any, label: str) -> None:
    assert format_value(value) == label


def test_table_of_a_sweep_without_metric_has_no_metric_column(space: Space) -> None:
    table = runs_table([make_run(1, None)], space, None)

    assert table.columns == ("id", "state", "head.dropout", "lr", "opt", "duration_s", "error")
    assert table.metric_column is None
    assert "<th>None</th>" not in table._repr_html_()
    buffer = io.StringIO()
    table.to_csv(buffer)
    assert buffer.getvalue().splitlines()[0] == "id,state,head.dropout,lr,opt,duration_s,error"


def test_to_csv_keeps_formula_like_text_as_text(tmp_path: Any) -> None:
    cfg = nbsweep.validate(
        {
            "method": "grid",
            "metric": {"name": "loss"},
            "parameters": {
                "note": {"values": ["=1+2", "@SUM(A1)", "plain"]},
                "lr": {"value": -0.5},
            },
        }
    )
    space = Space(cfg)
    runs = [
        make_run(i, -0.25, config={"note": note, "lr": -0.5})
        for i, note in enumerate(["=1+2", "@SUM(A1)", "plain"], start=1)
    ]
    buffer = io.StringIO()
    runs_table(runs, space, "loss").to_csv(buffer)
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert [r["note"] for r in rows] == ["'=1+2", "'@SUM(A1)", "plain"]
    assert {r["lr"] for r in rows} == {"-0.5"}  # numbers are not touched
    assert {r["loss"] for r in rows} == {"-0.25"}
