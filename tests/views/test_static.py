"""Matplotlib figures drawn from the views' data objects."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

import nbsweep
from nbsweep import ConfigWarning
from nbsweep.analysis import build_importance_data
from nbsweep.space import Space
from nbsweep.store._records import RunRecord
from nbsweep.views import (
    _static,
    build_curves_data,
    build_parallel_data,
    plot_curves,
    plot_importance,
    plot_parallel_coordinates,
)

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


def br21_runs(count: int, states: list[str] | None = None) -> list[RunRecord]:
    space = br21_space()
    rng = random.Random(1)
    runs = []
    for seq in range(count):
        config = space.nest(space.sample(rng))
        loss = abs(math.log10(config["lr"]) + 3) + config["batch"] / 128
        state = states[seq] if states else "finished"
        runs.append(make_run(seq, config, loss, state=state))
    return runs


def br22_space() -> Space:
    with pytest.warns(ConfigWarning):
        return Space(nbsweep.validate(BR22_CONFIG))


def br22_runs(space: Space, count: int) -> list[RunRecord]:
    rng = random.Random(0)
    runs = []
    for seq in range(count):
        c = space.nest(space.sample(rng))
        runs.append(make_run(seq, c, 4 * c["x"] ** 2 + (3.0 if c["opt"] == "sgd" else 0.0)))
    return runs


def save(figure: Figure, path: Path) -> None:
    figure.savefig(path)
    assert path.stat().st_size > 1000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def line_by_id(figure: Figure, run_id: str) -> Any:
    (line,) = [ln for ln in figure.axes[0].lines if ln.get_gid() == f"run-{run_id}"]
    return line


# Parallel coordinates ------------------------------------------------------------------------


def test_parallel_coordinates_has_one_line_per_run_and_saves(tmp_path: Path) -> None:
    runs = br21_runs(40)
    figure = plot_parallel_coordinates(build_parallel_data(runs, br21_space(), "loss", "minimize"))

    assert isinstance(figure, Figure)
    ax = figure.axes[0]
    assert len(ax.lines) == 40
    assert {ln.get_gid() for ln in ax.lines} == {f"run-{r.id}" for r in runs}
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "batch",
        "clip",
        "head.dropout",
        "lr",
        "opt",
        "use_bn",
        "loss",
    ]
    texts = {t.get_text() for t in ax.texts}
    assert {"1e-05", "0.1", "16", "128", "adam", "sgd", "True", "False", "None"} <= texts
    assert "3" not in texts  # no category indices
    assert len(figure.axes) == 2  # the colour bar
    save(figure, tmp_path / "parallel.png")


def test_best_run_has_the_best_colour_for_both_goals() -> None:
    runs = br21_runs(20)
    losses = [r.metric_value for r in runs]
    top = _static.colormaps[_static._CMAP](1.0)
    for goal, best in (
        ("minimize", losses.index(min(losses))),
        ("maximize", losses.index(max(losses))),
    ):
        figure = plot_parallel_coordinates(build_parallel_data(runs, br21_space(), "loss", goal))
        assert to_rgba(line_by_id(figure, runs[best].id).get_color()) == pytest.approx(top)
        assert figure.axes[0].lines[-1].get_gid() == f"run-{runs[best].id}"  # drawn on top
        assert goal in figure.axes[1].get_ylabel()


def test_states_are_drawn_distinctly() -> None:
    states = ["finished", "running", "failed", "stopped", "crashed"]
    runs = br21_runs(5, states)
    figure = plot_parallel_coordinates(build_parallel_data(runs, br21_space(), "loss", "minimize"))

    style = {r.state: line_by_id(figure, r.id) for r in runs}
    assert style["finished"].get_linestyle() == "-"
    assert style["running"].get_linestyle() == "--"
    assert style["stopped"].get_linestyle() == ":"
    assert to_rgba(style["failed"].get_color())[:3] == pytest.approx(to_rgba("0.55")[:3])
    assert to_rgba(style["crashed"].get_color())[:3] == pytest.approx(to_rgba("0.55")[:3])
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend == ["finished", "running", "stopped", "failed or crashed"]


def test_nonfinite_runs_are_marked_not_plotted_at_a_number(tmp_path: Path) -> None:
    runs = br21_runs(6)
    runs.append(make_run(50, runs[0].config, None, metric_count=2))
    data = build_parallel_data(runs, br21_space(), "loss", "minimize")

    figure = plot_parallel_coordinates(data)

    ax = figure.axes[0]
    marked = line_by_id(figure, "run50")
    ys = np.asarray(marked.get_ydata(), dtype=float)
    assert math.isnan(ys[-1])  # no position on the metric axis
    assert not np.isnan(ys[:-1]).any()
    assert marked.get_linestyle() == "-."
    assert to_rgba(marked.get_color())[:3] == pytest.approx(to_rgba("tab:red")[:3])
    (marker,) = ax.collections[-1:]
    assert marker.get_offsets()[0][1] > 1.0  # in the NaN slot above the axis
    assert any(t.get_text() == "NaN/inf (1)" for t in ax.texts)
    assert "loss NaN/inf" in [t.get_text() for t in ax.get_legend().get_texts()]
    save(figure, tmp_path / "nan.png")


def test_single_run_and_constant_param_render(tmp_path: Path) -> None:
    space = Space(
        nbsweep.validate(
            {
                "method": "random",
                "metric": {"name": "acc", "goal": "maximize"},
                "parameters": {"seed": {"value": 7}, "x": {"min": 0.0, "max": 1.0}},
            }
        )
    )
    for count in (1, 3):
        runs = [make_run(i, {"seed": 7, "x": i / 3}, 0.5) for i in range(count)]
        figure = plot_parallel_coordinates(build_parallel_data(runs, space, "acc", "maximize"))
        assert len(figure.axes[0].lines) == count
        seed_y = [line.get_ydata()[0] for line in figure.axes[0].lines]
        assert seed_y == [0.5] * count  # flat axis
        save(figure, tmp_path / f"single{count}.png")


def test_no_runs_and_one_axis_render(tmp_path: Path) -> None:
    empty = plot_parallel_coordinates(build_parallel_data([], br21_space(), "loss", "minimize"))
    assert len(empty.axes[0].lines) == 0
    save(empty, tmp_path / "empty.png")

    nothing = Space({})
    runs = [make_run(0, {}, 1.0), make_run(1, {}, 2.0)]
    figure = plot_parallel_coordinates(build_parallel_data(runs, nothing, "loss", "minimize"))
    assert len(figure.axes[0].lines) == 2
    save(figure, tmp_path / "metric_only.png")


def test_many_runs_are_drawn_as_collections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_static, "MAX_LINE_ARTISTS", 5)
    runs = br21_runs(12, ["finished"] * 10 + ["running", "failed"])
    figure = plot_parallel_coordinates(build_parallel_data(runs, br21_space(), "loss", "minimize"))

    ax = figure.axes[0]
    assert len(ax.lines) == 0
    drawn = [
        c
        for c in ax.collections
        if isinstance(c, LineCollection) and (c.get_gid() or "").startswith("runs-")
    ]
    assert sum(len(c.get_segments()) for c in drawn) == 12
    assert len(drawn) == 3  # solid coloured, dashed coloured, failed grey


def test_draws_into_a_given_axes_without_pyplot() -> None:
    plt = pytest.importorskip("matplotlib.pyplot")
    before = plt.get_fignums()
    figure = Figure()
    left, right = figure.subplots(1, 2)

    returned = plot_parallel_coordinates(
        build_parallel_data(br21_runs(3), br21_space(), "loss", "minimize"), ax=right
    )

    assert returned is figure
    assert len(right.lines) == 3
    assert len(left.lines) == 0
    assert plt.get_fignums() == before
    assert matplotlib.get_backend()  # any backend; the figure never touched pyplot


# Importance ----------------------------------------------------------------------------------


def test_importance_bars_whiskers_and_correlation(tmp_path: Path) -> None:
    space = br22_space()
    data = build_importance_data(br22_runs(space, 30), space, "loss", "minimize")

    figure = plot_importance(data)

    ax = figure.axes[0]
    assert len(ax.patches) == 4  # one bar per parameter
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-1] == "x  [linear]"  # most important at the top
    assert labels[-2] == "opt  [one-hot (3 levels)]"
    assert "seed  [constant]" in labels
    texts = [t.get_text() for t in ax.texts]
    assert any(t.startswith("r = +0.9") for t in texts)
    assert any(t.startswith("r: adam ") and "sgd " in t and "rmsprop " in t for t in texts)
    assert sum(t.startswith("r n/a") for t in texts) == 2
    widths = sorted(p.get_width() for p in ax.patches)
    assert widths[-1] == pytest.approx(data.params[0].importance)
    save(figure, tmp_path / "importance.png")


@pytest.mark.parametrize("count", [0, 1, 2])
def test_importance_with_too_few_runs_draws_the_message(count: int, tmp_path: Path) -> None:
    space = br22_space()
    data = build_importance_data(br22_runs(space, count), space, "loss", "minimize")

    figure = plot_importance(data)

    ax = figure.axes[0]
    assert len(ax.patches) == 0
    assert ax.texts[0].get_text() == (
        f"need at least 3 finished runs with a finite loss; have {count}"
    )
    save(figure, tmp_path / f"importance{count}.png")


def test_importance_notes_are_shown() -> None:
    space = br22_space()
    runs = [*br22_runs(space, 10), make_run(99, {"x": 1.0}, 2.0, state="failed")]

    figure = plot_importance(build_importance_data(runs, space, "loss", "minimize"))

    assert any("Left out: 1 failed or crashed run." in t.get_text() for t in figure.axes[0].texts)


# Curves --------------------------------------------------------------------------------------


def test_curves_one_line_each_and_nonfinite_marked(tmp_path: Path) -> None:
    histories = {
        f"r{i}": [{"step": s, "loss": 1.0 / (s + 1) + i} for s in range(10)] for i in range(3)
    }
    histories["r1"][4]["loss"] = math.nan
    data = build_curves_data(histories, "loss", states={"r2": "failed", "r0": "running"})

    figure = plot_curves(data)

    ax = figure.axes[0]
    assert len(ax.lines) == 3
    by_id = {ln.get_gid(): ln for ln in ax.lines}
    assert by_id["run-r0-loss"].get_linestyle() == "--"
    assert math.isnan(by_id["run-r1-loss"].get_ydata()[4])
    assert len(ax.collections) == 1  # the NaN marker
    assert ax.collections[0].get_offsets()[0][0] == 4.0
    save(figure, tmp_path / "curves.png")


def test_curves_with_nothing_logged_show_a_message(tmp_path: Path) -> None:
    figure = plot_curves(build_curves_data({"a": [{"step": 0}]}, "loss"))

    assert len(figure.axes[0].lines) == 0
    assert figure.axes[0].texts[0].get_text() == "no run has logged loss yet"
    save(figure, tmp_path / "no_curves.png")


def test_sweep_without_metric_and_subfigure_axes_render(tmp_path: Path) -> None:
    figure = Figure()
    (sub,) = figure.subfigures(1, 1, squeeze=False)[0]
    ax = sub.add_subplot()

    returned = plot_parallel_coordinates(
        build_parallel_data(br21_runs(4), br21_space(), None, "minimize"), ax=ax
    )

    assert returned is figure
    assert len(ax.lines) == 4
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "use_bn"
    assert ax.get_title() == "4 runs"
    save(figure, tmp_path / "no_metric.png")
