"""The dashboard widget: its column data, the messages it sends, brushes, and its publisher.

Messages are caught on the way out by a recording comm (the widget's transport, which outside
a kernel would drop them), so these tests see exactly what the page receives.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import comm
import numpy as np
import pytest
import traitlets
from comm.base_comm import BaseComm

import nbsweep
from nbsweep.space import Space
from nbsweep.store import open_store
from nbsweep.store._records import RunRecord
from nbsweep.views import Dashboard, brush_mask, build_parallel_data
from nbsweep.views._dashboard import (
    STATE_CODES,
    ImportanceSchedule,
    RunColumns,
    normalize_brush,
    rows_message,
)

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "brush_filter_cases.json"

CONFIG = {
    "method": "grid",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "x": {"values": [1, 2, 3]},
        "opt": {"values": ["adam", "sgd"]},
    },
}


class RecordingComm(BaseComm):
    """A comm that keeps every message it would send to the page."""

    sent: list[tuple[str, dict[str, Any], list[bytes]]]

    def __init__(self, **kwargs: Any) -> None:
        self.sent = []
        super().__init__(**kwargs)

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        self.sent.append((msg_type, data or {}, [bytes(b) for b in buffers or []]))


@pytest.fixture
def recorded(monkeypatch):
    """Widgets made in the test talk through recording comms; yields the list of them."""
    comms: list[RecordingComm] = []

    def create(**kwargs):
        made = RecordingComm(**kwargs)
        comms.append(made)
        return made

    monkeypatch.setattr(comm, "create_comm", create)
    return comms


def custom(dash: Dashboard, kind: str | None = None) -> list[tuple[dict[str, Any], list[bytes]]]:
    """The custom messages a dashboard sent, oldest first."""
    out = []
    for _, data, buffers in dash.comm.sent:
        if data.get("method") == "custom" and (kind is None or data["content"]["type"] == kind):
            out.append((data["content"], buffers))
    return out


def updates(dash: Dashboard, trait: str) -> list[Any]:
    return [
        data["state"][trait]
        for _, data, _ in dash.comm.sent
        if data.get("method") == "update" and trait in data.get("state", {})
    ]


def wait_for(predicate, timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def decode(content: dict[str, Any], buffers: list[bytes]) -> dict[str, np.ndarray]:
    types = {"row": "<u4", "state": "u1", "nonfinite": "u1"}
    return {
        name: np.frombuffer(buffer, dtype=types.get(name, "<f8"))
        for name, buffer in zip(content["columns"], buffers, strict=True)
    }


def train() -> None:
    run = nbsweep.init()
    print(f"x={run.config.x}")
    run.log({"loss": float(run.config.x) + (0.5 if run.config.opt == "sgd" else 0.0)})


@pytest.fixture
def grid_sweep(store_path):
    sweep_id = nbsweep.sweep(CONFIG, store=store_path, seed=0)
    nbsweep.agent(sweep_id, function=train, store=store_path, background=False, verbose=False)
    return sweep_id


def record(seq: int, config: dict[str, Any], metric: float | None, **changes: Any) -> RunRecord:
    fields: dict[str, Any] = {
        "id": f"r{seq}",
        "sweep_id": "s",
        "seq": seq,
        "state": "finished",
        "config": config,
        "summary": {"loss": metric, "_step": 1} if metric is not None else {},
        "metric_value": metric,
        "metric_count": 0 if metric is None else 1,
        "created_at": float(seq),
        "started_at": float(seq),
        "finished_at": float(seq) + 2.0,
        "heartbeat_at": None,
        "agent_id": None,
        "host": None,
        "pid": None,
        "grid_key": None,
        "error": None,
        "stop_reason": None,
        "last_step": None,
        "rev": seq,
    }
    fields.update(changes)
    return RunRecord(**fields)


MIXED_SPACE = {
    "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
    "flag": {"values": [True, False, None]},
    "head": {"parameters": {"width": {"distribution": "int_uniform", "min": 8, "max": 64}}},
    "c": {"value": 3},
}


# Columns ----------------------------------------------------------------------------------


def test_columns_hold_data_units_codes_and_nan_for_missing_values():
    space = Space(nbsweep.validate({"method": "random", "parameters": MIXED_SPACE}))
    runs = [
        record(1, {"lr": 1e-3, "flag": None, "head": {"width": 16}, "c": 3}, 0.5),
        record(2, {"lr": -1.0, "flag": True}, 0.25, state="running", finished_at=None),
        record(3, {"lr": 1e-2, "flag": False, "head": {"width": 64}, "c": 3}, None),
    ]
    columns = RunColumns(space, "loss", "minimize", runs)

    assert [a["key"] for a in columns.axes] == ["c", "flag", "head.width", "lr", "loss"]
    kinds = {a["key"]: a["kind"] for a in columns.axes}
    assert kinds == {
        "c": "linear",
        "flag": "categorical",
        "head.width": "linear",
        "lr": "log",
        "loss": "linear",
    }
    flag = columns.axes[1]
    assert [c["label"] for c in flag["categories"]] == ["True", "False", "None"]
    assert [c["value"] for c in flag["categories"]] == [True, False, None]
    assert columns.axes[0]["constant"] is True and columns.axes[0]["domain"] == [3.0, 3.0]
    assert columns.axes[2]["integer"] is True
    assert columns.axes[-1]["is_metric"] is True and columns.metric_key == "loss"

    np.testing.assert_array_equal(columns.column("flag"), [2.0, 0.0, 1.0])
    np.testing.assert_array_equal(columns.column("head.width"), [16.0, np.nan, 64.0])
    # A value that a log axis cannot place is no value there.
    np.testing.assert_array_equal(columns.column("lr"), [1e-3, np.nan, 1e-2])
    np.testing.assert_array_equal(columns.column("loss"), [0.5, 0.25, np.nan])
    assert columns.state[:3].tolist() == [
        STATE_CODES["finished"],
        STATE_CODES["running"],
        STATE_CODES["finished"],
    ]
    assert np.isnan(columns.finished[1]) and columns.started[1] == 2.0
    assert columns.logged_keys == {"loss"}  # "_step" is not a curve


def test_axes_match_the_figures_axes_for_the_same_runs():
    config = {
        "method": "random",
        "parameters": {
            **MIXED_SPACE,
            "n": {"distribution": "normal", "mu": 0.0, "sigma": 1.0},
            "b": {"values": [128, 16, 64]},
        },
    }
    space = Space(nbsweep.validate(config))
    runs = [
        record(1, {"lr": 1e-3, "flag": None, "n": 2.5, "b": 16, "head": {"width": 9}}, 0.5),
        record(2, {"lr": 0.5, "flag": "maybe", "n": -0.5, "b": 8, "c": 3}, 0.25),
        record(3, {"lr": 1e-2, "flag": False, "b": 2.0, "head": {"width": 64}}, float("nan")),
    ]
    figure = build_parallel_data(runs, space, "loss", "minimize")
    columns = RunColumns(space, "loss", "minimize", runs)
    assert len(columns.axes) == len(figure.axes)
    for spec, axis in zip(columns.axes, figure.axes, strict=True):
        assert (spec["name"], spec["kind"], spec["is_metric"]) == (
            axis.name,
            axis.kind,
            axis.is_metric,
        )
        assert spec["constant"] == axis.is_constant, spec["name"]
        if spec["kind"] == "categorical":
            assert [c["value"] for c in spec["categories"]] == list(axis.values)
            assert [c["label"] for c in spec["categories"]] == list(axis.tick_labels)
        else:
            assert spec["domain"] == (None if axis.domain is None else list(axis.domain))
    b = next(a for a in columns.axes if a["key"] == "b")
    assert [c["label"] for c in b["categories"]] == ["16", "64", "128", "8", "2.0"]


def test_nan_metric_runs_are_flagged_and_runs_that_never_logged_are_not():
    space = Space({"x": {"distribution": "uniform", "min": 0.0, "max": 1.0}})
    runs = [
        record(1, {"x": 0.1}, None, metric_count=3),  # logged only NaN/inf
        record(2, {"x": 0.2}, None),  # never logged
        record(3, {"x": 0.3}, float("inf")),
        record(4, {"x": 0.4}, 1.5),
    ]
    columns = RunColumns(space, "loss", "minimize", runs)
    assert columns.nonfinite[:4].tolist() == [1, 0, 1, 0]
    assert np.isnan(columns.metric[:3]).all() and columns.metric[3] == 1.5
    content, buffers = rows_message(columns, [], known=0, seq=1, reset=True, now=0.0)
    assert decode(content, buffers)["nonfinite"].tolist() == [1, 0, 1, 0]


def test_new_categories_grow_at_the_end_and_old_codes_keep_their_meaning():
    space = Space({"opt": {"distribution": "categorical", "values": ["adam", "sgd"]}})
    columns = RunColumns(space, "loss", "minimize", [record(1, {"opt": "sgd"}, 1.0)])
    version = columns.axes_version
    assert columns.column("opt").tolist() == [1.0]

    changed = columns.ingest([record(2, {"opt": "lion"}, 2.0), record(3, {"opt": "adam"}, 3.0)])
    assert changed == [1, 2]
    assert columns.axes_version == version + 1
    assert [c["label"] for c in columns.axes[0]["categories"]] == ["adam", "sgd", "lion"]
    assert columns.column("opt").tolist() == [1.0, 2.0, 0.0]

    columns.ingest([record(4, {"opt": "adam"}, 2.5)])  # nothing new: the axes stay
    assert columns.axes_version == version + 1


def test_numeric_domains_grow_with_values_outside_them():
    space = Space({"x": {"distribution": "uniform", "min": 0.0, "max": 1.0}})
    columns = RunColumns(space, "loss", "minimize", [record(1, {"x": 0.5}, 1.0)])
    assert columns.axes[0]["domain"] == [0.0, 1.0]
    assert columns.axes[1]["domain"] == [1.0, 1.0]
    version = columns.axes_version
    columns.ingest([record(2, {"x": 2.5}, 0.25)])
    assert columns.axes[0]["domain"] == [0.0, 2.5]
    assert columns.axes[1]["domain"] == [0.25, 1.0]
    assert columns.axes_version == version + 1


def test_a_parameter_named_like_the_metric_keeps_its_key():
    space = Space({"loss": {"distribution": "uniform", "min": 0.0, "max": 1.0}})
    columns = RunColumns(space, "loss", "minimize", [record(1, {"loss": 0.5}, 2.0)])
    assert [a["key"] for a in columns.axes] == ["loss", "metric.loss"]
    assert columns.column("loss").tolist() == [0.5]
    assert columns.column("metric.loss").tolist() == [2.0]


# Messages ---------------------------------------------------------------------------------


def test_a_delta_after_one_run_changes_carries_that_row_only(grid_sweep, store_path):
    store = open_store(store_path)
    sweep = nbsweep.Sweep(grid_sweep, store=store_path)
    columns = RunColumns(sweep.space, "loss", "minimize", store.sweep_runs(grid_sweep))
    assert columns.n == 6
    first, buffers = rows_message(columns, [], known=0, seq=1, reset=True, now=1.0)
    assert first["reset"] and first["n"] == 6 and len(first["new_ids"]) == 6
    assert all(
        len(b) == 6 * 8
        for name, b in zip(first["columns"], buffers, strict=True)
        if name == "metric"
    )

    target = columns.ids[3]
    store.set_run_state(target, "crashed", reason="test", only_if=("finished",))
    records = store.sweep_runs(grid_sweep, since_rev=columns.last_rev)
    assert [r.id for r in records] == [target]  # the incremental read
    changed = columns.ingest(records)
    content, buffers = rows_message(columns, changed, known=6, seq=2, reset=False, now=2.0)

    assert content["seq"] == 2 and not content["reset"]
    assert content["n"] == 6 and content["new_from"] == 6 and content["new_ids"] == []
    data = decode(content, buffers)
    assert data["row"].tolist() == [3]
    assert data["state"].tolist() == [STATE_CODES["crashed"]]
    assert all(len(column) == 1 for column in data.values())
    # Parameters travel in data units: x as itself, opt as its category code.
    assert data["param:x"].tolist() == [columns.column("x")[3]]
    assert data["param:opt"][0] in (0.0, 1.0)


def test_new_runs_come_with_their_ids_and_every_buffer_is_binary():
    space = Space({"x": {"distribution": "uniform", "min": 0.0, "max": 1.0}})
    columns = RunColumns(space, "loss", "minimize", [record(1, {"x": 0.1}, 1.0)])
    changed = columns.ingest([record(2, {"x": 0.2}, 0.5), record(1, {"x": 0.1}, 0.75)])
    content, buffers = rows_message(columns, changed, known=1, seq=2, reset=False, now=0.0)
    assert content["new_from"] == 1 and content["new_ids"] == ["r2"]
    assert content["columns"] == [
        "row",
        "state",
        "metric",
        "nonfinite",
        "started",
        "finished",
        "param:x",
    ]
    assert all(isinstance(b, bytes) for b in buffers)
    data = decode(content, buffers)
    assert data["row"].tolist() == [0, 1]
    assert data["metric"].tolist() == [0.75, 0.5]
    # Nothing in the JSON part grows with the number of runs but the new ids.
    assert len(json.dumps(content)) < 400


# Brushes ----------------------------------------------------------------------------------


def _fixture() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text())


@pytest.mark.parametrize("case", _fixture()["cases"], ids=lambda c: c["name"])
def test_brush_mask_follows_the_shared_cases(case):
    data = _fixture()
    columns = {
        key: np.array([math.nan if v is None else v for v in values], dtype=float)
        for key, values in data["columns"].items()
    }
    mask = brush_mask(data["axes"], columns, case["brush"])
    assert [i for i, keep in zip(data["ids"], mask, strict=True) if keep] == case["expected"]


def test_normalize_brush_checks_axes_shapes_and_categories():
    axes = _fixture()["axes"]
    assert normalize_brush(axes, {"x": [0.9, 0.1], "opt": [1.0, True, 1]}) == {
        "x": [0.1, 0.9],
        "opt": [1, True],
    }
    with pytest.raises(ValueError, match="did you mean 'lr'"):
        normalize_brush(axes, {"lrr": [0, 1]})
    with pytest.raises(ValueError, match="two finite numbers"):
        normalize_brush(axes, {"x": [0, float("nan")]})
    with pytest.raises(ValueError, match="not a category"):
        normalize_brush(axes, {"opt": ["lion"]})
    with pytest.raises(ValueError, match="expected a list"):
        normalize_brush(axes, {"opt": "adam"})


def test_brush_set_from_python_reaches_the_page_and_filters(recorded, grid_sweep, store_path):
    dash = nbsweep.Sweep(grid_sweep, store=store_path).dashboard(static_fallback=False)
    try:
        # x takes grid values: a categorical axis, brushed by its values.
        dash.brush = {"x": [3, 2.0], "opt": ["sgd"]}
        assert dash.brush == {"x": [3, 2], "opt": ["sgd"]}
        assert updates(dash, "brush")[-1] == {"x": [3, 2], "opt": ["sgd"]}
        runs = dash.filtered_runs()
        assert sorted((r.config["x"], r.config["opt"]) for r in runs) == [(2, "sgd"), (3, "sgd")]

        # The page brushes a categorical axis: the kernel sees the same rule applied.
        dash.set_state({"brush": {"opt": ["adam"]}})
        assert sorted(r.config["x"] for r in dash.filtered_runs()) == [1, 2, 3]
        with pytest.raises(traitlets.TraitError, match="not a category"):
            dash.brush = {"opt": ["lion"]}
        dash.brush = {}
        assert len(dash.filtered_runs()) == 6
    finally:
        dash.close()


def test_filtered_runs_leaves_out_runs_without_a_value_on_a_brushed_axis(recorded, store_path):
    sweep_id = nbsweep.sweep(
        {"method": "grid", "metric": {"name": "loss"}, "parameters": {"x": {"values": [1, 2]}}},
        store=store_path,
    )

    def half_nan():
        run = nbsweep.init()
        run.log({"loss": float("nan") if run.config.x == 1 else 0.5})

    nbsweep.agent(sweep_id, function=half_nan, store=store_path, background=False, verbose=False)
    dash = Dashboard(sweep_id, store=store_path, static_fallback=False)
    try:
        dash.brush = {"loss": [0.0, 10.0]}
        assert [r.config["x"] for r in dash.filtered_runs()] == [2]
    finally:
        dash.close()


# Publisher --------------------------------------------------------------------------------


def test_the_first_message_is_a_snapshot_and_a_request_gets_another(recorded, grid_sweep):
    dash = Dashboard(grid_sweep, static_fallback=False)
    try:
        wait_for(lambda: custom(dash, "rows"), what="the first snapshot")
        content, buffers = custom(dash, "rows")[0]
        assert content["reset"] and content["seq"] == 1 and content["n"] == 6
        assert decode(content, buffers)["row"].tolist() == list(range(6))

        dash._handle_custom_msg({"type": "snapshot"}, [])
        wait_for(lambda: len(custom(dash, "rows")) == 2, what="the requested snapshot")
        again, _ = custom(dash, "rows")[1]
        assert again["reset"] and again["seq"] == 2 and again["n"] == 6
    finally:
        dash.close()


def test_the_publisher_sends_nothing_when_nothing_changes_and_stops_when_closed(
    recorded, grid_sweep
):
    dash = Dashboard(grid_sweep, static_fallback=False)
    wait_for(lambda: custom(dash, "rows"), what="the first snapshot")
    wait_for(lambda: not dash.importance.get("pending"), what="importance")
    quiet_since = len(dash.comm.sent)
    rounds = dash._publisher.rounds
    wait_for(lambda: dash._publisher.rounds >= rounds + 2, what="two polls", timeout=10)
    assert dash.comm.sent[quiet_since:] == []

    thread = dash._publisher._thread
    dash.close()
    assert not thread.is_alive()
    assert dash.comm is None


def test_one_changed_run_sends_a_one_row_delta(recorded, grid_sweep, store_path):
    dash = Dashboard(grid_sweep, static_fallback=False)
    try:
        wait_for(lambda: custom(dash, "rows"), what="the first snapshot")
        target = dash._columns.ids[2]
        open_store(store_path).set_run_state(target, "stopped", only_if=("finished",))
        wait_for(lambda: len(custom(dash, "rows")) == 2, what="the delta")
        content, buffers = custom(dash, "rows")[1]
        assert not content["reset"] and content["seq"] == 2
        data = decode(content, buffers)
        assert data["row"].tolist() == [2]
        assert data["state"].tolist() == [STATE_CODES["stopped"]]
        wait_for(lambda: dash.header.get("stopped") == 1, what="the header")
    finally:
        dash.close()


def test_it_follows_runs_that_another_process_adds(recorded, store_path):
    sweep_id = nbsweep.sweep(CONFIG, store=store_path, seed=0)
    dash = Dashboard(sweep_id, static_fallback=False)
    try:
        wait_for(lambda: custom(dash, "rows"), what="the first snapshot")
        assert dash.header["runs"] == 0
        script = (
            "import nbsweep\n"
            "def train():\n"
            "    run = nbsweep.init()\n"
            "    run.log({'loss': float(run.config.x)})\n"
            f"nbsweep.agent({sweep_id!r}, function=train, count=2, store={str(store_path)!r},"
            " verbose=False)\n"
        )
        subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
        wait_for(lambda: dash.header.get("finished") == 2, what="the other process's runs")
        rows = custom(dash, "rows")
        assert sum(len(c["new_ids"]) for c, _ in rows) == 2
        assert rows[-1][0]["n"] == 2
    finally:
        dash.close()


def test_importance_schedule_debounces_by_count_and_interval():
    schedule = ImportanceSchedule(interval=2.0)
    assert schedule.due(0, now=0.0)
    schedule.start(0, now=0.0)
    assert not schedule.due(5, now=5.0)  # one at a time
    schedule.finish()
    assert not schedule.due(0, now=5.0)  # same count: nothing to do
    assert schedule.due(5, now=5.0)
    schedule.start(5, now=5.0)
    schedule.finish()
    assert not schedule.due(6, now=6.0)  # too soon after the last start
    assert not schedule.due(7, now=6.9)
    assert schedule.due(7, now=7.0)


def test_importance_is_recomputed_when_runs_finish(recorded, store_path):
    config = {
        "method": "random",
        "metric": {"name": "loss"},
        "parameters": {"x": {"min": 0.0, "max": 1.0}, "y": {"min": 0.0, "max": 1.0}},
    }
    sweep_id = nbsweep.sweep(config, store=store_path, seed=1)
    dash = Dashboard(sweep_id, static_fallback=False)

    def quick():
        run = nbsweep.init()
        run.log({"loss": run.config.x})

    try:
        wait_for(lambda: not dash.importance.get("pending"), what="importance")
        assert "need at least 3" in dash.importance["message"]
        started, t0 = dash._importance_rounds, time.monotonic()
        nbsweep.agent(
            sweep_id, function=quick, count=12, store=store_path, background=False, verbose=False
        )
        wait_for(lambda: dash.importance.get("n_runs") == 12, what="importance of 12 runs")
        # Debounced: a round per two seconds at most, not one per finished run.
        assert dash._importance_rounds - started <= 1 + (time.monotonic() - t0) / 2
        names = [p["name"] for p in dash.importance["params"]]
        assert names[0] == "x"
        assert dash.importance["params"][0]["encoding"] == "linear"
        assert dash.importance["seeds"] == [0, 1, 2, 3, 4]
    finally:
        dash.close()


def test_curves_and_run_details_are_answered(recorded, store_path):
    sweep_id = nbsweep.sweep(
        {
            "method": "grid",
            "metric": {"name": "loss"},
            "parameters": {"x": {"values": [1, 2]}},
        },
        store=store_path,
    )

    def curve():
        run = nbsweep.init()
        print("hello from", run.config.x)
        for step in range(4):
            run.log({"loss": run.config.x / (step + 1), "acc": float("nan")})
        if run.config.x == 2:
            raise RuntimeError("boom")

    nbsweep.agent(sweep_id, function=curve, store=store_path, background=False, verbose=False)
    dash = Dashboard(sweep_id, static_fallback=False)
    try:
        ok, bad = dash._columns.ids
        assert dash.logged_keys == ["loss", "acc"]
        dash._handle_custom_msg(
            {"type": "curves", "request": 7, "runs": [ok, bad], "keys": ["loss", "acc"]}, []
        )
        wait_for(lambda: custom(dash, "curves"), what="curves")
        content, buffers = custom(dash, "curves")[0]
        assert content["request"] == 7
        assert [(s["run"], s["key"], s["n"]) for s in content["series"]] == [
            (ok, "loss", 4),
            (ok, "acc", 4),
            (bad, "loss", 4),
            (bad, "acc", 4),
        ]
        assert len(buffers) == 8
        assert np.frombuffer(buffers[0]).tolist() == [0.0, 1.0, 2.0, 3.0]
        assert np.frombuffer(buffers[1]).tolist() == [1.0, 0.5, 1 / 3, 0.25]
        assert np.isnan(np.frombuffer(buffers[3])).all()

        dash._handle_custom_msg({"type": "run_detail", "request": 8, "run": bad}, [])
        wait_for(lambda: custom(dash, "run_detail"), what="the run's detail")
        detail, _ = custom(dash, "run_detail")[0]
        assert detail["request"] == 8 and detail["state"] == "failed"
        assert detail["output"] == "hello from 2\n"
        assert "RuntimeError: boom" in detail["error"] and "Traceback" in detail["error"]
        assert detail["config"] == {"x": "2"}
        wait_for(lambda: (dash.header.get("last_error") or {}).get("run_id") == bad)
        assert dash.header["last_error"]["head"] == "RuntimeError: boom"

        dash._handle_custom_msg({"type": "run_detail", "request": 9, "run": "nope"}, [])
        wait_for(lambda: len(custom(dash, "run_detail")) == 2, what="the missing run")
        assert custom(dash, "run_detail")[1][0]["missing"] is True
    finally:
        dash.close()


def test_the_stop_button_stops_the_agent(recorded, store_path):
    sweep_id = nbsweep.sweep(
        {"method": "random", "parameters": {"x": {"min": 0.0, "max": 1.0}}}, store=store_path
    )
    release = threading.Event()

    def slow():
        run = nbsweep.init()
        while not release.wait(0.02):
            run.log({"x": run.config.x})

    handle = nbsweep.agent(
        sweep_id, function=slow, count=50, store=store_path, background=True, verbose=False
    )
    dash = Dashboard(sweep_id, store=store_path, handle=handle, static_fallback=False)
    try:
        wait_for(lambda: dash.header.get("running") == 1, what="a running run")
        assert dash.header["stop"] == {"mode": "agent", "enabled": True, "requested": False}
        assert dash.header["agent"]["state"] == "running"
        dash._handle_custom_msg({"type": "stop"}, [])
        assert handle.wait(timeout=20)
        assert handle.progress.state == "stopped"
        wait_for(lambda: (dash.header.get("agent") or {}).get("state") == "stopped")
        assert dash.header["stop"]["enabled"] is False
        assert dash.header["stopped"] == 1
    finally:
        release.set()
        handle.stop(wait=True, timeout=10)
        dash.close()


def test_without_an_agent_the_button_stops_the_sweep(recorded, grid_sweep, store_path):
    fresh = nbsweep.sweep(CONFIG, store=store_path)
    dash = Dashboard(fresh, static_fallback=False)
    try:
        assert dash.header["stop"] == {"mode": "sweep", "enabled": True, "requested": False}
        dash._handle_custom_msg({"type": "stop"}, [])
        wait_for(lambda: dash.header.get("sweep_state") == "FINISHED", what="the stopped sweep")
        assert nbsweep.Sweep(fresh, store=store_path).state == "FINISHED"
        assert dash.header["stop"]["enabled"] is False
    finally:
        dash.close()


def test_header_counts_progress_and_best(recorded, grid_sweep):
    dash = Dashboard(grid_sweep, static_fallback=False)
    try:
        header = dash.header
        assert (header["finished"], header["running"], header["failed"]) == (6, 0, 0)
        assert header["progress"] == {"done": 6, "total": 6, "of": "grid"}
        assert header["best"]["value"] == 1.0 and header["best"]["label"] == "1.0"
        assert header["sweep_state"] == "FINISHED"
        assert dash.metric == {"name": "loss", "goal": "minimize", "key": "loss"}
        assert dash.curve_keys == ["loss"]
    finally:
        dash.close()


# Display ----------------------------------------------------------------------------------


def test_repr_is_cheap_and_the_bundle_carries_a_picture(recorded, grid_sweep):
    dash = Dashboard(grid_sweep)
    try:
        assert repr(dash) == f"<nbsweep.Dashboard sweep={grid_sweep} runs=6>"
        data, _ = dash._repr_mimebundle_()
        assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == dash.model_id
        assert data["image/png"].startswith("iVBORw0KGgo")  # base64 of the PNG signature
        assert len(data["image/png"]) < 400_000
        plain = Dashboard(grid_sweep, static_fallback=False)
        assert "image/png" not in plain._repr_mimebundle_()[0]
        plain.close()
    finally:
        dash.close()


def test_the_widget_points_at_the_committed_bundle():
    static = Path(nbsweep.__file__).parent / "static"
    text = (static / "dashboard.js").read_text()
    assert str(Dashboard._esm) == text
    assert str(Dashboard._css) == (static / "dashboard.css").read_text()
    assert "export" in text and len(text) > 10_000
    assert (static / "dashboard.css").read_text().count(".nbsweep-dashboard") > 10


def test_the_dashboard_refuses_an_agent_of_another_sweep(recorded, grid_sweep, store_path):
    other = nbsweep.sweep(CONFIG, store=store_path)
    handle = nbsweep.agent(
        other, function=train, store=store_path, background=False, verbose=False
    )
    with pytest.raises(ValueError, match="not"):
        Dashboard(grid_sweep, store=store_path, handle=handle)
