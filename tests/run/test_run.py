"""Runs: config access and locking, what run.log stores, summary, finishing, durability."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch
from testdata import case

import nbsweep
from nbsweep import ConfigLockedError, RunFinishedError
from nbsweep.store import open_store


def sweep_run(config, function, **kwargs):
    sweep_id = nbsweep.sweep(config, seed=0)
    nbsweep.agent(sweep_id, function=function, count=1, verbose=False, **kwargs)
    (run,) = nbsweep.Sweep(sweep_id).runs
    return run


NESTED = {
    "method": "grid",
    "parameters": {
        "lr": {"values": [0.1]},
        "opt": {"parameters": {"name": {"values": ["adam"]}, "beta": {"value": 0.9}}},
    },
}
WITH_METRIC = {**NESTED, "metric": {"name": "loss"}}


def test_config_attribute_item_and_nested_access():
    seen = {}

    def train():
        run = nbsweep.init()
        c = run.config
        seen.update(
            lr=c.lr,
            item=c["lr"],
            name=c.opt.name,
            nested_item=c["opt"]["name"],
            beta=c.opt["beta"],
        )
        with pytest.raises(AttributeError, match=r"run\.config\.opt has no key 'nope'"):
            _ = c.opt.nope

    sweep_run(NESTED, train)
    assert seen == {"lr": 0.1, "item": 0.1, "name": "adam", "nested_item": "adam", "beta": 0.9}


def test_sweep_values_cannot_be_changed_but_new_keys_can_be_added():
    def train():
        run = nbsweep.init()
        with pytest.raises(
            ConfigLockedError, match=r"run\.config\.lr is set by the sweep to 0\.1"
        ):
            run.config.lr = 0.5
        with pytest.raises(ConfigLockedError, match=r"run\.config\.opt\.name"):
            run.config.opt.name = "sgd"
        with pytest.raises(ConfigLockedError):
            run.config.update({"lr": 1.0})
        run.config.lr = 0.1  # the same value is fine
        run.config.epochs = 3
        run.config.update({"seed": 7})

    run = sweep_run(NESTED, train)
    assert run.config == {"lr": 0.1, "opt": {"beta": 0.9, "name": "adam"}, "epochs": 3, "seed": 7}


def test_init_defaults_are_merged_under_sweep_values():
    def train():
        nbsweep.init(config={"lr": 0.5, "epochs": 10, "opt": {"name": "sgd", "eps": 1e-8}})

    run = sweep_run(NESTED, train)
    assert run.config == {
        "lr": 0.1,
        "epochs": 10,
        "opt": {"name": "adam", "beta": 0.9, "eps": 1e-8},
    }


def test_wandb_init_arguments_are_accepted_and_typos_are_not():
    run = nbsweep.init(project="p", entity="e", tags=["x"], reinit=True, config={"a": 1})
    assert run.config.a == 1
    run.finish()
    with pytest.raises(TypeError, match="did you mean 'config'"):
        nbsweep.init(confg={"a": 1})


def test_log_steps_nested_slash_nan_and_kinds():
    with nbsweep.init() as run:
        run.log({"loss": 1.0, "eval": {"acc": 0.5}, "val/loss": 2.0})
        run.log({"loss": float("nan"), "flag": True, "name": "adam", "shape": [1, 2]})
        run.log({"loss": float("inf")}, step=10)
        run.log({"loss": np.float32(0.25), "t": torch.tensor(3.0), "n": np.int64(4)})
        with pytest.raises(TypeError, match="cannot store 'bad' = object"):
            run.log({"bad": object()})
        with pytest.raises(TypeError, match="step must be a whole number"):
            run.log({"x": 1}, step=-1)
    rows = nbsweep.Run.load(run.id).history()
    assert [r["_step"] for r in rows] == [0, 1, 10, 11]
    assert rows[0] == {"_step": 0, "loss": 1.0, "eval.acc": 0.5, "val/loss": 2.0}
    assert math.isnan(rows[1]["loss"]) and rows[1]["flag"] == 1.0
    assert rows[1]["name"] == "adam" and rows[1]["shape"] == [1, 2]
    assert rows[2]["loss"] == math.inf
    assert rows[3] == {"_step": 11, "loss": 0.25, "t": 3.0, "n": 4}
    summary = nbsweep.Run.load(run.id).summary
    assert summary["loss"] == 0.25 and summary["eval.acc"] == 0.5 and summary["name"] == "adam"


def test_literal_dotted_key_and_nested_key_name_the_same_metric_last_one_wins():
    with nbsweep.init() as run:
        run.log({"eval.acc": 1.0, "eval": {"acc": 2.0}})
        run.log({"eval": {"acc": 3.0}, "eval.acc": 4.0})
    assert [r["eval.acc"] for r in nbsweep.Run.load(run.id).history()] == [2.0, 4.0]


def test_reused_dict_is_copied_at_log_time():
    with nbsweep.init() as run:
        metrics = {}
        for i in range(3):
            metrics["loss"] = float(i)
            run.log(metrics)
    assert [r["loss"] for r in nbsweep.Run.load(run.id).history()] == [0.0, 1.0, 2.0]


def test_sweep_metric_is_the_best_finite_value_and_nan_never_wins():
    def train():
        run = nbsweep.init()
        for value in (3.0, float("nan"), 1.0, float("-inf"), 2.0):
            run.log({"loss": value})

    run = sweep_run(WITH_METRIC, train)
    assert run.metric_value == 1.0 and run.metric_count == 5 and run.summary["loss"] == 2.0

    def train_nan():
        nbsweep.init().log({"loss": float("nan")})

    run = sweep_run(WITH_METRIC, train_nan)
    assert run.metric_value is None and run.metric_is_nonfinite


def test_br12_slash_and_nested_metric_names():
    cases = case("BR-12")["config"]

    def train():
        run = nbsweep.init()
        x = run.config.x
        for _ in range(5):
            run.log(
                {
                    "val/loss": (x - 0.4) ** 2,
                    "val_loss": (x - 0.4) ** 2,
                    "eval": {"acc": 1 - abs(x - 0.7)},
                }
            )

    for name, target, key in (("a_slash", 0.4, "val/loss"), ("b_nested", 0.7, "eval.acc")):
        sweep_id = nbsweep.sweep(cases[name], seed=1)
        nbsweep.agent(sweep_id, function=train, count=12, verbose=False)
        sweep = nbsweep.Sweep(sweep_id)
        assert all(key in r.summary for r in sweep.runs)
        assert "val" not in sweep.runs[0].summary  # "val/loss" is never split
        assert abs(sweep.best_run.config["x"] - target) <= 0.15


def test_br12_typo_in_metric_name_warns_with_a_close_name_and_no_best_run():
    sweep_id = nbsweep.sweep(case("BR-12")["config"]["c_typo"], seed=2)

    def train():
        run = nbsweep.init()
        for _ in range(5):
            run.log({"val_loss": (run.config.x - 0.4) ** 2})

    with pytest.warns(nbsweep.MetricWarning, match="Did you mean 'val_loss'"):
        handle = nbsweep.agent(sweep_id, function=train, count=12, verbose=False)
    assert handle.progress.finished == 12
    assert nbsweep.Sweep(sweep_id).best_run is None


def test_summary_can_be_set_and_counts_for_the_metric():
    def train():
        run = nbsweep.init()
        run.log({"loss": 5.0})
        run.summary["loss"] = 0.5
        run.summary["note"] = "best epoch 3"

    run = sweep_run(WITH_METRIC, train)
    assert run.summary == {"loss": 0.5, "note": "best epoch 3"} and run.metric_value == 0.5


def test_context_manager_failure_keeps_everything_logged_before():
    def log_then_fail(run):
        for i in range(10_000):
            run.log({"i": float(i)})
        return 1 / 0

    with pytest.raises(ZeroDivisionError), nbsweep.init() as run:
        log_then_fail(run)
    stored = nbsweep.Run.load(run.id)
    assert stored.state == "failed" and stored.error.startswith("ZeroDivisionError")
    assert len(stored.history()) == 10_000


def test_log_after_finish_is_an_error_and_finish_twice_is_not():
    run = nbsweep.init()
    run.finish()
    run.finish()
    with pytest.raises(RunFinishedError, match="is finished"):
        run.log({"x": 1})


def test_nbsweep_log_needs_a_run():
    with pytest.raises(RuntimeError, match=r"call nbsweep.init\(\) first"):
        nbsweep.log({"x": 1})
    run = nbsweep.init()
    nbsweep.log({"x": 2})
    nbsweep.finish()
    assert nbsweep.Run.load(run.id).summary == {"x": 2}


def test_logged_rows_reach_the_store_in_the_background():
    run = nbsweep.init()
    for i in range(100):
        run.log({"loss": float(i)})
    deadline = time.monotonic() + 5
    while len(open_store().history(run.id)) < 100:
        assert time.monotonic() < deadline, "the writer never flushed"
        time.sleep(0.05)
    assert open_store().get_run(run.id).state == "running"
    run.finish()
    assert open_store().get_run(run.id).state == "finished"


def test_init_finishes_a_dangling_standalone_run():
    first = nbsweep.init()
    second = nbsweep.init()
    assert first.finished and first.id != second.id
    second.finish()


def test_exit_code_marks_failed():
    run = nbsweep.init()
    run.finish(exit_code=1)
    assert nbsweep.Run.load(run.id).state == "failed"
