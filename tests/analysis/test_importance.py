"""Importance and correlation: what a reader of the importance panel is told."""

from __future__ import annotations

import math
import random
import time
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nbsweep
from nbsweep import ConfigWarning
from nbsweep.analysis import MIN_RUNS, ImportanceData, build_importance_data
from nbsweep.space import Space
from nbsweep.store._records import RunRecord

# The sweep of case BR-22: loss depends on x strongly and on opt a little; y and seed are
# constant.
BR22_CONFIG = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "x": {"min": 0.0, "max": 5.0},
        "y": {"min": 1.0, "max": 1.0},
        "opt": {"values": ["adam", "sgd", "rmsprop"]},
        "seed": {"value": 7},
    },
}

NOISY_CONFIG = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "x": {"min": 0.0, "max": 1.0},
        "noise_u": {"min": -3.0, "max": 3.0},
        "noise_lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1.0},
        "noise_k": {"distribution": "int_uniform", "min": 1, "max": 9},
        "noise_cat": {"values": ["a", "b", "c", "d"]},
        "noise_flag": {"values": [True, False]},
        "model": {"parameters": {"width": {"values": [32, 64, 128]}}},
    },
}


def make_run(
    seq: int,
    config: dict[str, Any],
    metric_value: float | None,
    *,
    state: str = "finished",
    metric_count: int | None = None,
) -> RunRecord:
    if metric_count is None:
        metric_count = 0 if metric_value is None else 1
    return RunRecord(
        id=f"run{seq}",
        sweep_id="sweep",
        seq=seq,
        state=state,
        config=config,
        metric_value=metric_value,
        metric_count=metric_count,
        created_at=1000.0 + seq,
        started_at=1000.0 + seq,
        finished_at=1010.0 + seq,
        agent_id="agent",
        host="host",
        pid=1,
        error="ValueError: boom\nTraceback ..." if state == "failed" else None,
        rev=1,
    )


def br22_space() -> Space:
    with pytest.warns(ConfigWarning, match="min equals max"):
        config = nbsweep.validate(BR22_CONFIG)
    return Space(config)


def br22_loss(config: dict[str, Any]) -> float:
    return 4 * config["x"] ** 2 + (3.0 if config["opt"] == "sgd" else 0.0)


def br22_runs(space: Space, count: int, seed: int = 0) -> list[RunRecord]:
    rng = random.Random(seed)
    runs = []
    for seq in range(count):
        config = space.nest(space.sample(rng))
        runs.append(make_run(seq, config, br22_loss(config)))
    return runs


def all_numbers(data: ImportanceData) -> list[float]:
    out = []
    for entry in data.params:
        out += [entry.importance, entry.importance_std, entry.importance_min, entry.importance_max]
        out += [] if entry.correlation is None else [entry.correlation]
        out += [lc.correlation for lc in entry.level_correlations if lc.correlation is not None]
    return out


# A metric that depends on x only -------------------------------------------------------------


@pytest.mark.parametrize("data_seed", [0, 1, 2])
@pytest.mark.parametrize("seeds", [(0,), (1, 2, 3), (10, 11, 12, 13, 14)])
def test_metric_of_x_only_ranks_x_first(data_seed: int, seeds: tuple[int, ...]) -> None:
    space = Space(nbsweep.validate(NOISY_CONFIG))
    rng = random.Random(data_seed)
    runs = []
    for seq in range(60):
        config = space.nest(space.sample(rng))
        runs.append(make_run(seq, config, (config["x"] - 0.3) ** 2))

    data = build_importance_data(runs, space, "loss", "minimize", seeds=seeds)

    assert data.params[0].name == "x"
    assert data.params[0].importance > 0.6
    assert data.params[0].importance > 4 * data.params[1].importance
    assert data.seeds == seeds
    assert {p.name for p in data.params} == set(space.names)
    assert "model.width" in {p.name for p in data.params}


def test_importances_sorted_descending_and_sum_to_one() -> None:
    space = Space(nbsweep.validate(NOISY_CONFIG))
    rng = random.Random(5)
    runs = []
    for seq in range(50):
        config = space.nest(space.sample(rng))
        runs.append(make_run(seq, config, config["x"] + 0.2 * config["noise_u"]))

    data = build_importance_data(runs, space, "loss", "minimize")

    values = [p.importance for p in data.params]
    assert values == sorted(values, reverse=True)
    assert sum(values) == pytest.approx(1.0)
    for p in data.params:
        assert p.importance_min <= p.importance <= p.importance_max
        assert p.importance_std >= 0.0
    # The forest is not perfectly stable on 50 runs; the spread says so.
    assert any(p.importance_max > p.importance_min for p in data.params)


# Case BR-22 ----------------------------------------------------------------------------------


def test_br22_constant_params_get_zero_and_no_correlation() -> None:
    space = br22_space()
    data = build_importance_data(br22_runs(space, 30), space, "loss", "minimize")

    for name in ("y", "seed"):
        entry = data[name]
        assert entry.importance == 0.0
        assert entry.importance_max == 0.0
        assert entry.correlation is None
        assert entry.level_correlations == ()
        assert entry.note is not None
        assert "constant" in entry.note
    assert all(math.isfinite(v) for v in all_numbers(data))


@pytest.mark.parametrize("count", [0, 1, 2])
def test_br22_too_few_runs_gives_a_message_not_an_exception(count: int) -> None:
    space = br22_space()
    data = build_importance_data(br22_runs(space, count), space, "loss", "minimize")

    assert data.is_empty
    assert data.params == ()
    assert data.n_runs == count
    assert data.message == f"need at least 3 finished runs with a finite loss; have {count}"


def test_br22_three_runs_is_enough() -> None:
    space = br22_space()
    data = build_importance_data(br22_runs(space, MIN_RUNS), space, "loss", "minimize")

    assert not data.is_empty
    assert data.message is None
    assert len(data.params) == 4


def test_br22_thirty_runs_rank_x_first_and_opt_second() -> None:
    space = br22_space()
    data = build_importance_data(br22_runs(space, 30), space, "loss", "minimize")

    assert [p.name for p in data.params][:2] == ["x", "opt"]
    assert data["opt"].importance > 0.0
    assert data["x"].correlation is not None
    assert data["x"].correlation > 0.9
    assert data["x"].encoding == "linear"
    assert data["opt"].encoding == "one-hot (3 levels)"


def test_br22_two_calls_give_identical_numbers() -> None:
    space = br22_space()
    runs = br22_runs(space, 30)

    first = build_importance_data(runs, space, "loss", "minimize")
    second = build_importance_data(list(runs), br22_space(), "loss", "minimize")

    assert first == second
    assert all_numbers(first) == all_numbers(second)


def test_br22_opt_correlation_is_per_level() -> None:
    # Every level sees the same x values, so the only difference between levels is sgd's +3.
    space = br22_space()
    runs = []
    for level in ("adam", "sgd", "rmsprop"):
        for x in np.linspace(0.0, 1.0, 10):
            config = {"x": float(x), "y": 1.0, "opt": level, "seed": 7}
            runs.append(make_run(len(runs), config, br22_loss(config)))

    entry = build_importance_data(runs, space, "loss", "minimize")["opt"]

    assert entry.correlation is None  # never a correlation of integer codes
    assert [lc.label for lc in entry.level_correlations] == ["adam", "sgd", "rmsprop"]
    by_level = {lc.value: lc for lc in entry.level_correlations}
    assert by_level["sgd"].correlation is not None
    assert by_level["sgd"].correlation > 0.5
    assert by_level["adam"].correlation < 0
    assert by_level["rmsprop"].correlation < 0
    assert [lc.n_runs for lc in entry.level_correlations] == [10, 10, 10]


def test_br22_failed_and_nonfinite_runs_are_excluded_and_counted() -> None:
    space = br22_space()
    runs = br22_runs(space, 30)
    config = runs[0].config
    extra = [
        make_run(100, config, 0.0, state="failed"),  # a perfect loss, but the run failed
        make_run(101, config, None, state="failed"),
        make_run(102, config, 0.0, state="crashed"),
        make_run(103, config, 0.0, state="running"),
        make_run(104, config, None, metric_count=3),  # logged only NaN
        make_run(105, config, float("inf")),
        make_run(106, config, float("nan"), state="stopped"),
        make_run(107, config, None),  # never logged loss
    ]

    data = build_importance_data(runs + extra, space, "loss", "minimize")
    clean = build_importance_data(runs, space, "loss", "minimize")

    assert data.n_runs == 30
    assert data.n_excluded_failed == 3
    assert data.n_excluded_unfinished == 1
    assert data.n_excluded_nonfinite == 3
    assert data.n_excluded_no_metric == 1
    assert data.n_excluded == 8
    assert data.params == clean.params
    note = " ".join(data.notes)
    assert "3 failed or crashed runs" in note
    assert "1 unfinished run" in note
    assert "3 runs whose loss was only NaN or inf" in note
    assert "1 run that never logged loss" in note
    assert clean.notes == ()


def test_too_few_usable_runs_still_counts_the_rest() -> None:
    space = br22_space()
    runs = br22_runs(space, 2)
    runs += [make_run(10 + i, runs[0].config, 1.0, state="failed") for i in range(5)]

    data = build_importance_data(runs, space, "loss", "minimize")

    assert data.message == "need at least 3 finished runs with a finite loss; have 2"
    assert data.n_excluded_failed == 5
    assert "5 failed or crashed runs" in data.notes[0]


# Encodings and awkward inputs ----------------------------------------------------------------


def test_log_parameter_is_correlated_in_log10() -> None:
    space = Space(
        nbsweep.validate(
            {
                "method": "random",
                "metric": {"name": "loss"},
                "parameters": {
                    "lr": {"distribution": "log_uniform_values", "min": 1e-6, "max": 1.0},
                    "u": {"min": 0.0, "max": 1.0},
                },
            }
        )
    )
    rng = random.Random(3)
    runs = []
    for seq in range(40):
        config = space.nest(space.sample(rng))
        runs.append(make_run(seq, config, math.log10(config["lr"])))

    data = build_importance_data(runs, space, "loss", "minimize")

    assert data["lr"].encoding == "log10"
    assert data["lr"].correlation == pytest.approx(1.0)
    lrs = np.array([r.config["lr"] for r in runs])
    losses = np.array([r.metric_value for r in runs])
    assert np.corrcoef(lrs, losses)[0, 1] < 0.9  # the linear r would understate it
    assert data["u"].encoding == "linear"


def test_no_variation_among_used_runs_is_treated_as_constant() -> None:
    space = br22_space()
    runs = []
    for seq in range(10):
        config = {"x": seq / 2, "y": 1.0, "opt": "adam", "seed": 7}
        runs.append(make_run(seq, config, br22_loss(config)))

    entry = build_importance_data(runs, space, "loss", "minimize")["opt"]

    assert entry.importance == 0.0
    assert entry.correlation is None
    assert entry.note is not None
    assert "no variation among the 10 runs used" in entry.note
    assert all(lc.correlation is None for lc in entry.level_correlations)


def test_parameter_missing_from_some_runs_is_handled() -> None:
    space = br22_space()
    runs = []
    for seq in range(20):
        config: dict[str, Any] = {"x": seq / 4, "y": 1.0, "seed": 7}
        if seq >= 8:  # opt was added to the sweep later
            config["opt"] = ["adam", "sgd", "rmsprop"][seq % 3]
        runs.append(make_run(seq, config, config["x"]))
    runs.append(make_run(99, {"x": 1.0}, 1.0))  # a run from before y and seed existed too

    data = build_importance_data(runs, space, "loss", "minimize")

    assert data.n_runs == 21
    assert data["opt"].n_runs == 12
    assert data["opt"].note is not None
    assert "missing from 9 runs" in data["opt"].note
    assert data["x"].correlation == pytest.approx(1.0)
    assert data.params[0].name == "x"
    assert all(math.isfinite(v) for v in all_numbers(data))


def test_numeric_value_of_wrong_type_is_treated_as_missing() -> None:
    space = br22_space()
    runs = br22_runs(space, 12)
    runs.append(make_run(50, {"x": "oops", "y": 1.0, "opt": "adam", "seed": 7}, 2.0))

    entry = build_importance_data(runs, space, "loss", "minimize")["x"]

    assert entry.n_runs == 12
    assert entry.note is not None
    assert "not a finite number" in entry.note


def test_constant_metric_gives_zero_importance_without_nan() -> None:
    space = br22_space()
    runs = [make_run(r.seq or 0, r.config, 2.5) for r in br22_runs(space, 10)]

    data = build_importance_data(runs, space, "loss", "minimize")

    assert all(p.importance == 0.0 for p in data.params)
    assert all(p.correlation is None for p in data.params)
    assert any("same in every run" in note for note in data.notes)


def test_huge_metric_values_do_not_overflow() -> None:
    space = br22_space()
    runs = [
        make_run(r.seq or 0, r.config, 1e300 * (1 + r.config["x"])) for r in br22_runs(space, 20)
    ]

    data = build_importance_data(runs, space, "loss", "minimize")

    assert data.params[0].name == "x"
    assert data["x"].correlation == pytest.approx(1.0)
    assert all(math.isfinite(v) for v in all_numbers(data))


def test_goal_is_checked() -> None:
    space = br22_space()
    with pytest.raises(ValueError, match="goal must be"):
        build_importance_data([], space, "loss", "lowest")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.one_of(st.floats(-10, 10), st.none(), st.just("text")),
            st.sampled_from(["adam", "sgd", "rmsprop", None]),
            st.one_of(st.floats(-5, 5), st.none(), st.just(float("nan"))),
            st.sampled_from(["finished", "stopped", "failed", "running"]),
        ),
        max_size=12,
    )
)
def test_any_mix_of_runs_gives_finite_sorted_output(rows: list[tuple[Any, ...]]) -> None:
    space = Space(
        {
            "x": {"distribution": "uniform", "min": 0.0, "max": 5.0},
            "opt": {"distribution": "categorical", "values": ["adam", "sgd", "rmsprop"]},
            "seed": {"distribution": "constant", "value": 7},
        }
    )
    runs = []
    for seq, (x, opt, metric, state) in enumerate(rows):
        config: dict[str, Any] = {"seed": 7}
        if x is not None:
            config["x"] = x
        if opt is not None:
            config["opt"] = opt
        runs.append(make_run(seq, config, metric, state=state))

    data = build_importance_data(runs, space, "loss", "maximize")

    assert data.n_runs + data.n_excluded == len(runs)
    assert data.is_empty == (data.n_runs < MIN_RUNS)
    assert all(math.isfinite(v) for v in all_numbers(data))
    values = [p.importance for p in data.params]
    assert values == sorted(values, reverse=True)
    assert all(0.0 <= v <= 1.0 + 1e-9 for v in values)
    assert data == build_importance_data(runs, space, "loss", "maximize")


@pytest.mark.slow
def test_ten_thousand_runs_of_twenty_params_is_fast() -> None:
    parameters: dict[str, Any] = {f"u{i:02d}": {"min": 0.0, "max": 1.0} for i in range(14)}
    parameters |= {f"c{i}": {"values": ["a", "b", "c"]} for i in range(4)}
    parameters |= {
        f"lr{i}": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1.0} for i in range(2)
    }
    space = Space(
        nbsweep.validate(
            {"method": "random", "metric": {"name": "loss"}, "parameters": parameters}
        )
    )
    rng = random.Random(0)
    runs = []
    for seq in range(10_000):
        flat = space.sample(rng)
        runs.append(make_run(seq, space.nest(flat), flat["u07"] + 0.1 * rng.random()))

    started = time.perf_counter()
    data = build_importance_data(runs, space, "loss", "minimize")
    elapsed = time.perf_counter() - started

    assert len(space.params) == 20
    assert data.params[0].name == "u07"
    assert elapsed < 30.0
