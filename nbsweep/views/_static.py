"""Matplotlib figures drawn only from the views' data objects.

Figures are built with the object API (``matplotlib.figure.Figure``), never through pyplot,
so no global figure state leaks and any backend, Agg included, can save them.
"""

from __future__ import annotations

import functools
import logging
import math
import sys
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import Colormap, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from nbsweep.analysis._importance import ImportanceData, ParamImportance
from nbsweep.views._data import CurvesData, ParallelData, ParallelRun

if TYPE_CHECKING:
    from matplotlib.typing import LineStyleType

__all__ = ["plot_curves", "plot_importance", "plot_parallel_coordinates"]

logger = logging.getLogger(__name__)

_CMAP = "viridis"  # perceptually uniform; its bright end is "best"
_NONFINITE_COLOR = "tab:red"
_NO_METRIC_COLOR = "0.65"
_FAILED_COLOR = "0.55"
# Height, above the metric axis, of the slot that marks runs whose metric is NaN or inf.
_NONFINITE_SLOT = 1.1
# At most this many tick labels per axis; a categorical with more levels shows every n-th.
_MAX_TICK_LABELS = 15
_MAX_LEGEND_CURVES = 12
# Up to this many runs each run is its own Line2D (with its id as gid, kept in SVG output);
# above it, runs are drawn as one LineCollection per line style, which renders ten times
# faster.
MAX_LINE_ARTISTS = 2000

# (linestyle, label) per state; colour comes from the metric except for failed runs.
_STATE_STYLES: dict[str, tuple[LineStyleType, str]] = {
    "finished": ("-", "finished"),
    "running": ("--", "running"),
    "stopped": (":", "stopped"),
    "failed": ("-", "failed or crashed"),
    "crashed": ("-", "failed or crashed"),
}


def _figure_and_axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        figure: Any = ax.get_figure()
        while figure is not None and not isinstance(figure, Figure):
            figure = figure.figure  # a subfigure's parent
        if figure is None:
            raise ValueError("ax must belong to a matplotlib Figure")
        return figure, ax
    _show_figures_in_notebooks()
    figure = Figure(figsize=size, layout="constrained")
    return figure, figure.add_subplot()


def _show_figures_in_notebooks() -> None:
    """Let a kernel draw returned figures as images, without the user importing pyplot.

    Figures here are made without pyplot (no global state), and a kernel only learns to
    show a bare Figure as PNG once pyplot's inline backend has loaded.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or getattr(shell, "kernel", None) is None:
        return
    from IPython.core.pylabtools import select_figure_formats

    formatter = shell.display_formatter.formatters["image/png"]
    if Figure not in formatter.type_printers:
        select_figure_formats(shell, {"png"})  # type: ignore[no-untyped-call]


def _message(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, wrap=True)
    ax.set_axis_off()


@functools.lru_cache(maxsize=1)
def _metric_cmap() -> Colormap:
    # ``colormaps[name]`` hands out a fresh copy that builds its lookup table on first use;
    # one shared copy keeps a picture of hundreds of runs from paying that per line.
    return colormaps[_CMAP]


def _run_style(run: ParallelRun) -> dict[str, Any]:
    linestyle, _ = _STATE_STYLES.get(run.state, ("--", run.state))
    if run.metric_nonfinite:
        return {
            "color": _NONFINITE_COLOR,
            "linestyle": "-.",
            "linewidth": 1.2,
            "alpha": 0.9,
            "zorder": 4,
        }
    if run.state in ("failed", "crashed"):
        return {
            "color": _FAILED_COLOR,
            "linestyle": linestyle,
            "linewidth": 0.9,
            "alpha": 0.6,
            "zorder": 2,
        }
    if run.color is None:
        return {
            "color": _NO_METRIC_COLOR,
            "linestyle": linestyle,
            "linewidth": 0.9,
            "alpha": 0.7,
            "zorder": 2,
        }
    return {
        "color": _metric_cmap()(run.color),
        "linestyle": linestyle,
        "linewidth": 1.2,
        "alpha": 0.85,
        "zorder": 3,
    }


def _draw_collected(ax: Axes, runs: list[ParallelRun], xs: np.ndarray) -> None:
    """Draw many runs as one ``LineCollection`` per line style, keeping the draw order."""
    groups: dict[tuple[Any, ...], list[tuple[np.ndarray, dict[str, Any]]]] = {}
    for run in runs:
        style = _run_style(run)
        ys = np.array(run.positions, dtype=float)
        ys = np.repeat(ys, 2) if len(xs) == 2 and len(ys) == 1 else ys
        key = (style["linestyle"], style["linewidth"], style["alpha"], int(style["zorder"]))
        groups.setdefault(key, []).append((np.column_stack([xs, ys]), style))
    for (linestyle, linewidth, alpha, zorder), members in groups.items():
        collection = LineCollection(
            [segment for segment, _ in members],
            colors=[style["color"] for _, style in members],
            linestyles=linestyle,
            linewidths=linewidth,
            alpha=alpha,
            zorder=zorder,
        )
        collection.set_gid(f"runs-{linestyle}-{zorder}")
        ax.add_collection(collection)


def _count(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _thin(count: int) -> int:
    return max(1, math.ceil(count / _MAX_TICK_LABELS))


def plot_parallel_coordinates(
    data: ParallelData, ax: Axes | None = None, *, collected: bool = False
) -> Figure:
    """Draw the parallel-coordinates view: one line per run, one axis per parameter.

    Finished runs are solid, running ones dashed, stopped ones dotted, failed ones grey; the
    colour follows the metric with the bright end always the best run. A run whose metric is
    NaN or inf is drawn red and dash-dotted and marked with an ``x`` in a ``NaN/inf`` slot
    above the metric axis, never at a number. Up to ``MAX_LINE_ARTISTS`` runs, each run's
    line is one ``Line2D`` in ``ax.lines`` with ``gid`` ``run-<id>``, which SVG output keeps as
    the element id; above that, or with ``collected=True`` (about twice as fast to draw),
    runs are drawn as one ``LineCollection`` per line style.

    Parameters
    ----------
    data
        From :func:`~nbsweep.views.build_parallel_data`.
    ax
        Axes to draw into; a new figure is made when None.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from nbsweep.analysis._best import _example_run
    >>> from nbsweep.space import Space
    >>> from nbsweep.views import build_parallel_data
    >>> space = Space({"x": {"distribution": "uniform", "min": 0.0, "max": 1.0}})
    >>> data = build_parallel_data([_example_run(config={"x": 0.3})], space, "loss",
    ...                            "minimize")
    >>> len(plot_parallel_coordinates(data).axes[0].lines)
    1
    """
    n_axes = len(data.axes)
    figure, ax = _figure_and_axes(ax, (min(18.0, max(6.0, 1.4 * n_axes + 2.5)), 4.8))
    xs = np.arange(n_axes, dtype=float)

    ax.vlines(xs, 0.0, 1.0, colors="0.25", linewidth=1.0, zorder=1)
    tick_marks = []
    for i, axis in enumerate(data.axes):
        stride = _thin(len(axis.tick_positions))
        for k, (spot, label) in enumerate(zip(axis.tick_positions, axis.tick_labels, strict=True)):
            tick_marks.append([(i - 0.04, spot), (i, spot)])
            if k % stride == 0:
                ax.text(
                    i - 0.06,
                    spot,
                    label,
                    ha="right",
                    va="center",
                    fontsize=7,
                    zorder=6,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7},
                )
    ax.add_collection(LineCollection(tick_marks, colors="0.25", linewidths=1.0, zorder=1))

    def draw_order(run: ParallelRun) -> tuple[int, float]:
        # Best runs on top; failed and metric-less runs underneath.
        return (0 if run.color is None and not run.metric_nonfinite else 1, run.color or 0.0)

    # Limitation: a run without a value for a parameter (added to the sweep later) has a gap
    # in its line at that axis rather than a separate "missing" tick.
    ordered = sorted(data.runs, key=draw_order)
    # One axis: a line through one point shows nothing, so each run gets a short tick.
    line_xs = np.array([-0.15, 0.15]) if n_axes == 1 else xs
    if len(ordered) <= MAX_LINE_ARTISTS and not collected:
        for run in ordered:
            ys = np.array(run.positions, dtype=float)
            ys = np.repeat(ys, 2) if n_axes == 1 else ys
            (line,) = ax.plot(line_xs, ys, **_run_style(run))
            line.set_gid(f"run-{run.id}")
    else:
        _draw_collected(ax, ordered, line_xs)

    nonfinite = [run for run in data.runs if run.metric_nonfinite]
    last = n_axes - 1
    if nonfinite:
        ax.scatter(
            [last] * len(nonfinite),
            [_NONFINITE_SLOT] * len(nonfinite),
            marker="x",
            color=_NONFINITE_COLOR,
            zorder=5,
            label=None,
        )
        ax.text(
            last + 0.06,
            _NONFINITE_SLOT,
            f"NaN/inf ({len(nonfinite)})",
            ha="left",
            va="center",
            fontsize=7,
            color=_NONFINITE_COLOR,
        )

    if data.color_range is not None:
        worst, best = data.color_range
        mappable = ScalarMappable(norm=Normalize(0.0, 1.0), cmap=_metric_cmap())
        colorbar = figure.colorbar(mappable, ax=ax, pad=0.02, fraction=0.04)
        spots = np.linspace(0.0, 1.0, 5) if worst != best else np.array([1.0])
        colorbar.set_ticks(list(spots))
        colorbar.set_ticklabels([f"{worst + s * (best - worst):.4g}" for s in spots])
        if data.goal == "minimize":
            colorbar.ax.invert_yaxis()  # small values at the bottom, as on the metric axis
        colorbar.set_label(f"{data.metric_name} ({data.goal}; brightest is best)")

    ax.set_xticks(xs)
    ax.set_xticklabels([axis.name for axis in data.axes], rotation=20, ha="right")
    if data.metric_axis is not None:
        ax.get_xticklabels()[-1].set_fontweight("bold")
    ax.set_xlim(-0.6, max(0.6, last + 0.6))
    ax.set_ylim(-0.05, _NONFINITE_SLOT + 0.06 if nonfinite else 1.05)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    colouring = "" if data.metric_name is None else f", coloured by {data.metric_name}"
    ax.set_title(f"{_count(len(data.runs), 'run')}{colouring}", fontsize=10)

    states = {run.state for run in data.runs}
    handles: list[Line2D] = []
    for state, (linestyle, label) in _STATE_STYLES.items():
        if state in states and label not in {h.get_label() for h in handles}:
            color = _FAILED_COLOR if state in ("failed", "crashed") else "0.2"
            handles.append(Line2D([], [], color=color, linestyle=linestyle, label=label))
    if nonfinite:
        handles.append(
            Line2D(
                [],
                [],
                color=_NONFINITE_COLOR,
                linestyle="-.",
                marker="x",
                label=f"{data.metric_name} NaN/inf",
            )
        )
    if handles:
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(0.0, -0.18),
            ncols=min(len(handles), 5),
            fontsize=7,
            frameon=False,
        )
    return figure


def _correlation_text(entry: ParamImportance) -> str:
    if entry.level_correlations:
        parts = [
            f"{level.label} {'n/a' if level.correlation is None else f'{level.correlation:+.2f}'}"
            for level in entry.level_correlations[:4]
        ]
        more = len(entry.level_correlations) - 4
        return "r: " + ", ".join(parts) + (f", +{more} more" if more > 0 else "")
    if entry.correlation is None:
        return "r n/a"
    return f"r = {entry.correlation:+.2f}"


def plot_importance(data: ImportanceData, ax: Axes | None = None) -> Figure:
    """Draw importance as horizontal bars, with seed spread and correlation alongside.

    Bars are the mean importance over seeds and whiskers span the lowest to highest seed.
    Each label names the encoding (``linear``, ``log10``, ``one-hot (3 levels)``); the text
    after the bar is Pearson's r with the metric, per level for categoricals. With too few
    runs the figure shows :attr:`ImportanceData.message` instead.

    Parameters
    ----------
    data
        From :func:`~nbsweep.analysis.build_importance_data`.
    ax
        Axes to draw into; a new figure is made when None.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from nbsweep.analysis import build_importance_data
    >>> from nbsweep.space import Space
    >>> space = Space({"x": {"distribution": "uniform", "min": 0.0, "max": 1.0}})
    >>> figure = plot_importance(build_importance_data([], space, "loss", "minimize"))
    >>> figure.axes[0].texts[0].get_text()
    'need at least 3 finished runs with a finite loss; have 0'
    """
    rows = len(data.params)
    figure, ax = _figure_and_axes(ax, (8.0, max(2.5, 0.55 * rows + 1.8)))
    footer = list(data.notes)
    if data.is_empty:
        _message(ax, data.message or "nothing to show")
        if footer:
            ax.text(
                0.5,
                0.1,
                "\n".join(footer),
                ha="center",
                va="top",
                fontsize=8,
                transform=ax.transAxes,
            )
        return figure

    entries = list(reversed(data.params))  # most important at the top
    ys = np.arange(rows, dtype=float)
    means = np.array([e.importance for e in entries])
    low = np.clip(means - np.array([e.importance_min for e in entries]), 0.0, None)
    high = np.clip(np.array([e.importance_max for e in entries]) - means, 0.0, None)
    ax.barh(ys, means, height=0.6, color="tab:blue", alpha=0.8, zorder=2)
    ax.errorbar(
        means, ys, xerr=[low, high], fmt="none", ecolor="0.15", capsize=3, linewidth=1.0, zorder=3
    )

    reach = float(np.max(means + high)) if rows else 0.0
    span = reach if reach > 0 else 1.0
    for y, entry, end in zip(ys, entries, means + high, strict=True):
        text = _correlation_text(entry)
        if entry.note:
            text += f"  ({entry.note})"
        ax.text(end + 0.02 * span, y, text, va="center", fontsize=7, zorder=4)
    ax.set_xlim(0.0, span * 1.9)
    ax.set_yticks(ys)
    ax.set_yticklabels([f"{e.name}  [{e.encoding}]" for e in entries], fontsize=8)
    ax.set_xlabel(f"importance (mean of {len(data.seeds)} seeds; whiskers: min to max)")
    ax.set_title(
        f"Importance for {data.metric_name} ({data.goal}), {data.n_runs} runs", fontsize=10
    )
    footer.append(
        f"r: Pearson correlation with {data.metric_name}; of log10 for log10 parameters, "
        "of each level's indicator for one-hot ones."
    )
    ax.text(
        0.0,
        -0.12 - 0.02 * max(0, 8 - rows),
        "\n".join(footer),
        transform=ax.transAxes,
        va="top",
        fontsize=7,
    )
    ax.grid(axis="x", alpha=0.3, zorder=0)
    return figure


def plot_curves(data: CurvesData, ax: Axes | None = None) -> Figure:
    """Draw logged values against step, one line per run and key.

    Running runs are dashed, stopped ones dotted, failed ones grey. A NaN or inf value
    breaks its line and is marked with a red ``x`` along the top edge at its step.

    Parameters
    ----------
    data
        From :func:`~nbsweep.views.build_curves_data`.
    ax
        Axes to draw into; a new figure is made when None.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from nbsweep.views import build_curves_data
    >>> data = build_curves_data({"a": [{"step": 0, "loss": 1.0}, {"step": 1, "loss": 0.5}]},
    ...                          "loss")
    >>> len(plot_curves(data).axes[0].lines)
    1
    """
    figure, ax = _figure_and_axes(ax, (7.0, 4.0))
    if data.message is not None:
        _message(ax, data.message)
        return figure

    # Limitation: several keys share one y axis, so keys of very different scales crowd.
    several_keys = len(data.keys) > 1
    top_edge = blended_transform_factory(ax.transData, ax.transAxes)
    palette = colormaps["tab20"](np.arange(20))
    for index, curve in enumerate(data.curves):
        linestyle, _ = _STATE_STYLES.get(curve.state or "finished", ("--", ""))
        style: dict[str, Any] = {
            "linestyle": linestyle,
            "linewidth": 1.2,
            "color": palette[index % len(palette)],
        }
        if curve.state in ("failed", "crashed"):
            style.update(color=_FAILED_COLOR, alpha=0.7)
        best = curve.run_id == data.best_run
        if best:
            style.update(color="black", linewidth=2.4, zorder=4)
        label = f"{curve.run_id} {curve.key}" if several_keys else curve.run_id
        if best:
            label = f"best: {label}"
        marker = "o" if len(curve.steps) == 1 else None
        (line,) = ax.plot(curve.steps, curve.values, label=label, marker=marker, **style)
        line.set_gid(f"run-{curve.run_id}-{curve.key}")
        if curve.nonfinite_steps:
            ax.scatter(
                curve.nonfinite_steps,
                [0.98] * len(curve.nonfinite_steps),
                marker="x",
                color=_NONFINITE_COLOR,
                transform=top_edge,
                zorder=5,
            )
    ax.set_xlabel("step")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(", ".join(data.keys))
    ax.grid(alpha=0.3)
    if len(data.curves) <= _MAX_LEGEND_CURVES:
        ax.legend(fontsize=7)
    elif data.best_run is not None:  # too many runs to list: name the best one only
        best_lines = [line for line in ax.lines if str(line.get_label()).startswith("best: ")]
        ax.legend(handles=best_lines[:1], fontsize=7)
    if any(c.nonfinite_steps for c in data.curves):
        ax.set_title("x: NaN or inf logged at that step", fontsize=8, color=_NONFINITE_COLOR)
    return figure
