"""Sweep state changes as W&B's CLI allows them (pause, resume, stop, cancel)."""

from __future__ import annotations

import pytest
from runhelpers import finish_run
from testdata import vector

import nbsweep
from nbsweep.controller import claim_next_run
from nbsweep.store import open_store

ACTIONS = {"pause": "pause", "resume": "resume", "stop": "stop", "cancel": "cancel"}


def sweep_in(state: str) -> nbsweep.Sweep:
    sweep = nbsweep.Sweep(
        nbsweep.sweep({"method": "grid", "parameters": {"a": {"values": [1, 2]}}})
    )
    if state == "PAUSED":
        sweep.pause()
    elif state == "FINISHED":
        sweep.stop()
    elif state == "CANCELED":
        sweep.cancel()
    assert sweep.state == state
    return sweep


@pytest.mark.parametrize(
    "item", vector("A03")["cases"], ids=lambda c: f"{c['from']}-{c['action']}"
)
def test_a03_state_changes(item):
    sweep = sweep_in(item["from"])
    running = None
    if item["from"] == "RUNNING" and "running_runs" in item:
        running = claim_next_run(open_store(), sweep.id).run
    action = getattr(sweep, ACTIONS[item["action"]])
    if "error" in item:
        with pytest.raises(nbsweep.SweepStateError) as info:
            action()
        assert str(info.value) == item["error"]
        assert sweep.state == item["from"]
        return
    action()
    assert sweep.state == item["to"]
    if running is not None:
        after = open_store().get_run(running.id)
        expected = "running" if item["running_runs"] == "continue to completion" else "stopped"
        assert after.state == expected
    if item["to"] in ("FINISHED", "CANCELED", "PAUSED"):
        claim = claim_next_run(open_store(), sweep.id)
        assert claim.run is None


def test_retry_failed_frees_failed_and_crashed_grid_points_and_reopens_the_sweep():
    sweep = nbsweep.Sweep(
        nbsweep.sweep({"method": "grid", "parameters": {"a": {"values": [1, 2, 3]}}})
    )
    store = open_store()
    outcome = {1: "failed", 2: "finished", 3: "crashed"}
    for _ in range(3):
        run = claim_next_run(store, sweep.id).run
        store.set_run_state(run.id, outcome[run.config["a"]])
    assert claim_next_run(store, sweep.id).run is None
    assert sweep.state == "FINISHED"
    assert sweep.retry_failed() == 2
    assert sweep.state == "RUNNING"
    again = [claim_next_run(store, sweep.id).run.config["a"] for _ in range(2)]
    assert again == [1, 3]
    assert claim_next_run(store, sweep.id).run is None


def test_retry_failed_lets_bayes_run_the_freed_combinations_of_a_finite_space_again():
    sweep = nbsweep.Sweep(
        nbsweep.sweep(
            {
                "method": "bayes",
                "metric": {"name": "loss"},
                "parameters": {"a": {"values": [1, 2, 3]}, "b": {"values": ["x", "y"]}},
            }
        )
    )
    store = open_store()
    first = []
    for _ in range(6):
        run = claim_next_run(store, sweep.id).run
        point = (run.config["a"], run.config["b"])
        first.append(point)
        if point in ((1, "x"), (3, "y")):
            store.set_run_state(run.id, "failed")
        else:
            finish_run(store, run.id, float(run.config["a"]))
    assert len(set(first)) == 6
    assert claim_next_run(store, sweep.id).run is None
    assert sweep.retry_failed() == 2
    assert sweep.state == "RUNNING"
    again = {
        (run.config["a"], run.config["b"])
        for run in (claim_next_run(store, sweep.id).run for _ in range(2))
    }
    assert again == {(1, "x"), (3, "y")}
    assert claim_next_run(store, sweep.id).run is None
