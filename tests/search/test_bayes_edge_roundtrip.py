"""Bayes search where a parameter's unit-cube position does not survive decode -> encode.

The GP blocks repeats by comparing unit-cube positions (exactly, or within 1e-6 for start-up
design points), but a config decoded from a position re-encodes elsewhere when the value is
rounded (ints over 4,096 values, q forms without bounds). Bounds must decode to themselves,
a lattice must not hold one value at two positions, and a proposal whose config re-encodes
onto a run's point must be replaced by another.
"""

from __future__ import annotations

import pytest
from runhelpers import finish_run

import nbsweep
from nbsweep.controller import claim_next_run
from nbsweep.store import open_store


def _finish(store, run_id: str, value: float) -> None:
    finish_run(store, run_id, value)


def _sequential(params: dict, objective, n: int, seed: int = 0) -> list[dict]:
    store = open_store()
    sweep_id = nbsweep.sweep(
        {"method": "bayes", "metric": {"name": "loss"}, "parameters": params}, seed=seed
    )
    configs = []
    for _ in range(n):
        run = claim_next_run(store, sweep_id).run
        assert run is not None
        configs.append(run.config)
        _finish(store, run.id, float(objective(run.config)))
    return configs


def _until_done(params: dict, objective, limit: int):
    """Claim and finish runs of a bayes sweep until it ends or ``limit`` runs have run.

    Returns the configs, the last claim, the store and the sweep's id.
    """
    store = open_store()
    sweep_id = nbsweep.sweep(
        {"method": "bayes", "metric": {"name": "loss"}, "parameters": params}, seed=0
    )
    configs = []
    for _ in range(limit):
        claim = claim_next_run(store, sweep_id)
        if claim.run is None:
            break
        configs.append(claim.run.config)
        _finish(store, claim.run.id, float(objective(claim.run.config)))
    return configs, claim, store, sweep_id


@pytest.mark.parametrize(
    "spec",
    [
        {"distribution": "int_uniform", "min": 0, "max": 100_000},
        {"distribution": "q_uniform", "min": 0, "max": 10_000, "q": 1},
        {"distribution": "q_normal", "mu": 0, "sigma": 1000, "q": 1},
    ],
    ids=["wide-int", "wide-q-uniform", "q-normal"],
)
def test_startup_does_not_repeat_a_rounded_design_point(spec):
    # A finished run re-encodes a little off its design point; the sweep must still move on
    # through the design instead of handing out that point again (with identical results the
    # objective would have no spread, and the sweep would never leave start-up).
    configs = _sequential({"x": spec}, lambda c: (c["x"] - 3) ** 2, n=8)
    xs = [c["x"] for c in configs]
    assert len(set(xs)) >= 6, xs


@pytest.mark.parametrize(
    ("spec", "best"),
    [
        ({"distribution": "int_uniform", "min": 0, "max": 100_000}, 37_123),
        ({"distribution": "q_uniform", "min": 0, "max": 10_000, "q": 1}, 3_712),
        ({"distribution": "q_normal", "mu": 0, "sigma": 1000, "q": 1}, 3),
        ({"distribution": "q_normal", "mu": 0, "sigma": 10, "q": 0.5}, 2.5),
    ],
    ids=["wide-int", "wide-q-uniform", "q-normal", "coarse-q-normal"],
)
def test_model_proposals_never_repeat_a_rounded_config(spec, best):
    # Near the optimum the model proposes positions close to, but not at, the runs there;
    # rounded, they are the runs' own values. Every config is run once however long the
    # sweep refines around one lattice value.
    configs = _sequential({"x": spec}, lambda c: (c["x"] - best) ** 2, n=40)
    xs = [c["x"] for c in configs]
    repeated = sorted({x for x in xs if xs.count(x) > 1})
    assert not repeated, repeated


def test_model_proposals_never_repeat_a_config_of_a_mixed_space():
    params = {
        "n": {"distribution": "int_uniform", "min": 0, "max": 100_000},
        "opt": {"values": ["sgd", "adam"]},
        "lr": {"min": 0.0, "max": 1.0},
    }

    def objective(c):
        return (c["n"] - 3) ** 2 + (c["opt"] == "adam") + (c["lr"] - 0.5) ** 2

    configs = _sequential(params, objective, n=40)
    keys = [(c["n"], c["opt"], c["lr"]) for c in configs]
    assert len(set(keys)) == len(keys)


def test_a_rounded_space_whose_likely_values_have_all_run_ends_the_sweep():
    # q 5 with sigma 10 leaves a dozen or so values with any real probability; once they have
    # run, neither the model nor random draws find another, and the sweep ends instead of
    # repeating configs.
    configs, claim, store, sweep_id = _until_done(
        {"x": {"distribution": "q_normal", "mu": 0, "sigma": 10, "q": 5}},
        lambda c: (c["x"] - 5) ** 2,
        limit=60,
    )
    xs = [c["x"] for c in configs]
    assert len(set(xs)) == len(xs) >= 9, sorted(xs)
    assert claim.status == "done" and claim.reason.startswith("no config that no run has")
    assert store.get_sweep(sweep_id).state == "FINISHED"


def test_optimum_on_a_bound_is_not_proposed_over_and_over():
    # loss = x is smallest at the lower bound: u = 0 must decode to 0.0 exactly, so that the
    # run re-encodes to u = 0 and the exact-match exclusion blocks it from then on.
    configs = _sequential({"x": {"min": 0.0, "max": 1.0}}, lambda c: c["x"], n=20)
    xs = [c["x"] for c in configs]
    assert len(xs) - len(set(xs)) <= 1, sorted(xs)[:6]


def test_q_log_uniform_values_space_ends_instead_of_raising():
    # min=1 is not a multiple of q=8: bin k=0 rounds up to 8, the first multiple inside the
    # bounds. Held twice in the lattice, the GP's grid would have a combination the store's
    # unique grid_key refuses, and the claim would raise sqlite3.IntegrityError.
    configs, claim, _, _ = _until_done(
        {"bs": {"distribution": "q_log_uniform_values", "min": 1, "max": 64, "q": 8}},
        lambda c: c["bs"],
        limit=20,
    )
    seen = [c["bs"] for c in configs]
    assert claim.status == "done" and "every combination" in claim.reason
    assert sorted(seen) == [8, 16, 24, 32, 40, 48, 56, 64]
