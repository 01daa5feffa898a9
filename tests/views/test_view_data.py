"""The data behind the parallel-coordinates and curves views."""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nbsweep
from nbsweep.space import Space
from nbsweep.store._records import RunRecord
from nbsweep.views import (
    AXIS_KINDS,
    ParallelData,
    build_curves_data,
    build_parallel_data,
)

# The sweep of case BR-21: a log, a numeric categorical, a string, a boolean, a None-bearing
# and a nested parameter.
BR21_CONFIG = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1.0e-5, "max": 1.0e-1},
        "batch": {"values": [128, 16, 64, 32]},
        "opt": {"values": ["adam", "sgd"]},
        "use_bn": {"values": [True, False]},
        "clip": {"values": [None, 1.0]},
        "head": {"parameters": {"dropout": {"min": 0.0, "max": 0.5}}},
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
        created_at=float(seq),
        started_at=float(seq),
        finished_at=float(seq) + 1.0,
        rev=1,
    )


def br21_space() -> Space:
    return Space(nbsweep.validate(BR21_CONFIG))


def br21_loss(config: dict[str, Any]) -> float:
    return abs(math.log10(config["lr"]) + 3) + config["batch"] / 128


def br21_runs(count: int = 40, seed: int = 0) -> list[RunRecord]:
    space = br21_space()
    rng = random.Random(seed)
    runs = []
    for seq in range(count):
        config = space.nest(space.sample(rng))
        runs.append(make_run(seq, config, br21_loss(config)))
    return runs


def br21_data(runs: list[RunRecord] | None = None, goal: str = "minimize") -> ParallelData:
    return build_parallel_data(br21_runs() if runs is None else runs, br21_space(), "loss", goal)


def position(data: ParallelData, run_index: int, axis_name: str) -> float:
    index = [a.name for a in data.axes].index(axis_name)
    return data.runs[run_index].positions[index]


# Case BR-21 ----------------------------------------------------------------------------------


def test_axis_order_is_params_in_wandb_order_then_metric() -> None:
    data = br21_data()

    assert [a.name for a in data.axes] == [
        "batch",
        "clip",
        "head.dropout",
        "lr",
        "opt",
        "use_bn",
        "loss",
    ]
    assert data.axes[-1].is_metric
    assert data.metric_axis.name == "loss"
    assert not any(a.is_metric for a in data.axes[:-1])
    assert all(a.kind in AXIS_KINDS for a in data.axes)


def test_lr_axis_is_log_with_real_valued_ticks() -> None:
    axis = br21_data().axis("lr")

    assert axis.kind == "log"
    assert axis.domain == (1e-5, 1e-1)
    assert axis.tick_labels == ("1e-05", "0.0001", "0.001", "0.01", "0.1")
    assert axis.tick_values == pytest.approx([1e-5, 1e-4, 1e-3, 1e-2, 1e-1])
    assert axis.tick_positions == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])


def test_lr_positions_are_log10_positions() -> None:
    runs = br21_runs()
    data = br21_data(runs)

    for i, run in enumerate(runs):
        expected = (math.log10(run.config["lr"]) + 5) / 4
        assert position(data, i, "lr") == pytest.approx(expected)
    # Not squashed near 0, as a linear axis would put every lr below 0.1 of the way up.
    spots = [position(data, i, "lr") for i in range(len(runs))]
    assert np.median(spots) > 0.2
    assert max(spots) - min(spots) > 0.5


def test_batch_axis_is_sorted_numerically_and_labelled_by_value() -> None:
    runs = br21_runs()
    data = br21_data(runs)
    axis = data.axis("batch")

    assert axis.kind == "categorical"
    assert axis.values == (16, 32, 64, 128)
    assert axis.tick_labels == ("16", "32", "64", "128")
    assert axis.tick_positions == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0])
    for i, run in enumerate(runs):
        expected = axis.tick_positions[axis.values.index(run.config["batch"])]
        assert position(data, i, "batch") == expected


def test_string_and_bool_axes_show_labels() -> None:
    data = br21_data()

    assert data.axis("opt").tick_labels == ("adam", "sgd")
    assert data.axis("opt").values == ("adam", "sgd")
    assert data.axis("use_bn").tick_labels == ("True", "False")
    assert data.axis("use_bn").values == (True, False)


def test_clip_has_a_separate_none_tick() -> None:
    runs = [
        make_run(
            0,
            {
                "lr": 1e-3,
                "batch": 16,
                "opt": "adam",
                "use_bn": True,
                "clip": None,
                "head": {"dropout": 0.1},
            },
            1.0,
        ),
        make_run(
            1,
            {
                "lr": 1e-3,
                "batch": 16,
                "opt": "adam",
                "use_bn": True,
                "clip": 1.0,
                "head": {"dropout": 0.1},
            },
            2.0,
        ),
    ]
    data = br21_data(runs)
    axis = data.axis("clip")

    assert axis.kind == "categorical"
    assert axis.tick_labels == ("None", "1.0")
    assert axis.values == (None, 1.0)
    assert position(data, 0, "clip") == axis.tick_positions[0]
    assert position(data, 1, "clip") == axis.tick_positions[1]
    assert axis.tick_positions[0] != axis.tick_positions[1]


def test_nested_axis_is_titled_with_its_dotted_name() -> None:
    runs = br21_runs()
    data = br21_data(runs)
    axis = data.axis("head.dropout")

    assert axis.kind == "linear"
    assert axis.domain == (0.0, 0.5)
    assert axis.tick_labels == ("0", "0.1", "0.2", "0.3", "0.4", "0.5")
    assert position(data, 0, "head.dropout") == pytest.approx(
        runs[0].config["head"]["dropout"] / 0.5
    )


@pytest.mark.parametrize("goal", ["minimize", "maximize"])
def test_colours_follow_goal(goal: str) -> None:
    runs = br21_runs()
    data = br21_data(runs, goal=goal)
    losses = [r.metric_value for r in runs]
    lowest, highest = losses.index(min(losses)), losses.index(max(losses))
    best, worst = (lowest, highest) if goal == "minimize" else (highest, lowest)

    assert data.runs[best].color == 1.0
    assert data.runs[worst].color == 0.0
    assert data.color_range == (losses[worst], losses[best])
    # The metric axis itself stays in real units, low values at the bottom.
    assert position(data, lowest, "loss") == 0.0
    assert position(data, highest, "loss") == 1.0
    # Better runs are always nearer colour 1.
    by_color = sorted(range(len(runs)), key=lambda i: data.runs[i].color or 0.0)
    ordered = [losses[i] for i in by_color]
    assert ordered == sorted(ordered, reverse=goal == "minimize")


def test_single_run_gives_flat_axes() -> None:
    data = br21_data(br21_runs(1))

    assert len(data.runs) == 1
    assert data.metric_axis.is_constant
    assert data.runs[0].positions[-1] == 0.5
    assert data.runs[0].color == 1.0
    assert data.metric_axis.tick_labels == (f"{data.runs[0].metric_value:g}",)
    assert not data.axis("lr").is_constant  # parameter axes keep the config's range


def test_constant_parameters_are_flat_axes() -> None:
    space = Space(
        nbsweep.validate(
            {
                "method": "random",
                "metric": {"name": "loss"},
                "parameters": {
                    "seed": {"value": 7},
                    "name": {"value": "baseline"},
                    "only": {"values": ["one"]},
                    "x": {"min": 0.0, "max": 1.0},
                },
            }
        )
    )
    runs = [
        make_run(i, {"seed": 7, "name": "baseline", "only": "one", "x": i / 4}, float(i))
        for i in range(5)
    ]

    data = build_parallel_data(runs, space, "loss", "minimize")

    seed, name, only = data.axis("seed"), data.axis("name"), data.axis("only")
    assert seed.kind == "linear"
    assert seed.is_constant
    assert seed.tick_labels == ("7",)
    assert name.kind == "categorical"
    assert name.is_constant
    assert name.tick_labels == ("baseline",)
    assert only.is_constant
    for axis in (seed, name, only):
        index = data.axes.index(axis)
        assert {run.positions[index] for run in data.runs} == {0.5}


def test_nonfinite_metric_is_marked_not_placed() -> None:
    runs = br21_runs(5)
    config = runs[0].config
    runs += [
        make_run(10, config, None, metric_count=3),  # only NaN logged
        make_run(11, config, float("inf")),
        make_run(12, config, None),  # never logged
    ]

    data = br21_data(runs)

    nan_run, inf_run, silent_run = data.runs[-3:]
    for run in (nan_run, inf_run):
        assert run.metric_nonfinite
        assert math.isnan(run.positions[-1])
        assert run.metric_value is None
        assert run.color is None
        assert not any(math.isnan(p) for p in run.positions[:-1])
    assert not silent_run.metric_nonfinite
    assert math.isnan(silent_run.positions[-1])
    assert not any(r.metric_nonfinite for r in data.runs[:5])
    assert any("2 runs logged loss only as NaN or inf" in note for note in data.notes)
    # The marked runs do not stretch the metric axis or the colour scale.
    finite = [r.metric_value for r in runs[:5]]
    assert data.metric_axis.domain == (min(finite), max(finite))


def test_state_is_kept_for_each_run() -> None:
    runs = br21_runs(4)
    states = ["finished", "running", "failed", "stopped"]
    runs = [
        make_run(i, r.config, r.metric_value, state=s)
        for i, (r, s) in enumerate(zip(runs, states, strict=True))
    ]

    data = br21_data(runs)

    assert [r.state for r in data.runs] == states
    assert [r.id for r in data.runs] == ["run0", "run1", "run2", "run3"]


def test_missing_values_are_nan_and_counted() -> None:
    runs = br21_runs(3)
    runs.append(make_run(9, {"lr": 1e-3, "batch": 16}, 1.0))  # made before the others existed

    data = br21_data(runs)

    last = data.runs[-1]
    assert math.isnan(position(data, 3, "opt"))
    assert math.isnan(position(data, 3, "head.dropout"))
    assert position(data, 3, "lr") == pytest.approx(0.5)
    assert last.positions[-1] == last.positions[-1]  # the metric is still placed
    assert "opt is missing from 1 of 4 runs." in data.notes


def test_values_outside_the_config_extend_the_axis() -> None:
    runs = br21_runs(3)
    odd = dict(runs[0].config, batch=256, head={"dropout": 0.8})
    runs.append(make_run(9, odd, 1.0))

    data = br21_data(runs)

    assert data.axis("batch").values == (16, 32, 64, 128, 256)
    assert data.axis("head.dropout").domain == (0.0, 0.8)
    assert position(data, 3, "head.dropout") == 1.0
    assert position(data, 3, "batch") == 1.0


def test_integer_axis_has_integer_ticks_and_numeric_categoricals_mix_types() -> None:
    space = Space(
        {
            "layers": {"distribution": "int_uniform", "min": 1, "max": 4},
            "width": {"distribution": "categorical", "values": [2.5, 1, 10]},
        }
    )
    data = build_parallel_data(
        [make_run(0, {"layers": 2, "width": 1.0}, 0.5)], space, "loss", "minimize"
    )

    assert data.axis("layers").tick_values == (1, 2, 3, 4)
    assert data.axis("layers").tick_labels == ("1", "2", "3", "4")
    assert data.axis("width").values == (1, 2.5, 10)
    assert position(data, 0, "width") == 0.0  # 1.0 is the level 1


def test_unbounded_distribution_uses_observed_range() -> None:
    space = Space(
        {
            "w": {"distribution": "normal", "mu": 0.0, "sigma": 1.0},
            "s": {"distribution": "log_normal", "mu": 0.0, "sigma": 1.0},
        }
    )
    runs = [
        make_run(i, {"w": w, "s": s}, 1.0)
        for i, (w, s) in enumerate([(-2.0, 0.1), (1.0, 1.0), (3.0, 10.0)])
    ]

    data = build_parallel_data(runs, space, "loss", "minimize")

    assert data.axis("w").domain == (-2.0, 3.0)
    assert data.axis("s").kind == "log"
    assert data.axis("s").domain == (0.1, 10.0)
    assert position(data, 1, "s") == pytest.approx(0.5)
    empty = build_parallel_data([], space, "loss", "minimize")
    assert empty.axis("w").domain is not None
    assert empty.metric_axis.domain is None


def test_goal_is_checked() -> None:
    with pytest.raises(ValueError, match="goal must be"):
        build_parallel_data([], br21_space(), "loss", "up")


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(-1e6, 1e6),
            st.floats(1e-9, 1e9),
            st.one_of(st.floats(-1e3, 1e3), st.none(), st.just(math.nan)),
        ),
        max_size=8,
    )
)
def test_positions_are_in_unit_interval_or_nan(rows: list[tuple[float, float, Any]]) -> None:
    space = Space(
        {
            "u": {"distribution": "uniform", "min": 0.0, "max": 1.0},
            "g": {"distribution": "log_uniform_values", "min": 1e-3, "max": 1.0},
        }
    )
    runs = [make_run(i, {"u": u, "g": g}, m) for i, (u, g, m) in enumerate(rows)]

    data = build_parallel_data(runs, space, "loss", "maximize")

    positions = data.positions()
    assert positions.shape == (len(rows), 3)
    finite = positions[~np.isnan(positions)]
    assert np.all((finite >= 0.0) & (finite <= 1.0))
    for axis in data.axes:
        assert len(axis.tick_positions) == len(axis.tick_labels) == len(axis.tick_values)
        assert all(-1e-9 <= p <= 1 + 1e-9 for p in axis.tick_positions)
    for run in data.runs:
        assert (run.color is None) == (run.metric_value is None)


# Curves --------------------------------------------------------------------------------------


def test_curves_are_sorted_by_step_with_nonfinite_values_kept_as_gaps() -> None:
    histories = {
        "a": [
            {"step": 2, "loss": 0.5},
            {"step": 0, "loss": 1.0},
            {"step": 1, "loss": math.nan},
            {"step": 3, "acc": 0.9},
            {"step": 4, "loss": math.inf},
        ],
        "b": [{"loss": 3.0}, {"loss": 2.0}],  # no step: the row's index
        "c": [{"step": 0, "acc": 0.1}],
    }

    data = build_curves_data(histories, "loss", states={"a": "running"})

    assert [c.run_id for c in data.curves] == ["a", "b"]
    a, b = data.curves
    assert a.steps == (0.0, 1.0, 2.0, 4.0)
    assert a.values[0] == 1.0
    assert math.isnan(a.values[1])
    assert a.values[2] == 0.5
    assert math.isnan(a.values[3])
    assert a.nonfinite_steps == (1.0, 4.0)
    assert a.state == "running"
    assert b.steps == (0.0, 1.0)
    assert b.state is None
    assert data.message is None


def test_curves_of_several_keys_and_of_nothing() -> None:
    histories = {"a": [{"step": 0, "loss": 1.0, "acc": 0.2}, {"step": 1, "loss": 0.5}]}

    data = build_curves_data(histories, ["loss", "acc"])
    empty = build_curves_data(histories, "f1")

    assert [(c.run_id, c.key, len(c.steps)) for c in data.curves] == [
        ("a", "loss", 2),
        ("a", "acc", 1),
    ]
    assert data.keys == ("loss", "acc")
    assert empty.curves == ()
    assert empty.message == "no run has logged f1 yet"


def test_sweep_without_metric_has_no_metric_axis() -> None:
    runs = br21_runs(3)

    data = build_parallel_data(runs, br21_space(), None, "minimize")

    assert data.metric_axis is None
    assert len(data.axes) == 6
    assert not any(a.is_metric for a in data.axes)
    assert all(r.color is None and not r.metric_nonfinite for r in data.runs)
    assert data.color_range is None
    assert "The sweep has no metric; lines are not coloured." in data.notes
