"""Grid, random and bayes through the controller, on a real store: W&B's vectors and cases."""

from __future__ import annotations

import random
import statistics
import warnings

import numpy as np
import pytest
from scipy import stats
from testdata import case, vector

import nbsweep
from nbsweep import ConfigWarning
from nbsweep.controller import claim_next_run
from nbsweep.search._bayes import BayesSearch, observations
from nbsweep.space import Space
from nbsweep.store import RunRecord, open_store


def finish(run_id: str, value: float | None = None, state: str = "finished", metric=None) -> None:
    store = open_store()
    metrics = [] if value is None else [(run_id, 0, metric or "loss", value)]
    summary = {} if value is None else {metric or "loss": value}
    store.write_progress(
        run_id,
        metrics=metrics,
        objects=[],
        summary=summary,
        metric=(value, 1) if value is not None else (None, 0),
        last_step=0,
        finish={"state": state},
    )


def enumerate_sweep(sweep_id: str) -> list[dict]:
    """Claim until the sweep says done, finishing each run at once (W&B's enumerate_grid)."""
    store = open_store()
    out = []
    while True:
        claim = claim_next_run(store, sweep_id)
        if claim.run is None:
            return out
        out.append(claim.run.config)
        finish(claim.run.id)
        assert len(out) < 100_000


@pytest.mark.parametrize("vid", ["G02", "G03", "G14"])
def test_grid_order(vid):
    v = vector(vid)
    assert enumerate_sweep(nbsweep.sweep(v["config"])) == v["expected"]


def test_g05_repeated_values_run_once():
    v = vector("G05")
    with pytest.warns(ConfigWarning, match="more than once"):
        sweep_id = nbsweep.sweep(v["config"])
    assert enumerate_sweep(sweep_id) == v["expected"]


def test_g06_numerically_equal_values_are_one_point():
    v = vector("G06")
    with pytest.warns(ConfigWarning, match="more than once"):
        sweep_id = nbsweep.sweep(v["config"])
    configs = enumerate_sweep(sweep_id)
    assert configs == v["expected_head"]


def test_g09_grid_ends_and_sweep_finishes():
    v = vector("G09")
    sweep_id = nbsweep.sweep(v["config"])
    configs = enumerate_sweep(sweep_id)
    assert configs == [c for c in v["expected"] if c is not None]
    sweep = nbsweep.Sweep(sweep_id)
    assert sweep.state == "FINISHED" and "3 points" in sweep.state_reason


def _insert_prior(sweep_id: str, config: dict, state: str) -> None:
    store = open_store()
    space = nbsweep.Sweep(sweep_id).space
    key = space.point_key(space.flatten(config))  # as a claim would store it
    with store.write() as conn:
        store.insert_run(
            conn, run_id=f"prior{state}", sweep_id=sweep_id, seq=0, config=config, grid_key=key
        )
    store.set_run_state(f"prior{state}", state)


@pytest.mark.parametrize("vid", ["G10", "G11"])
def test_prior_runs_use_up_their_point(vid):
    v = vector(vid)
    sweep_id = nbsweep.sweep(v["config"])
    (prior,) = v["prior_runs"]
    _insert_prior(sweep_id, {k: s["value"] for k, s in prior["config"].items()}, prior["state"])
    assert enumerate_sweep(sweep_id) == v.get("expected_head", v.get("expected"))


def test_g12_nested_grid_is_the_full_product_once():
    v = vector("G12")
    assert enumerate_sweep(nbsweep.sweep(v["config"])) == v["expected_head"]


def test_g13_nested_config_shape():
    v = vector("G13")
    run = claim_next_run(open_store(), nbsweep.sweep(v["config"])).run
    assert run.config == {k: s["value"] for k, s in v["expected_raw_config"].items()}


def test_br06_grid_passes_constants_to_every_run():
    configs = enumerate_sweep(nbsweep.sweep(case("BR-06")["config"]["ok_grid"]))
    assert len(configs) == 6
    assert {(c["opt"], c["depth"]) for c in configs} == {
        (o, d) for o in ("sgd", "adam") for d in (1, 2, 3)
    }
    assert all(c["epochs"] == 5 and type(c["depth"]) is int for c in configs)


def test_grid_of_a_million_points_is_not_built():
    cfg = {"method": "grid", "parameters": {f"p{i}": {"min": 1, "max": 10} for i in range(6)}}
    sweep_id = nbsweep.sweep(cfg)
    space = nbsweep.Sweep(sweep_id).space
    assert space.grid_size() == 10**6
    assert space._grid_values is not None and sum(map(len, space._grid_values)) == 60
    assert space.grid_point(10**6 - 1) == {f"p{i}": 10 for i in range(6)}
    assert claim_next_run(open_store(), sweep_id).run.config == {f"p{i}": 1 for i in range(6)}


@pytest.mark.parametrize(("cap", "grid", "expected"), [(10, 3, 3), (2, 5, 2)])
def test_br14_grid_stops_at_the_smaller_of_cap_and_size(cap, grid, expected):
    cfg = {"method": "grid", "run_cap": cap, "parameters": {"a": {"values": list(range(grid))}}}
    sweep_id = nbsweep.sweep(cfg)
    assert len(enumerate_sweep(sweep_id)) == expected
    assert nbsweep.Sweep(sweep_id).state == "FINISHED"


def test_random_with_the_same_seed_proposes_the_same_configs():
    cfg = {
        "method": "random",
        "parameters": {"x": {"min": 0.0, "max": 1.0}, "c": {"values": [1, 2, 3]}},
    }
    first = [
        c for c, _ in zip(enumerate_configs(nbsweep.sweep(cfg, seed=7)), range(20), strict=False)
    ]
    second = [
        c for c, _ in zip(enumerate_configs(nbsweep.sweep(cfg, seed=7)), range(20), strict=False)
    ]
    other = [
        c for c, _ in zip(enumerate_configs(nbsweep.sweep(cfg, seed=8)), range(20), strict=False)
    ]
    assert first == second and first != other


def enumerate_configs(sweep_id):
    store = open_store()
    while True:
        claim = claim_next_run(store, sweep_id)
        if claim.run is None:
            return
        finish(claim.run.id, 0.0)
        yield claim.run.config


def test_metric_target_ends_the_sweep():
    v = vector("A04")
    sweep_id = nbsweep.sweep(v["config"])
    store = open_store()
    first = claim_next_run(store, sweep_id).run
    finish(first.id, 0.5, metric="acc")
    second = claim_next_run(store, sweep_id).run
    finish(second.id, 0.95, metric="acc")
    claim = claim_next_run(store, sweep_id)
    assert claim.status == "done" and "metric.target 0.9 reached" in claim.reason
    assert nbsweep.Sweep(sweep_id).state == "FINISHED"


# Bayes -------------------------------------------------------------------------------------


def test_b03_imputation_and_pending():
    v = vector("B03")
    cfg = nbsweep.validate(v["config"])
    space = Space(cfg)

    def record(i, spec):
        summary = spec.get("summary", {})
        value = summary.get("loss")
        finite = value is not None and np.isfinite(value)
        return RunRecord(
            id=f"r{i}",
            sweep_id="s",
            seq=i,
            state=spec["state"],
            config={"x": spec["x"]},
            summary=summary,
            metric_value=value if finite else None,
            metric_count=1 if value is not None else 0,
            created_at=0.0,
            started_at=0.0,
            rev=i,
        )

    runs = [record(i, spec) for i, spec in enumerate(v["runs"])]
    _, y, pending, tried = observations(cfg, space, runs)
    assert sorted(y.tolist()) == sorted(v["expected"]["y"])
    assert len(pending) == v["expected"]["running_runs_as_fantasies"]
    assert len(tried) == len(runs)


def test_b06_unit_cube_positions_follow_the_distribution():
    v = vector("B06")
    space = Space(
        nbsweep.validate(
            {"method": "bayes", "metric": {"name": "l"}, "parameters": v["parameters"]}
        )
    )
    lr = [space.encode(r)[0] for r in v["runs"]]
    assert lr == pytest.approx([0.5, 0.0])  # log scale: 0.01 is halfway between 1e-4 and 1


def test_b07_categoricals_are_categories_and_falsy_values_keep_their_place():
    v = vector("B07")
    space = Space(
        nbsweep.validate(
            {"method": "bayes", "metric": {"name": "l"}, "parameters": v["parameters"]}
        )
    )
    codes = [space.encode(r).tolist() for r in v["runs"]]
    # flag: True -> 0, False -> 1; k: 5 -> 0, 0 -> 1, 7 -> 2 (W&B's newer engine maps False and 0 to 0)
    assert codes == [[0.0, 0.0], [1.0, 1.0], [1.0, 2.0]]
    assert [e.kind for e in space.encodings()] == ["categorical", "categorical"]


def _bayes_best(seed: int, method: str, n: int = 20) -> float:
    cfg = {
        "method": method,
        "metric": {"name": "loss"},
        "parameters": {"x": {"min": -5.0, "max": 5.0}, "y": {"min": -5.0, "max": 5.0}},
    }
    sweep_id = nbsweep.sweep(cfg, seed=seed)
    store = open_store()
    best = np.inf
    for _ in range(n):
        run = claim_next_run(store, sweep_id).run
        value = (run.config["x"] - 2) ** 2 + (run.config["y"] + 1) ** 2
        best = min(best, value)
        finish(run.id, value)
    return best


@pytest.mark.slow
def test_bayes_beats_random_on_a_smooth_problem():
    bayes = [_bayes_best(s, "bayes") for s in range(10)]
    rand = [_bayes_best(s, "random") for s in range(10)]
    assert statistics.median(bayes) < statistics.median(rand) / 10
    assert stats.mannwhitneyu(bayes, rand, alternative="less").pvalue < 0.01


def test_b08_bayes_converges_on_a_parabola():
    v = vector("B08")
    sweep_id = nbsweep.sweep(v["config"], seed=0)
    store = open_store()
    xs = []
    for _ in range(v["iterations"]):
        run = claim_next_run(store, sweep_id).run
        xs.append(run.config["x"])
        finish(run.id, (run.config["x"] - 2) ** 2)
    assert min(xs, key=lambda x: abs(x - 2)) == pytest.approx(2.0, abs=0.01)


def test_bayes_parallel_claims_get_different_proposals():
    cfg = {
        "method": "bayes",
        "metric": {"name": "loss"},
        "parameters": {"x": {"min": 0.0, "max": 1.0}},
    }
    sweep_id = nbsweep.sweep(cfg, seed=3)
    store = open_store()
    for _ in range(12):
        run = claim_next_run(store, sweep_id).run
        finish(run.id, (run.config["x"] - 0.3) ** 2)
    in_flight = [claim_next_run(store, sweep_id).run.config["x"] for _ in range(4)]
    assert len({round(x, 6) for x in in_flight}) == 4


def test_br20_categorical_bayes_runs_each_combination_once_then_ends():
    spec = case("BR-20")["config"]["cat_space"]
    score = {"small": 0.6, "medium": 0.7, "large": 0.8}
    sweep_id = nbsweep.sweep(spec, seed=0)
    store = open_store()
    seen = []
    while True:
        claim = claim_next_run(store, sweep_id)
        if claim.run is None:
            break
        c = claim.run.config
        seen.append((c["model"], c["strategy"], c["aug"]))
        acc = (
            score[c["model"]]
            + (0.1 if c["aug"] else 0.0)
            + (0.05 if c["strategy"] == "finetune" else 0.0)
        )
        finish(claim.run.id, acc, metric="acc")
        assert len(seen) <= 12
    assert len(seen) == len(set(seen)) == 12
    assert "every combination" in claim.reason
    best = nbsweep.Sweep(sweep_id).best_run
    assert (best.config["model"], best.config["strategy"], best.config["aug"]) == (
        "large",
        "finetune",
        True,
    )
    assert best.metric_value == pytest.approx(0.95)


def test_br20_all_constant_bayes_is_refused():
    with pytest.raises(nbsweep.ConfigError, match="at least one parameter that varies"):
        nbsweep.sweep(case("BR-20")["config"]["all_constant"])


def test_bayes_proposals_respect_the_space():
    cfg = {
        "method": "bayes",
        "metric": {"name": "loss"},
        "parameters": {
            "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1},
            "bs": {"distribution": "q_log_uniform_values", "min": 16, "max": 256, "q": 8},
            "layers": {"min": 1, "max": 6},
            "opt": {"values": ["adam", "sgd", None]},
            "drop": {"distribution": "q_uniform", "min": 0.0, "max": 0.5, "q": 0.1},
            "head": {"parameters": {"w": {"min": 0.0, "max": 1.0}}},
        },
    }
    sweep_id = nbsweep.sweep(cfg, seed=1)
    store = open_store()
    space = nbsweep.Sweep(sweep_id).space
    rng = random.Random(0)
    for _ in range(25):
        run = claim_next_run(store, sweep_id).run
        flat = space.flatten(run.config)
        for p in space:
            assert p.distribution.contains(flat[p.name]), (p.name, flat[p.name])
        finish(run.id, rng.random())


def test_metric_never_logged_falls_back_to_space_filling_without_inventing_values():
    cfg = nbsweep.validate(
        {
            "method": "bayes",
            "metric": {"name": "val_los"},
            "parameters": {"x": {"min": 0.0, "max": 1.0}},
        }
    )
    space = Space(cfg)
    runs = []
    for i in range(15):
        runs.append(
            RunRecord(
                id=f"r{i}",
                sweep_id="s",
                seq=i,
                state="finished",
                config={"x": i / 15},
                summary={"val_loss": 1.0},
                metric_value=None,
                metric_count=0,
                created_at=0.0,
                started_at=0.0,
                finished_at=1.0,
                heartbeat_at=1.0,
                last_step=0,
                rev=i,
            )
        )
    _, y, pending, _ = observations(cfg, space, runs)
    assert len(y) == 0 and len(pending) == 15  # no 0.0 made up for the missing metric
    proposal = BayesSearch().propose(cfg, space, runs, random.Random(0), {})
    assert proposal.info["phase"] == "startup"


def test_yaml_with_warning_is_still_usable():
    with pytest.warns(ConfigWarning):
        sweep_id = nbsweep.sweep(
            "method: random\nparameters:\n  lr: {distribution: log_uniform, min: -9.2, max: -6.9}\n"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = claim_next_run(open_store(), sweep_id).run
    assert 1e-4 * 0.99 <= run.config["lr"] <= 1.01e-3
