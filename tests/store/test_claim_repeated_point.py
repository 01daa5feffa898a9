"""A strategy that proposes a point some run already has must not stop the agent.

The store keeps grid keys unique per sweep, so inserting such a proposal would raise
``sqlite3.IntegrityError`` inside the claim. No shipped strategy does this on purpose; the
faulty strategy here stands in for a bug in one, the only way to cause the fault.
"""

from __future__ import annotations

import logging

import pytest

import nbsweep
import nbsweep.controller._claim as claim_module
from nbsweep.controller import claim_next_run
from nbsweep.search import Proposal
from nbsweep.store import open_store


class _RepeatsOnePoint:
    """A faulty strategy: proposes the same point on every call, run or not."""

    def __init__(self, point: dict) -> None:
        self.point = point

    def propose(self, config, space, runs, rng, state) -> Proposal:
        return Proposal(dict(self.point), grid_key=space.point_key(self.point))


def _sweep_with_faulty_strategy(monkeypatch, store_path, config: dict, point: dict):
    monkeypatch.setattr(claim_module, "strategy_for", lambda method: _RepeatsOnePoint(point))
    store = open_store(store_path)
    return store, nbsweep.sweep(config, store=store, seed=0)


def _claim_until_done(store, sweep_id: str, limit: int) -> tuple[list[dict], object]:
    configs = []
    for _ in range(limit):
        claim = claim_next_run(store, sweep_id)
        if claim.run is None:
            return configs, claim
        configs.append(claim.run.config)
        store.set_run_state(claim.run.id, "finished")
    raise AssertionError(f"the sweep did not end within {limit} claims")


def _repeat_warnings(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == claim_module.__name__ and r.levelno == logging.WARNING
    ]


def test_a_repeated_grid_point_runs_the_next_free_point_then_the_sweep_ends(
    monkeypatch, store_path, caplog
):
    config = {
        "method": "grid",
        "parameters": {"a": {"values": [1, 2, 3]}, "b": {"values": ["x", "y"]}},
    }
    store, sweep_id = _sweep_with_faulty_strategy(
        monkeypatch, store_path, config, {"a": 1, "b": "x"}
    )
    with caplog.at_level(logging.WARNING, logger=claim_module.__name__):
        configs, last = _claim_until_done(store, sweep_id, limit=10)

    # The first claim runs the proposal; every later one would have repeated it.
    assert configs == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
        {"a": 3, "b": "x"},
        {"a": 3, "b": "y"},
    ]
    keys = [r.grid_key for r in store.sweep_runs(sweep_id)]
    assert None not in keys and len(set(keys)) == 6
    repeated = keys[0]
    assert last.status == "done" and last.reason.startswith("every combination")
    assert store.get_sweep(sweep_id).state == "FINISHED"
    messages = _repeat_warnings(caplog)
    assert len(messages) == 6  # five fallbacks, then the claim that found nothing free
    assert all("_RepeatsOnePoint" in m and repeated in m for m in messages)
    assert "running the free point" in messages[0]


def test_a_repeated_point_of_a_lattice_that_is_no_grid_is_replaced(
    monkeypatch, store_path, caplog
):
    # q_log_uniform_values cannot be walked by a grid; its bounded lattice still can.
    config = {
        "method": "bayes",
        "metric": {"name": "loss"},
        "parameters": {
            "bs": {"distribution": "q_log_uniform_values", "min": 8, "max": 32, "q": 8},
            "opt": {"values": ["sgd", "adam"]},
        },
    }
    store, sweep_id = _sweep_with_faulty_strategy(
        monkeypatch, store_path, config, {"bs": 16, "opt": "adam"}
    )
    with caplog.at_level(logging.WARNING, logger=claim_module.__name__):
        configs, last = _claim_until_done(store, sweep_id, limit=10)

    pairs = [(c["bs"], c["opt"]) for c in configs]
    assert pairs[0] == (16, "adam")
    assert sorted(pairs) == sorted((bs, opt) for bs in (8, 16, 24, 32) for opt in ("sgd", "adam"))
    assert last.status == "done" and last.reason.startswith("every combination")
    assert len(_repeat_warnings(caplog)) == 8


@pytest.mark.parametrize("method", ["random", "bayes"])
def test_a_repeated_point_of_an_unbounded_space_is_replaced_by_a_fresh_draw(
    monkeypatch, store_path, caplog, method
):
    config = {
        "method": method,
        "metric": {"name": "loss"},
        "parameters": {"lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1.0}},
    }
    store, sweep_id = _sweep_with_faulty_strategy(monkeypatch, store_path, config, {"lr": 0.01})
    with caplog.at_level(logging.WARNING, logger=claim_module.__name__):
        first = claim_next_run(store, sweep_id).run
        second = claim_next_run(store, sweep_id).run

    assert first.config == {"lr": 0.01}
    assert second is not None and second.config["lr"] != 0.01
    assert 1e-5 <= second.config["lr"] <= 1.0
    assert second.grid_key != first.grid_key
    assert len(_repeat_warnings(caplog)) == 1
