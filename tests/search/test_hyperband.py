"""Hyperband: W&B's stop rule on hand-built histories, and in real runs."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap

import pytest
from testdata import vector

import nbsweep
from nbsweep.controller import claim_next_run
from nbsweep.search._hyperband import hyperband_decision, hyperband_thresholds
from nbsweep.store import open_store


def band_values(histories, bands):
    return {b: [h[b - 1] for h in histories if len(h) >= b] for b in bands}


def stopped(spec, goal, runs):
    histories = [r["history"] for r in runs]
    bands = nbsweep.config.hyperband_bands(spec)
    values = band_values(histories, bands)
    return [
        r["name"]
        for r in runs
        if r["state"] == "running" and hyperband_decision(spec, goal, r["history"], values)
    ]


def test_h02_engine_example_stops_b_with_its_thresholds():
    v = vector("H02")
    spec = {**v["early_terminate"], "strict": True}
    bands = nbsweep.config.hyperband_bands(spec)
    assert bands == v["expected_head"]["bands"]
    thresholds = hyperband_thresholds(
        spec, "minimize", band_values([r["history"] for r in v["runs"]], bands)
    )
    assert [thresholds[b] for b in bands] == v["expected_head"]["thresholds"]
    assert stopped(spec, "minimize", v["runs"]) == v["expected_head"]["stopped"]
    assert (
        stopped({**spec, "strict": False}, "minimize", v["runs"]) == v["expected_head"]["stopped"]
    )


def test_h04_a_run_alone_is_never_stopped():
    v = vector("H04")
    assert stopped({**v["early_terminate"], "strict": True}, "minimize", v["runs"]) == []


def test_maximize_mirrors_minimize():
    v = vector("H02")
    spec = {**v["early_terminate"], "strict": True}
    mirrored = [dict(r, history=[-x for x in r["history"]]) for r in v["runs"]]
    assert stopped(spec, "maximize", mirrored) == ["b"]


def test_strict_compares_the_band_value_loose_the_best_so_far():
    spec = {"min_iter": 2, "eta": 2}
    others = {2: [1.0, 1.0, 5.0]}
    history = [0.5, 5.0, 5.0]  # good early, bad at the band
    assert hyperband_decision({**spec, "strict": True}, "minimize", history, others) is not None
    assert hyperband_decision({**spec, "strict": False}, "minimize", history, others) is None


def test_before_the_first_band_nothing_stops():
    assert (
        hyperband_decision({"min_iter": 3, "eta": 3}, "minimize", [9.0, 9.0], {3: [0.0]}) is None
    )


CONFIG = {
    "method": "grid",
    "metric": {"name": "loss"},
    "early_terminate": {"type": "hyperband", "min_iter": 2, "eta": 2},
    "parameters": {"x": {"values": [0.1, 0.2, 0.9, 0.95]}},
}


def test_runs_are_stopped_at_their_log_call_with_the_reason_recorded():
    sweep_id = nbsweep.sweep(CONFIG)
    logged = {}

    def train():
        run = nbsweep.init()
        for epoch in range(8):
            logged[run.config.x] = epoch
            run.log({"loss": run.config.x + 1 / (epoch + 1)})
            run.log({"other": 1.0})  # rows without the metric are not iterations

    handle = nbsweep.agent(sweep_id, function=train, verbose=False)
    assert handle.progress.failed == 0
    runs = {r.config["x"]: r for r in nbsweep.Sweep(sweep_id).runs}
    assert runs[0.1].state == runs[0.2].state == "finished"
    assert runs[0.9].state == runs[0.95].state == "stopped"
    assert runs[0.95].stop_reason.startswith("hyperband: ")
    assert "at iteration 2" in runs[0.95].stop_reason
    assert logged[0.95] == 1  # stopped at the log of its second value, nothing after
    assert [row["loss"] for row in runs[0.95].history() if "loss" in row] == pytest.approx(
        [1.95, 1.45]
    )


def test_nan_values_are_not_iterations():
    sweep_id = nbsweep.sweep(CONFIG)
    store = open_store()
    for _ in range(2):  # two good runs: with eta 2, three runs make the worst one stop
        good = claim_next_run(store, sweep_id).run
        store.write_progress(
            good.id,
            metrics=[(good.id, 0, "loss", 0.1), (good.id, 1, "loss", 0.1)],
            objects=[],
            summary=None,
            metric=(0.1, 2),
            last_step=1,
            finish={"state": "finished"},
        )
    second = claim_next_run(store, sweep_id).run
    run = nbsweep.Run(
        store,
        second,
        metric_name="loss",
        early_terminate=CONFIG["early_terminate"] | {"strict": True, "eta": 2},
    )
    run.log({"loss": 9.0})
    run.log({"loss": math.nan})
    run.log({"loss": math.inf})
    with pytest.raises(nbsweep.StopRun, match="at iteration 2"):
        run.log({"loss": 9.0})
    assert store.get_run(second.id).state == "stopped"


def test_a_program_stopped_by_hyperband_ends_stopped_not_failed(tmp_path, store_path):
    (tmp_path / "train.py").write_text(
        textwrap.dedent(
            """
            import nbsweep
            run = nbsweep.init()
            for epoch in range(6):
                run.log({"loss": run.config["x"] + 1 / (epoch + 1)})
            """
        )
    )
    sweep_id = nbsweep.sweep({**CONFIG, "program": "train.py"}, store=store_path)
    env = dict(os.environ, NBSWEEP_STORE=str(store_path))
    done = subprocess.run(
        [sys.executable, "-m", "nbsweep", "agent", sweep_id],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    states = {r.config["x"]: r.state for r in nbsweep.Sweep(sweep_id, store=store_path).runs}
    assert states == {0.1: "finished", 0.2: "finished", 0.9: "stopped", 0.95: "stopped"}
