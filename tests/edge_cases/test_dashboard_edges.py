"""Adversarial tests: the live dashboard widget (Python side).

Each test is a defect found while trying to break the dashboard; they are expected to fail
(``xfail(strict=True)``) until it is fixed. Messages to the page are caught by a recording
comm, as in ``tests/views/test_dashboard.py``.
"""

from __future__ import annotations

import json
import time
from typing import Any

import comm
import numpy as np
import pytest
import traitlets
from comm.base_comm import BaseComm

import nbsweep
from nbsweep.views import Dashboard

pytestmark = pytest.mark.filterwarnings("ignore::nbsweep.NbsweepWarning")


class RecordingComm(BaseComm):
    """A comm that keeps what it would send (outside a kernel it would drop it)."""

    def __init__(self, **kwargs: Any) -> None:
        self.sent: list[Any] = []
        super().__init__(**kwargs)

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        self.sent.append((msg_type, data or {}, [bytes(b) for b in buffers or []]))


@pytest.fixture
def recorded(monkeypatch):
    monkeypatch.setattr(comm, "create_comm", lambda **kwargs: RecordingComm(**kwargs))


def wait_for(predicate, timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _sweep(store, parameters, *, count=0, loss=lambda config: 1.0, method="random"):
    config = {"method": method, "metric": {"name": "loss"}, "parameters": parameters}
    sweep_id = nbsweep.sweep(config, store=store, seed=0)
    if count:

        def train():
            run = nbsweep.init()
            run.log({"loss": float(loss(run.config))})

        nbsweep.agent(
            sweep_id, function=train, store=store, count=count, background=False, verbose=False
        )
    return sweep_id


# Huge numbers -----------------------------------------------------------------------------


def test_dashboard_opens_on_a_valid_parameter_spanning_the_float_range(recorded, store_path):
    sweep_id = _sweep(store_path, {"x": {"distribution": "uniform", "min": -1e308, "max": 1e308}})
    dash = Dashboard(sweep_id, store=store_path, static_fallback=False)
    try:
        assert [a["key"] for a in dash.axes] == ["x", "loss"]
    finally:
        dash.close()


def test_importance_survives_parameter_values_beyond_float32(recorded, store_path):
    sweep_id = _sweep(
        store_path,
        {"x": {"distribution": "uniform", "min": 0.0, "max": 1e39}},
        count=6,
        loss=lambda c: 1.0 + (c.x > 5e38),
    )
    dash = Dashboard(sweep_id, store=store_path, static_fallback=False)
    try:
        wait_for(lambda: not dash.importance.get("pending"), 30, "importance")
        assert "Error" not in str(dash.importance.get("message")), dash.importance["message"]
        assert [p["name"] for p in dash.importance["params"]] == ["x"]
    finally:
        dash.close()


# Brushes from the page and from Python ----------------------------------------------------


def test_a_page_brush_on_a_large_float_category_reaches_python(recorded, store_path):
    sweep_id = _sweep(store_path, {"steps": {"values": [1e3, 1e20]}}, method="grid", count=2)
    dash = Dashboard(sweep_id, store=store_path, static_fallback=False)
    try:
        # The exact text the page's comm sends: JSON.stringify({steps: [1e20]}).
        dash.set_state(json.loads('{"brush": {"steps": [100000000000000000000]}}'))
        assert [r.config["steps"] for r in dash.filtered_runs()] == [1e20]
    finally:
        dash.close()


def test_a_page_brush_on_a_large_int_category_reaches_python(recorded, store_path):
    sweep_id = _sweep(
        store_path, {"seed": {"values": [12345678901234567, 2]}}, method="grid", count=2
    )
    dash = Dashboard(sweep_id, store=store_path, static_fallback=False)
    try:
        # JSON.stringify(12345678901234567) === "12345678901234568" in the page.
        dash.set_state(json.loads('{"brush": {"seed": [12345678901234568]}}'))
        assert [r.config["seed"] for r in dash.filtered_runs()] == [12345678901234567]
    finally:
        dash.close()


def test_numpy_integer_bounds_are_accepted(recorded, store_path):
    sweep_id = _sweep(store_path, {"x": {"distribution": "int_uniform", "min": 0, "max": 9}})
    dash = Dashboard(sweep_id, store=store_path, static_fallback=False)
    try:
        dash.brush = {"x": [np.int64(2), np.int64(5)]}
        assert dash.brush == {"x": [2.0, 5.0]}
    finally:
        dash.close()


def test_a_huge_int_bound_gets_the_usual_brush_error(recorded, store_path):
    sweep_id = _sweep(store_path, {"x": {"distribution": "uniform", "min": 0.0, "max": 1.0}})
    dash = Dashboard(sweep_id, store=store_path, static_fallback=False)
    try:
        with pytest.raises(traitlets.TraitError, match="brush\\['x'\\]"):
            dash.brush = {"x": [0, 10**400]}
    finally:
        dash.close()


# Stop button without an agent --------------------------------------------------------------


def test_the_stop_button_works_again_after_the_sweep_is_resumed(recorded, store_path):
    sweep_id = _sweep(store_path, {"x": {"distribution": "uniform", "min": 0.0, "max": 1.0}})
    dash = Dashboard(sweep_id, store=store_path, static_fallback=False)
    try:
        wait_for(lambda: dash.header.get("stop", {}).get("enabled"), what="an enabled button")
        dash._handle_custom_msg({"type": "stop"}, [])  # the page's button, confirmed
        wait_for(lambda: dash.header.get("sweep_state") == "FINISHED", what="FINISHED")
        nbsweep.Sweep(sweep_id, store=store_path).resume()
        wait_for(lambda: dash.header.get("sweep_state") == "RUNNING", what="RUNNING again")
        assert dash.header["stop"]["enabled"], dash.header["stop"]
    finally:
        dash.close()
