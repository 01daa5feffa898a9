"""The sweep config builder: a form in the notebook that writes a W&B sweep config.

Every change in the form assembles the config dict again and runs it through
:func:`nbsweep.validate`, the function the rest of nbsweep uses, so the form accepts exactly
what the API accepts. Each problem's dotted path (``parameters.lr.max``) names the place in
the form where it is shown: every input registers the path of the key it writes while the
config is assembled, and a path without an input of its own falls back to its nearest
parent that has one (the parameter's row, the section, the top of the form).

Number fields hold YAML scalars read with nbsweep's YAML 1.2 reader, so ``1e-4`` is a float,
``3`` an int and ``3.0`` a float, as in a sweep file. Keys the form has no input for stay in
"other keys" boxes (for the whole config, the metric, hyperband and each parameter), so a
config loaded into the builder comes out with everything it held.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import html
import logging
import math
import random
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as w
import yaml

from nbsweep._warnings import ConfigWarning
from nbsweep.config import (
    DISTRIBUTIONS,
    ConfigError,
    Problem,
    SweepConfig,
    canonical_key,
    load_config,
    loads_yaml,
    validate,
)
from nbsweep.space import Space

__all__ = ["DRAWS", "LARGE_GRID", "Builder", "FieldMessage", "ParamRow", "builder"]

logger = logging.getLogger(__name__)

LARGE_GRID = 10_000
"""A grid with more points than this gets a warning in the form."""

DRAWS = 500
"""Draws behind each parameter's histogram."""

_HIST_SEED = 0
_HIST_BINS = 24
_HIST_CACHE_SIZE = 256

_METHODS = ("grid", "random", "bayes")
_GOALS = ("minimize", "maximize")
_IMPUTE = ("worst", "best", "latest")
_LIST_FORMS = ("categorical", "categorical_w_probabilities")
_RANGE_FORMS = tuple(name for name in DISTRIBUTIONS if name not in ("constant", *_LIST_FORMS))
_LEGACY_LOG = ("log_uniform", "q_log_uniform", "inv_log_uniform")
_KINDS = (
    ("fixed value", "value"),
    ("list of values", "values"),
    ("distribution", "distribution"),
    ("group", "group"),
)
_HB_KEYS = ("min_iter", "max_iter", "s", "eta")
# Puts a row's buttons level with its inputs, below the inputs' labels.
_ROW_BUTTON_MARGIN = "15px 2px 0 0"


class _Default:
    """A dropdown's "leave the key out" choice (a dropdown cannot offer None: "no choice")."""

    def __repr__(self) -> str:
        return "<default>"


_DEFAULT: Any = _Default()
_IMPUTE_OPTIONS = [("default (worst)", _DEFAULT), *((v, v) for v in _IMPUTE)]
_STRICT_OPTIONS = [("default (true)", _DEFAULT), ("true", True), ("false", False)]
# Top-level keys the form edits; every other key lives in the "other keys" box.
_FORM_KEYS = ("method", "metric", "run_cap", "early_terminate", "parameters")
# Other keys that read best above the search settings in the YAML.
_HEAD_KEYS = ("name", "description", "project", "entity", "program")

# Slots that are not config paths (parenthesised, so no config key can name them).
OTHER_KEYS = "(other keys)"
FILE = "(file)"
FUNCTION = "(function)"
COUNT = "(count)"
SEED = "(seed)"
RUN = "(run)"

_CSS = """
<style>
.nbsweep-builder { font-size: 13px; }
.nbsweep-builder .nbsweep-b-h { font-weight: 600; margin: 8px 0 2px 0;
  border-bottom: 1px solid var(--jp-border-color2, #ddd); }
.nbsweep-builder .nbsweep-b-label { font-size: 11px; color: var(--jp-ui-font-color2, #666);
  line-height: 14px; white-space: nowrap; }
.nbsweep-builder .nbsweep-msg { font-size: 12px; line-height: 1.3; white-space: normal;
  max-width: 20em; margin: 1px 0; }
.nbsweep-builder .nbsweep-msg-error { color: var(--jp-error-color1, #b00020); }
.nbsweep-builder .nbsweep-msg-warning { color: var(--jp-warn-color1, #8a5a00); }
.nbsweep-builder .nbsweep-msg-note { color: var(--jp-ui-font-color2, #555); }
.nbsweep-builder .nbsweep-invalid input, .nbsweep-builder .nbsweep-invalid select,
.nbsweep-builder .nbsweep-invalid textarea {
  border-color: var(--jp-error-color1, #d33) !important; }
.nbsweep-builder .nbsweep-b-row { border-top: 1px solid var(--jp-border-color3, #eee);
  border-left: 3px solid transparent; padding: 2px 0 2px 4px; }
.nbsweep-builder .nbsweep-b-row.nbsweep-invalid-row {
  border-left-color: var(--jp-error-color1, #d33); }
.nbsweep-builder .nbsweep-hidden { display: none !important; }
.nbsweep-builder .nbsweep-b-children { border-left: 3px solid var(--jp-border-color2, #ccd);
  padding-left: 8px; margin-left: 14px; }
.nbsweep-builder .nbsweep-b-yaml pre { font-size: 12px; margin: 0; padding: 6px;
  background: var(--jp-layout-color2, #f6f6f6); white-space: pre; overflow-x: auto; }
.nbsweep-builder .nbsweep-hist-axis { display: flex; justify-content: space-between;
  font-size: 10px; color: var(--jp-ui-font-color2, #666); width: 176px; }
.nbsweep-builder .nbsweep-hist-cat { flex: 1 1 0; text-align: center; overflow: hidden; }
</style>
"""


# YAML text for the fields and the file ------------------------------------------------------

# YAML 1.2 floats (the form nbsweep reads), so the dumpers quote strings such as "1e-4" that
# nbsweep's reader would take for numbers, and write floats without a !!float tag.
_YAML12_FLOAT = re.compile(
    r"^(?:[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


def _float_text(value: float) -> str:
    value = float(value)
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    return repr(value)


class _FileDumper(yaml.SafeDumper):  # type: ignore[misc]
    """Block YAML for sweep files: lists of plain values on one line, keys in form order."""


class _FlowDumper(_FileDumper):
    """One-line YAML for the form's fields, with floats as Python writes them (``1e-05``)."""


def _reads_as_written(text: str) -> bool:
    try:
        back = loads_yaml(text)
    except ConfigError:
        return False
    return isinstance(back, str) and back == text


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = None
    if any(c in value for c in "\n\r\t") or not value.isprintable():
        style = '"'
    elif value and not _reads_as_written(value):
        style = "'"
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any] | tuple[Any, ...]) -> yaml.Node:
    flat = all(not isinstance(v, Mapping | list | tuple) for v in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", list(value), flow_style=flat)


def _represent_number(dumper: yaml.SafeDumper, value: Any) -> yaml.Node:
    if isinstance(value, bool):
        return dumper.represent_bool(value)
    if isinstance(value, int):
        return dumper.represent_int(int(value))
    return dumper.represent_float(float(value))


def _represent_flow_float(dumper: yaml.SafeDumper, value: float) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:float", _float_text(value))


for _dumper in (_FileDumper, _FlowDumper):
    _dumper.add_implicit_resolver("tag:yaml.org,2002:float", _YAML12_FLOAT, list("-+0123456789."))
    _dumper.add_representer(str, _represent_str)
    _dumper.add_representer(list, _represent_list)
    _dumper.add_representer(tuple, _represent_list)
    _dumper.add_multi_representer(int, _represent_number)
    _dumper.add_multi_representer(float, _represent_number)
_FlowDumper.add_representer(float, _represent_flow_float)
_FlowDumper.add_multi_representer(float, _represent_flow_float)


def to_yaml(config: Mapping[str, Any]) -> str:
    """A sweep config as YAML text that :func:`nbsweep.validate` reads back to the same config.

    Keys keep their order; lists of plain values are written on one line.

    Examples
    --------
    >>> print(to_yaml({"method": "grid", "parameters": {"lr": {"values": [1e-4, "1e-3"]}}}))
    method: grid
    parameters:
      lr:
        values: [0.0001, '1e-3']
    <BLANKLINE>
    """
    return str(
        yaml.dump(
            dict(config),
            Dumper=_FileDumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            width=10_000,
        )
    )


def _flow(value: Any) -> str:
    text: str = yaml.dump(
        value,
        Dumper=_FlowDumper,
        default_flow_style=True,
        sort_keys=False,
        allow_unicode=True,
        width=float("inf"),
    )
    text = text.strip()
    if text.endswith("\n..."):
        text = text[: -len("\n...")].strip()
    return text.removesuffix("...").strip()


class _Missing:
    """An empty field: its key is left out of the config."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


def _scalar_text(value: Any) -> str:
    """The text a field shows for ``value``."""
    if isinstance(value, float) and not isinstance(value, bool):
        return _float_text(value)
    return _flow(value)


def _parse_scalar(text: str) -> Any:
    """A field's value: YAML as nbsweep reads it; unreadable text stays a string."""
    stripped = text.strip()
    if not stripped:
        return MISSING
    try:
        return loads_yaml(stripped)
    except ConfigError:
        return stripped


def _list_text(value: Any) -> str:
    """A list shown without its brackets when that reads back the same (``adam, sgd``)."""
    text = _flow(value)
    if isinstance(value, list) and value and text.startswith("[") and text.endswith("]"):
        inner = text[1:-1].strip()
        if not inner.startswith("[") and _same(_parse_list(inner), value):
            return inner
    return text


def _parse_list(text: str) -> Any:
    stripped = text.strip()
    if not stripped:
        return MISSING
    source = stripped if stripped.startswith("[") else f"[{stripped}]"
    try:
        return loads_yaml(source)
    except ConfigError:
        return stripped


def _mapping_text(value: Mapping[str, Any]) -> str:
    return _flow(dict(value)) if value else ""


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same YAML kind (``1`` is not ``1.0``, ``True`` is not ``1``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int) and isinstance(b, int):
        return bool(a == b)
    if isinstance(a, float) and isinstance(b, float):
        return bool(a == b) or (math.isnan(a) and math.isnan(b))
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if a is None or b is None:
        return a is None and b is None
    if type(a) is list and type(b) is list:
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict and type(b) is dict:
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return False


def _fits(value: Any, show: Callable[[Any], str], read: Callable[[str], Any]) -> bool:
    """True when a field can show ``value`` and read it back unchanged."""
    try:
        return _same(read(show(value)), value)
    except Exception:
        return False


# Messages -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldMessage:
    """One message shown in the form.

    Attributes
    ----------
    field
        Where it is shown: the config path of an input (``parameters.lr.max``), of a
        parameter's row (``parameters.lr``), of a section (``metric``), one of the
        parenthesised places that are not config keys (``(other keys)``, ``(function)``,
        ``(count)``, ``(seed)``, ``(file)``, ``(run)``), or ``""`` for the top of the form.
    level
        ``error`` (the config cannot be used), ``warning`` (valid, but probably not meant)
        or ``note``.
    text
        The message.
    path
        The path the message is about, as :class:`nbsweep.config.Problem` gives it.
    """

    field: str
    level: str
    text: str
    path: str


class _Slot:
    """A place under an input where messages show; marks its inputs red on an error."""

    def __init__(
        self,
        html_widget: w.HTML,
        field: str,
        marks: tuple[w.DOMWidget, ...],
        mark_class: str = "nbsweep-invalid",
    ) -> None:
        self.field = field
        self.marks = list(marks)
        self.mark_class = mark_class
        self.messages: list[FieldMessage] = []
        self.html = html_widget
        self._shown: tuple[Any, ...] = ()

    def render(self) -> None:
        shown = tuple((m.level, m.text, m.path) for m in self.messages)
        if shown == self._shown:
            return
        self._shown = shown
        parts = [
            f'<div class="nbsweep-msg nbsweep-msg-{m.level}" data-level="{m.level}" '
            f'data-path="{html.escape(m.path, quote=True)}">'
            f"{_ICONS[m.level]} {html.escape(m.text)}</div>"
            for m in self.messages
        ]
        self.html.value = "".join(parts)
        if parts:
            self.html.remove_class("nbsweep-hidden")
        else:
            self.html.add_class("nbsweep-hidden")
        bad = any(m.level == "error" for m in self.messages)
        for widget in self.marks:
            if bad:
                widget.add_class(self.mark_class)
            else:
                widget.remove_class(self.mark_class)


_ICONS = {"error": "✖", "warning": "⚠", "note": "ℹ"}


def _pairs(options: Any) -> list[tuple[str, Any]]:
    return [o if isinstance(o, tuple) else (str(o), o) for o in options]


class _Kit:
    """Makes one builder's widgets; widgets of the same look share one ``Layout``.

    Each ipywidget otherwise brings a Layout widget of its own, which doubles the cost of a
    form of a few hundred widgets.
    """

    def __init__(self) -> None:
        self._layouts: dict[tuple[tuple[str, str], ...], w.Layout] = {}

    def layout(self, **style: str) -> w.Layout:
        key = tuple(sorted(style.items()))
        if key not in self._layouts:
            self._layouts[key] = w.Layout(**style)
        return self._layouts[key]

    def label(self, text: str) -> w.HTML:
        return w.HTML(
            f'<span class="nbsweep-b-label">{html.escape(text)}</span>', layout=self.layout()
        )

    def slot(
        self, field: str = "", marks: tuple[w.DOMWidget, ...] = (), mark_class: str = ""
    ) -> _Slot:
        box = w.HTML(layout=self.layout(margin="0"))
        box.add_class("nbsweep-b-msgs")
        box.add_class("nbsweep-hidden")
        return _Slot(box, field, marks, mark_class or "nbsweep-invalid")

    def field_box(self, label: str | w.HTML, widget: w.DOMWidget, slot: _Slot) -> w.VBox:
        head = label if isinstance(label, w.HTML) else self.label(label)
        return w.VBox([head, widget, slot.html], layout=self.layout(margin="0 4px 0 0"))

    def text(self, css: str, placeholder: str = "", width: str = "7.5em") -> w.Text:
        box = w.Text(placeholder=placeholder, layout=self.layout(width=width))
        box.add_class(css)
        return box

    def dropdown(self, css: str, options: Any, width: str) -> w.Dropdown:
        box = w.Dropdown(options=_pairs(options), layout=self.layout(width=width))
        box.add_class(css)
        return box

    def button(
        self, css: str, description: str, tooltip: str, width: str = "", margin: str = ""
    ) -> w.Button:
        style = {"width": width, "padding": "0"} if width else {}
        layout = self.layout(**style, **({"margin": margin} if margin else {}))
        button = w.Button(description=description, tooltip=tooltip, layout=layout)
        button.add_class(css)
        return button

    def hbox(self, children: list[Any] | None = None) -> w.HBox:
        return w.HBox(
            children or [], layout=self.layout(flex_flow="row wrap", align_items="flex-start")
        )


def _choose(dropdown: w.Dropdown, value: Any, label: Callable[[Any], str]) -> None:
    """Select ``value``, adding it as an option (marked) when it is not one."""
    values = [v for _, v in dropdown.options]
    if not any(_same(v, value) for v in values):
        dropdown.options = [*_pairs(dropdown.options), (label(value), value)]
    dropdown.value = value


# Histograms ---------------------------------------------------------------------------------


def _num(value: float) -> str:
    return f"{value:.4g}"


def histogram_html(name: str, spec: Mapping[str, Any], seed: int = _HIST_SEED) -> str:
    """A small SVG chart of :data:`DRAWS` draws of one normalised parameter spec.

    Continuous forms get a histogram, on a log axis for the log forms; lists get a bar per
    value. The draws come from :meth:`nbsweep.space.Space.sample` with
    ``random.Random(seed)``, so the chart shows what a random search would try.

    Examples
    --------
    >>> chart = histogram_html("lr", {"distribution": "log_uniform_values",
    ...                                "min": 1e-4, "max": 1e-1})
    >>> 'data-scale="log"' in chart and "<svg" in chart
    True
    """
    # Limitation: this is what random search draws (the prior); bayes search draws from the
    # same ranges but concentrates where the metric is good, which no preview can show.
    space = Space({"x": dict(spec)})
    dist = space.params[0].distribution
    rng = random.Random(seed)
    draws = [space.sample(rng)["x"] for _ in range(DRAWS)]
    label = html.escape(name, quote=True)
    head = (
        f'<div class="nbsweep-hist" data-param="{label}" data-draws="{DRAWS}" '
        f'title="{DRAWS} draws of {label} (seed {seed})"'
    )
    if spec.get("distribution") in _LIST_FORMS:
        return head + ' data-scale="categorical">' + _bars_html(spec["values"], draws) + "</div>"
    numbers = [float(v) for v in draws]
    log = bool(getattr(dist, "log_scale", False)) and min(numbers) > 0
    xs = [math.log10(v) for v in numbers] if log else numbers
    lo, hi = min(xs), max(xs)
    counts = [0] * _HIST_BINS
    span = hi - lo
    for x in xs:
        i = int((x - lo) / span * _HIST_BINS) if span > 0 else _HIST_BINS // 2
        counts[min(max(i, 0), _HIST_BINS - 1)] += 1
    ends = (10**lo, 10**hi) if log else (lo, hi)
    axis = (
        f'<div class="nbsweep-hist-axis"><span>{_num(ends[0])}</span>'
        f"<span>{'log axis' if log else ''}</span><span>{_num(ends[1])}</span></div>"
    )
    scale = "log" if log else "linear"
    return (
        head
        + f' data-scale="{scale}" data-min="{_num(min(numbers))}" data-max="{_num(max(numbers))}">'
        + _svg(counts, [""] * _HIST_BINS)
        + axis
        + "</div>"
    )


def _bars_html(values: list[Any], draws: list[Any]) -> str:
    keys: dict[str, Any] = {}
    for value in values:
        keys.setdefault(canonical_key(value), value)
    counts = dict.fromkeys(keys, 0)
    for value in draws:
        counts[canonical_key(value)] = counts.get(canonical_key(value), 0) + 1
    shown = list(keys)[:_HIST_BINS]
    titles = [f"{_flow(keys[k])}: {counts[k] / len(draws):.0%}" for k in shown]
    chart = _svg([counts[k] for k in shown], titles)
    if len(shown) > 8:
        more = f" of {len(keys)}" if len(keys) > len(shown) else ""
        return (
            chart + f'<div class="nbsweep-hist-axis"><span>{len(shown)}{more} values</span></div>'
        )
    names = "".join(
        f'<span class="nbsweep-hist-cat">{html.escape(_flow(keys[k])[:10])}</span>' for k in shown
    )
    return chart + f'<div class="nbsweep-hist-axis">{names}</div>'


def _svg(counts: list[int], titles: list[str], width: int = 176, height: int = 36) -> str:
    top = max(counts) or 1
    step = width / len(counts)
    bars = []
    for i, (count, title) in enumerate(zip(counts, titles, strict=True)):
        h = count / top * height
        tip = f"<title>{html.escape(title)}</title>" if title else ""
        bars.append(
            f'<rect x="{i * step + 0.5:.1f}" y="{height - h:.1f}" width="{max(step - 1, 1):.1f}" '
            f'height="{h:.1f}" style="fill: var(--jp-brand-color1, #1976d2)">{tip}</rect>'
        )
    return (
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(bars)}</svg>'
    )


# Parameter rows -----------------------------------------------------------------------------


class ParamRow:
    """One parameter, or one group of parameters, in the builder's form.

    Attributes
    ----------
    name
        Text input with the parameter's name.
    kind
        Dropdown: ``value`` (a fixed value), ``values`` (a list), ``distribution`` or
        ``group``.
    distribution
        Dropdown of the distributions (shown for kind ``distribution``).
    inputs
        Text inputs by key (``value``, ``values``, ``probabilities``, ``min``, ``max``, ``q``,
        ``mu``, ``sigma``, ``a``, ``b``), made when first shown; only those the kind and
        distribution take are shown and written.
    extra
        Text input with the keys the form has no input for, as a YAML mapping (shown only
        when there are some).
    up, down, remove
        Buttons that move the row within its group or remove it.
    histogram
        HTML with the chart of draws (empty until the spec is valid).
    rows
        The rows of a group.
    add_param, add_group
        Buttons that add a parameter or a group to a group (made when the row is a group).
    path
        The row's config path as of the last check, e.g. ``parameters.opt.parameters.lr``.
    dotted
        Its name as ``run.config`` nests it, e.g. ``opt.lr``.

    Examples
    --------
    >>> import nbsweep
    >>> b = nbsweep.builder()
    >>> row = b.add_parameter("lr")
    >>> row.distribution.value = "log_uniform_values"
    >>> row.inputs["min"].value, row.inputs["max"].value = "1e-4", "0.1"
    >>> b.config["parameters"]["lr"]
    {'distribution': 'log_uniform_values', 'min': 0.0001, 'max': 0.1}
    """

    def __init__(self, owner: Builder, parent: ParamRow | None, name: str) -> None:
        kit = owner._kit
        self._owner = owner
        self._kit = kit
        self.parent = parent
        self.path = ""
        self.dotted = ""
        self.rows: list[ParamRow] = []
        self.inputs: dict[str, w.Text] = {}
        self._input_slots: dict[str, _Slot] = {}
        self._input_boxes: dict[str, w.VBox] = {}
        self._input_labels: dict[str, w.HTML] = {}
        self._extras: dict[str, Any] = {}
        self._extra_ok = True
        self._extra_parts: tuple[w.Text, _Slot, w.VBox] | None = None
        self._group_parts: tuple[w.Button, w.Button, _Slot, w.VBox, w.HBox] | None = None
        # A spec loaded as something other than a mapping is written back unchanged until the
        # row is edited, so that loading never makes an invalid config valid.
        self._raw: Any = MISSING

        self.name = kit.text("nbsweep-b-name", "name", "8.5em")
        self.name.value = name
        self.kind = kit.dropdown("nbsweep-b-kind", _KINDS, "8.5em")
        self.kind.value = "distribution"
        self.distribution = kit.dropdown("nbsweep-b-distribution", _RANGE_FORMS, "12em")
        self.distribution.value = "uniform"
        self.box = w.VBox(layout=kit.layout())
        self.box.add_class("nbsweep-b-row")
        # Messages about the parameter as a whole show under the row, which turns red.
        self.slot = kit.slot(marks=(self.box,), mark_class="nbsweep-invalid-row")
        self.dist_slot = kit.slot(marks=(self.distribution,))
        self.up = kit.button("nbsweep-b-up", "↑", "move up", "32px", _ROW_BUTTON_MARGIN)
        self.down = kit.button("nbsweep-b-down", "↓", "move down", "32px", _ROW_BUTTON_MARGIN)
        self.remove = kit.button("nbsweep-b-remove", "✕", "remove", "32px", _ROW_BUTTON_MARGIN)
        self.histogram = w.HTML(layout=kit.layout())
        self.histogram.add_class("nbsweep-b-hist")
        self._dist_box = kit.field_box("distribution", self.distribution, self.dist_slot)
        self._head = kit.hbox()
        self._head_fixed = [
            self.up,
            self.down,
            self.remove,
            w.VBox([kit.label("name"), self.name], layout=kit.layout(margin="0 4px 0 0")),
            w.VBox([kit.label("kind"), self.kind], layout=kit.layout(margin="0 4px 0 0")),
        ]
        self._line2 = kit.hbox()

        self.up.on_click(lambda _: owner._move(self, -1))
        self.down.on_click(lambda _: owner._move(self, +1))
        self.remove.on_click(lambda _: owner._remove(self))
        self.name.observe(self._edited, names="value")
        self.kind.observe(self._kind_changed, names="value")
        self.distribution.observe(self._restructured, names="value")
        self._layout()

    # Parts made on demand ---------------------------------------------------------------

    @property
    def extra(self) -> w.Text:
        return self._extra()[0]

    def _extra(self) -> tuple[w.Text, _Slot, w.VBox]:
        if self._extra_parts is None:
            kit = self._kit
            box = kit.text("nbsweep-b-extra", "other keys, e.g. {key: value}", "16em")
            slot = kit.slot(marks=(box,))
            self._extra_parts = (box, slot, kit.field_box("other keys (as written)", box, slot))
            box.observe(self._extra_edited, names="value")
        return self._extra_parts

    @property
    def add_param(self) -> w.Button:
        return self._group()[0]

    @property
    def add_group(self) -> w.Button:
        return self._group()[1]

    def _group(self) -> tuple[w.Button, w.Button, _Slot, w.VBox, w.HBox]:
        if self._group_parts is None:
            kit, owner = self._kit, self._owner
            add_param = kit.button("nbsweep-b-add-param", "+ parameter", "add a parameter here")
            add_group = kit.button("nbsweep-b-add-group", "+ group", "add a group here")
            add_param.on_click(lambda _: owner.add_parameter(parent=self))
            add_group.on_click(lambda _: owner.add_group(parent=self))
            children = w.VBox(layout=kit.layout())
            children.add_class("nbsweep-b-children")
            adders = w.HBox([add_param, add_group], layout=kit.layout(margin="0 0 0 14px"))
            self._group_parts = (add_param, add_group, kit.slot(), children, adders)
        return self._group_parts

    def _input(self, key: str) -> w.Text:
        if key not in self.inputs:
            kit = self._kit
            box = kit.text(f"nbsweep-b-field-{key}", width="12em" if key in _WIDE else "7.5em")
            box.observe(self._edited, names="value")
            self.inputs[key] = box
            self._input_slots[key] = kit.slot(marks=(box,))
            self._input_labels[key] = kit.label(key)
            self._input_boxes[key] = kit.field_box(
                self._input_labels[key], box, self._input_slots[key]
            )
        return self.inputs[key]

    def visible_keys(self) -> list[str]:
        """The keys whose inputs the row shows now."""
        kind = self.kind.value
        if kind == "value":
            return ["value"]
        if kind == "values":
            return ["values", "probabilities"]
        if kind == "distribution" and self.distribution.value in DISTRIBUTIONS:
            form = DISTRIBUTIONS[self.distribution.value]
            return [*form.required, *(k for k, _ in form.defaults)]
        return []

    def _label_for(self, key: str) -> tuple[str, str]:
        """Label and placeholder of an input, which depend on the distribution."""
        dist = self.distribution.value if self.kind.value == "distribution" else None
        if key == "value":
            return "value", "e.g. 0.5 or adam"
        if key == "values":
            return "values", "e.g. 32, 64, 128"
        if key == "probabilities":
            return "probabilities (optional)", "e.g. 0.5, 0.25, 0.25"
        if dist in _LEGACY_LOG and key in ("min", "max"):
            return f"{key}: an exponent, ln(value)", "e.g. -9.2 for 1e-4"
        defaults = dict(DISTRIBUTIONS[dist].defaults) if dist in DISTRIBUTIONS else {}
        if key in defaults:
            return f"{key} (default {defaults[key]})", ""
        return key, ""

    # Changes ----------------------------------------------------------------------------

    def _edited(self, change: Any = None) -> None:
        self._raw = MISSING
        self._owner._changed()

    def _kind_changed(self, change: Any = None) -> None:
        if self.kind.value == "distribution" and self.distribution.value is None:
            with self._owner._batch():
                self.distribution.value = "uniform"
        self._restructured()

    def _restructured(self, change: Any = None) -> None:
        self._raw = MISSING
        if self.kind.value == "group":
            self.histogram.value = ""
        self._layout()
        self._owner._changed()

    def _extra_edited(self, change: Any = None) -> None:
        self._extras, self._extra_ok = _read_mapping(self.extra.value)
        self._edited()

    def _set_extras(self, extras: dict[str, Any]) -> None:
        if extras or self._extra_parts is not None:
            box = self.extra
            fits = _extras_fit(extras)
            box.value = _mapping_text(extras) if fits else repr(extras)
            # Limitation: keys holding values YAML cannot write (Python objects) are kept
            # and shown, but cannot be edited in the form.
            box.disabled = not fits
        # Set after the text, whose observer reads the text (a repr does not read back).
        self._extras, self._extra_ok = dict(extras), True

    def _set_raw(self, spec: Any) -> None:
        self._raw = spec
        self.kind.value = "values" if isinstance(spec, list) else "value"
        key = self.visible_keys()[0]
        show = _list_text if key in _WIDE else _scalar_text
        read = _parse_list if key in _WIDE else _parse_scalar
        if _fits(spec, show, read):
            self._input(key).value = show(spec)
        self._raw = spec

    # Layout -----------------------------------------------------------------------------

    def _layout(self) -> None:
        kind = self.kind.value
        self._head.children = (
            [*self._head_fixed, self._dist_box] if kind == "distribution" else self._head_fixed
        )
        boxes: list[w.DOMWidget] = []
        for key in self.visible_keys():
            self._input(key)
            label, placeholder = self._label_for(key)
            self._input_labels[
                key
            ].value = f'<span class="nbsweep-b-label">{html.escape(label)}</span>'
            self.inputs[key].placeholder = placeholder
            boxes.append(self._input_boxes[key])
        if self._extras or (self._extra_parts is not None and self.extra.value.strip()):
            boxes.append(self._extra()[2])
        if kind != "group":
            boxes.append(self.histogram)
        self._line2.children = boxes
        if kind == "group":
            _, _, slot, children, adders = self._group()
            children.children = [r.box for r in self.rows]
            self.box.children = [
                self._head,
                self._line2,
                self.slot.html,
                slot.html,
                children,
                adders,
            ]
            self.box.add_class("nbsweep-b-group")
        else:
            self.box.children = [self._head, self._line2, self.slot.html]
            self.box.remove_class("nbsweep-b-group")

    def close(self) -> None:
        """Close the row's widgets and those of the rows inside it."""
        for row in self.rows:
            row.close()
        widgets: list[w.Widget] = [
            self.name,
            self.kind,
            self.distribution,
            self.up,
            self.down,
            self.remove,
            self.histogram,
            self._dist_box,
            *self._head_fixed,
            self._head,
            self._line2,
            self.box,
            *self.inputs.values(),
            *self._input_labels.values(),
            *self._input_boxes.values(),
            *(slot.html for slot in self._own_slots()),
        ]
        if self._extra_parts is not None:
            widgets += [self._extra_parts[0], self._extra_parts[2]]
        if self._group_parts is not None:
            widgets += [p for p in self._group_parts if isinstance(p, w.Widget)]
        for widget in widgets:
            widget.close()

    # Config -----------------------------------------------------------------------------

    def _own_slots(self) -> Iterator[_Slot]:
        yield from (self.slot, self.dist_slot)
        yield from self._input_slots.values()
        if self._extra_parts is not None:
            yield self._extra_parts[1]
        if self._group_parts is not None:
            yield self._group_parts[2]

    def slots(self) -> Iterator[_Slot]:
        """Every message slot of this row and the rows inside it."""
        yield from self._own_slots()
        for row in self.rows:
            yield from row.slots()

    def spec(self, path: str) -> Any:
        """The row's spec as the config holds it; registers its inputs under ``path``."""
        owner = self._owner
        self.path = path
        owner._register(path, self.slot, self.name)
        self.dotted = ".".join(self._names())
        if self._raw is not MISSING:
            return copy.deepcopy(self._raw)
        out: dict[str, Any] = {}
        kind = self.kind.value
        if kind == "group":
            _, add_param, slot, _, _ = self._group()
            owner._register(f"{path}.parameters", slot, add_param)
            if self.rows or "parameters" not in self._extras:
                out["parameters"] = owner._group_spec(self.rows, f"{path}.parameters")
        else:
            if kind == "distribution" and self.distribution.value is not None:
                out["distribution"] = self.distribution.value
                owner._register(f"{path}.distribution", self.dist_slot, self.distribution)
            for key in self.visible_keys():
                owner._register(f"{path}.{key}", self._input_slots[key], self.inputs[key])
                read = _parse_list if key in _WIDE else _parse_scalar
                value = read(self.inputs[key].value)
                if value is not MISSING:
                    out[key] = value
            if kind in ("value", "values") and kind not in out:
                # Without its value(s) the kind cannot be told from the keys; naming the
                # distribution makes validation say which key is missing, at its field.
                if kind == "value":
                    named = "constant"
                elif "probabilities" in out:
                    named = "categorical_w_probabilities"
                else:
                    named = "categorical"
                out = {"distribution": named, **out}
            self._hints(path, out)
        if not self._extras and self._extra_ok:
            return out
        box, slot, _ = self._extra()
        owner._register(f"{path}.(other keys)", slot, box)
        if not self._extra_ok:
            owner._problem(
                f"{path}.(other keys)", "write the other keys as a YAML mapping: {key: value}"
            )
            return out
        for key, value in self._extras.items():
            owner._register(f"{path}.{key}", slot, box, own=False)
            if key in out and not (kind == "group" and key == "parameters"):
                owner._note(
                    f"{path}.{key}", f"{key} is also set in its field; the field's is used"
                )
                continue
            out.setdefault(key, value)
        return out

    def _names(self) -> list[str]:
        """The names from the top group down to this row."""
        return [*(self.parent._names() if self.parent is not None else []), self.name.value]

    def _hints(self, path: str, spec: Mapping[str, Any]) -> None:
        low, high = spec.get("min"), spec.get("max")
        both_int = all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high))
        if spec.get("distribution") == "uniform" and both_int:
            self._owner._note(
                f"{path}.distribution",
                "both bounds are whole numbers, but uniform draws floats; choose int_uniform "
                "for whole numbers",
                "note",
            )


_WIDE = ("values", "probabilities")


def _read_mapping(text: str) -> tuple[dict[str, Any], bool]:
    """The mapping a one-line "other keys" box holds (braces optional), and whether it is one."""
    stripped = text.strip()
    if not stripped:
        return {}, True
    try:
        parsed = loads_yaml(stripped if stripped.startswith("{") else "{" + stripped + "}")
    except ConfigError:
        return {}, False
    return (dict(parsed), True) if isinstance(parsed, dict) else ({}, False)


def _extras_fit(extra: dict[str, Any]) -> bool:
    return _fits(extra, _mapping_text, lambda t: loads_yaml(t) if t else {})


# The builder --------------------------------------------------------------------------------


class Builder:
    """An interactive form that writes a W&B sweep config, checks it and starts the sweep.

    Make one with :func:`nbsweep.builder`. The form has the search method, the metric,
    ``run_cap``, hyperband early termination, a row per parameter (a fixed value, a list of
    values, or a distribution with exactly the keys it takes; groups nest rows), and a box of
    other top-level keys (``program``, ``command``, ``name``, ...) as YAML. Each change is
    validated by :func:`nbsweep.validate` and every message is shown at its field; a YAML
    view, the grid size and a histogram of draws per parameter show what the config means.

    Parameters
    ----------
    config
        A config to open: a dict, YAML text, or the path of a ``.yaml`` file.
    store
        The store ``create_sweep`` and ``start_agent`` use (default: nbsweep's default).

    Attributes
    ----------
    widget
        The form's root widget (a ``VBox``), to place inside other layouts.
    method, metric_on, metric_name, goal, target, impute, run_cap, hyperband, hb_inputs, strict
        The inputs of the top of the form.
    rows
        The rows of the top-level parameters (:class:`ParamRow`).
    other_keys
        Textarea with the other top-level keys as YAML.
    path, save_button, load_button
        File name and the buttons that save and load it.
    function_name, count, seed, create_button, start_button
        The inputs and buttons that create the sweep and start an agent.
    output
        Where the agent's live view appears.
    sweep_id
        The id of the last sweep created here, or None.
    handle
        The :class:`nbsweep.AgentHandle` of the last agent started here, or None.

    Examples
    --------
    >>> import nbsweep
    >>> b = nbsweep.builder({"method": "grid", "parameters": {"n": {"values": [1, 2, 3]}}})
    >>> b.grid_size
    3
    >>> b.method.value = "random"
    >>> b.config["method"], b.valid
    ('random', True)
    """

    def __init__(
        self, config: Mapping[str, Any] | str | Path | None = None, *, store: Any = None
    ) -> None:
        self.store = store
        self.sweep_id: str | None = None
        self.handle: Any = None
        self._sweep_key: str | None = None
        self._function: Callable[[], Any] | None = None
        self._shown_at: int | None = None  # the cell that displayed the form
        self._shown_error: Exception | None = None  # an error a button showed already
        self._quiet = 0
        self._targets: dict[str, list[_Slot]] = {}
        self._fields: dict[str, w.DOMWidget] = {}
        self._extra_messages: list[tuple[str, str, str]] = []
        self._config: dict[str, Any] = {}
        self._problems: tuple[Problem, ...] = ()
        self._warnings: list[str] = []
        self._messages: list[FieldMessage] = []
        self._normalized: SweepConfig | None = None
        self._grid_size: int | None = None
        self._hist_cache: dict[str, str] = {}
        self._other: dict[str, Any] = {}
        self._other_ok = True
        self.rows: list[ParamRow] = []
        self._build_widgets()
        with self._batch():
            if config is None:
                self._fill({"method": "random", "metric": {"name": "", "goal": "minimize"}})
            else:
                self._fill(self._read(config))

    # Widgets ----------------------------------------------------------------------------

    def _build_widgets(self) -> None:
        kit = self._kit = _Kit()
        self.method = kit.dropdown("nbsweep-b-method", _METHODS, "9em")
        self.run_cap = kit.text("nbsweep-b-run-cap", "no cap")
        self.metric_on = w.Checkbox(
            value=True,
            description="optimise a metric",
            indent=False,
            layout=kit.layout(width="auto"),
        )
        self.metric_on.add_class("nbsweep-b-metric-on")
        self.metric_name = kit.text("nbsweep-b-metric-name", "e.g. val_loss", "11em")
        self.goal = kit.dropdown("nbsweep-b-goal", _GOALS, "8.5em")
        self.target = kit.text("nbsweep-b-target", "none")
        self.impute = kit.dropdown("nbsweep-b-impute", _IMPUTE_OPTIONS, "9.5em")
        self.metric_extra = kit.text("nbsweep-b-metric-extra", "{key: value}", "16em")
        self.hyperband = w.Checkbox(
            value=False, description="hyperband", indent=False, layout=kit.layout(width="auto")
        )
        self.hyperband.add_class("nbsweep-b-hyperband")
        self.hb_inputs = {
            "min_iter": kit.text("nbsweep-b-hb-min-iter", "e.g. 3", "6em"),
            "max_iter": kit.text("nbsweep-b-hb-max-iter", "e.g. 81", "6em"),
            "s": kit.text("nbsweep-b-hb-s", "e.g. 3", "5em"),
            "eta": kit.text("nbsweep-b-hb-eta", "3", "5em"),
        }
        self.strict = kit.dropdown("nbsweep-b-hb-strict", _STRICT_OPTIONS, "9em")
        self.hb_extra = kit.text("nbsweep-b-hb-extra", "{key: value}", "16em")
        self.add_param_button = kit.button("nbsweep-b-add-top", "+ parameter", "add a parameter")
        self.add_group_button = kit.button("nbsweep-b-add-group-top", "+ group", "add a group")
        self.other_keys = w.Textarea(
            placeholder="program: train.py\nname: my sweep\nproject: demo",
            layout=w.Layout(width="100%", height="6em"),
        )
        self.other_keys.add_class("nbsweep-b-other-keys")
        self.yaml_view = w.HTML(layout=kit.layout())
        self.yaml_view.add_class("nbsweep-b-yaml")
        self.status = w.HTML(layout=kit.layout())
        self.status.add_class("nbsweep-b-status")
        self.path = kit.text("nbsweep-b-path", "sweep.yaml", "16em")
        self.path.value = "sweep.yaml"
        self.save_button = kit.button("nbsweep-b-save", "Save", "write the config to this file")
        self.load_button = kit.button("nbsweep-b-load", "Load", "read the config from this file")
        self.function_name = kit.text("nbsweep-b-function", "e.g. train", "11em")
        self.count = kit.text("nbsweep-b-count", "all", "6em")
        self.seed = kit.text("nbsweep-b-seed", "random", "7em")
        self.create_button = kit.button(
            "nbsweep-b-create", "Create sweep", "nbsweep.sweep(builder.config)"
        )
        self.start_button = kit.button(
            "nbsweep-b-start", "Start agent", "nbsweep.agent(sweep_id, function, count)"
        )
        self.start_button.button_style = "success"
        self.run_status = w.HTML(layout=kit.layout())
        self.run_status.add_class("nbsweep-b-run-status")
        self.output = w.Output()

        marks: dict[str, tuple[w.DOMWidget, ...]] = {
            "": (),
            "method": (self.method,),
            "run_cap": (self.run_cap,),
            "metric": (self.metric_on,),
            "metric.name": (self.metric_name,),
            "metric.goal": (self.goal,),
            "metric.target": (self.target,),
            "metric.impute": (self.impute,),
            "metric.(other keys)": (self.metric_extra,),
            "early_terminate": (self.hyperband,),
            **{f"early_terminate.{k}": (box,) for k, box in self.hb_inputs.items()},
            "early_terminate.strict": (self.strict,),
            "early_terminate.(other keys)": (self.hb_extra,),
            "parameters": (),
            OTHER_KEYS: (self.other_keys,),
            FILE: (self.path,),
            FUNCTION: (self.function_name,),
            COUNT: (self.count,),
            SEED: (self.seed,),
            RUN: (),
        }
        s = self._slots = {field: kit.slot(field, found) for field, found in marks.items()}
        self._metric_extra: dict[str, Any] = {}
        self._hb_extra: dict[str, Any] = {}
        self._metric_extra_ok = self._hb_extra_ok = True
        self._hb_untyped = False
        self._rows_box = w.VBox(layout=kit.layout())

        def box(label: str, field: str, widget: w.DOMWidget | None = None) -> w.VBox:
            return kit.field_box(label, widget or s[field].marks[0], s[field])

        def under_blank(*widgets: w.DOMWidget) -> w.VBox:
            return w.VBox([kit.label("\u00a0"), w.HBox(list(widgets), layout=kit.layout())])

        self._metric_parts = [
            box("name", "metric.name"),
            box("goal", "metric.goal"),
            box("target (optional)", "metric.target"),
            box("impute", "metric.impute"),
        ]
        self._metric_extra_box = box("other metric keys", "metric.(other keys)")
        self._metric_line = kit.hbox()
        self._metric_head = under_blank(self.metric_on)
        hb_labels = {"min_iter": "min_iter", "max_iter": "or max_iter", "s": "and s"}
        self._hb_parts = [
            *(box(hb_labels.get(k, "eta (default 3)"), f"early_terminate.{k}") for k in _HB_KEYS),
            box("strict", "early_terminate.strict"),
        ]
        self._hb_extra_box = box("other keys", "early_terminate.(other keys)")
        self._hb_line = kit.hbox()
        self._hb_head = under_blank(self.hyperband)

        def head(text: str) -> w.HTML:
            return w.HTML(f'<div class="nbsweep-b-h">{html.escape(text)}</div>')

        form = w.VBox(
            [
                head("Search"),
                kit.hbox([box("method", "method"), box("run_cap (most runs)", "run_cap")]),
                head("Metric"),
                self._metric_line,
                s["metric"].html,
                head("Early termination"),
                self._hb_line,
                s["early_terminate"].html,
                head("Parameters"),
                s["parameters"].html,
                self._rows_box,
                w.HBox([self.add_param_button, self.add_group_button]),
                head("Other keys (YAML: program, command, name, project, ...)"),
                self.other_keys,
                s[OTHER_KEYS].html,
            ],
            layout=w.Layout(flex="1 1 auto", min_width="0", margin="0 12px 0 0"),
        )
        preview = w.VBox(
            [head("YAML"), self.yaml_view], layout=w.Layout(flex="0 0 290px", width="290px")
        )
        run_line = kit.hbox(
            [
                box("function (a name in this notebook, or builder.function = f)", FUNCTION),
                box("count (runs)", COUNT),
                box("seed", SEED),
                under_blank(self.create_button, self.start_button),
            ]
        )
        title = w.HTML('<b style="font-size: 14px">Sweep config builder</b>')
        self.widget = w.VBox(
            [
                w.HTML(_CSS),
                w.HBox([title, self.status], layout=w.Layout(justify_content="space-between")),
                s[""].html,
                w.HBox([form, preview], layout=w.Layout(align_items="flex-start")),
                head("Save, create and run"),
                kit.hbox([box("file", FILE), under_blank(self.save_button, self.load_button)]),
                run_line,
                s[RUN].html,
                self.run_status,
                self.output,
            ]
        )
        self.widget.add_class("nbsweep-builder")
        self._layout_metric()
        self._layout_hyperband()

        for widget in (
            self.method,
            self.run_cap,
            self.metric_name,
            self.goal,
            self.target,
            self.impute,
            self.count,
        ):
            widget.observe(self._changed, names="value")
        for widget in (*self.hb_inputs.values(), self.strict):
            widget.observe(self._hyperband_edited, names="value")
        self.metric_on.observe(self._metric_toggled, names="value")
        self.hyperband.observe(self._hyperband_toggled, names="value")
        self.metric_extra.observe(self._metric_extra_edited, names="value")
        self.hb_extra.observe(self._hb_extra_edited, names="value")
        self.other_keys.observe(self._other_edited, names="value")
        self.add_param_button.on_click(lambda _: self.add_parameter())
        self.add_group_button.on_click(lambda _: self.add_group())
        self.save_button.on_click(lambda _: self._click(FILE, self._save_clicked))
        self.load_button.on_click(lambda _: self._click(FILE, self._load_clicked))
        self.create_button.on_click(lambda _: self._click(RUN, self.create_sweep))
        self.start_button.on_click(lambda _: self._click(RUN, self.start_agent))

    def _layout_metric(self) -> None:
        parts: list[w.DOMWidget] = [self._metric_head]
        if self.metric_on.value:
            parts += self._metric_parts
            parts.append(self._metric_extra_box)  # impute_while_running and the like
        self._metric_line.children = parts

    def _layout_hyperband(self) -> None:
        parts: list[w.DOMWidget] = [self._hb_head]
        if self.hyperband.value:
            parts += self._hb_parts
            if self._hb_extra or self.hb_extra.value.strip():
                parts.append(self._hb_extra_box)
        self._hb_line.children = parts

    def _ipython_display_(self) -> None:
        from IPython import get_ipython
        from IPython.display import display

        shell = get_ipython()
        count = getattr(shell, "execution_count", None)
        if count is not None and self._shown_at == count:
            return  # builder() showed it in this cell already
        self._shown_at = count
        display(self.widget)  # type: ignore[no-untyped-call]

    def __repr__(self) -> str:
        state = "valid" if self.valid else f"{len(self.problems)} problems"
        return f"<nbsweep builder: {len(self._leaf_rows())} parameters, {state}>"

    # Change handling --------------------------------------------------------------------

    @contextlib.contextmanager
    def _batch(self) -> Iterator[None]:
        """Hold back checking until the outermost batch ends, then check once."""
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1
            if self._quiet == 0:
                self._refresh()

    def _changed(self, change: Any = None) -> None:
        # Limitation: every keystroke checks the whole config again (no debounce); that takes
        # a few milliseconds for a typical sweep and grows with the number of parameters.
        if self._quiet == 0:
            self._refresh()

    def _metric_toggled(self, change: Any = None) -> None:
        self._layout_metric()
        self._changed()

    def _hyperband_edited(self, change: Any = None) -> None:
        self._hb_untyped = False
        self._changed()

    def _hyperband_toggled(self, change: Any = None) -> None:
        self._layout_hyperband()
        self._changed()

    def _metric_extra_edited(self, change: Any = None) -> None:
        self._metric_extra, self._metric_extra_ok = _read_mapping(self.metric_extra.value)
        self._changed()

    def _hb_extra_edited(self, change: Any = None) -> None:
        self._hb_untyped = False
        self._hb_extra, self._hb_extra_ok = _read_mapping(self.hb_extra.value)
        self._changed()

    def _other_edited(self, change: Any = None) -> None:
        text = self.other_keys.value
        if not text.strip():
            self._other, self._other_ok = {}, True
        else:
            try:
                parsed = loads_yaml(text)
            except ConfigError as err:
                parsed, message = None, err.problems[0].message
            else:
                message = "write the other keys as a YAML mapping (key: value lines)"
            self._other_ok = isinstance(parsed, dict)
            self._other = dict(parsed) if self._other_ok else {}
            self._other_error = message
        self._changed()

    # Rows -------------------------------------------------------------------------------

    def _siblings(self, parent: ParamRow | None) -> list[ParamRow]:
        return parent.rows if parent is not None else self.rows

    def _relayout_rows(self, parent: ParamRow | None) -> None:
        if parent is None:
            self._rows_box.children = [r.box for r in self.rows]
        else:
            parent._layout()

    def _new_name(self, parent: ParamRow | None, stem: str) -> str:
        taken = {r.name.value for r in self._siblings(parent)}
        n = 1
        while f"{stem}{n}" in taken:
            n += 1
        return f"{stem}{n}"

    def add_parameter(
        self, name: str | None = None, *, parent: ParamRow | None = None
    ) -> ParamRow:
        """Add a parameter row (a uniform distribution, bounds still empty) and return it.

        ``parent`` is a group row to add it to; the default is the top level.

        Examples
        --------
        >>> import nbsweep
        >>> b = nbsweep.builder()
        >>> row = b.add_parameter("x")
        >>> b.messages_at("parameters.x.min")
        ['missing; distribution uniform needs min']
        """
        row = ParamRow(self, parent, name if name is not None else self._new_name(parent, "p"))
        self._siblings(parent).append(row)
        self._relayout_rows(parent)
        self._changed()
        return row

    def add_group(self, name: str | None = None, *, parent: ParamRow | None = None) -> ParamRow:
        """Add a group row (nested parameters) and return it; add rows to it with its buttons.

        Examples
        --------
        >>> import nbsweep
        >>> b = nbsweep.builder()
        >>> group = b.add_group("optimizer")
        >>> inner = b.add_parameter("lr", parent=group)
        >>> inner.kind.value = "value"
        >>> inner.inputs["value"].value = "0.01"
        >>> b.config["parameters"]
        {'optimizer': {'parameters': {'lr': {'value': 0.01}}}}
        """
        with self._batch():
            row = ParamRow(self, parent, name if name is not None else self._new_name(parent, "g"))
            row.kind.value = "group"
            self._siblings(parent).append(row)
            self._relayout_rows(parent)
        return row

    def _move(self, row: ParamRow, step: int) -> None:
        # Limitation: rows move up and down within their group only; to move a parameter into
        # another group, remove it and add it there (or edit the YAML and load it).
        rows = self._siblings(row.parent)
        i = rows.index(row)
        j = i + step
        if 0 <= j < len(rows):
            rows[i], rows[j] = rows[j], rows[i]
            self._relayout_rows(row.parent)
            self._changed()

    def _remove(self, row: ParamRow) -> None:
        self._siblings(row.parent).remove(row)
        self._relayout_rows(row.parent)
        row.close()
        self._changed()

    def row(self, path: str) -> ParamRow:
        """The row of the parameter at ``path`` (``parameters.opt.parameters.lr``).

        Examples
        --------
        >>> import nbsweep
        >>> b = nbsweep.builder({"method": "random", "parameters": {"x": {"value": 1}}})
        >>> b.row("parameters.x").kind.value
        'value'
        """
        for row in self._all_rows():
            if row.path == path:
                return row
        known = [r.path for r in self._all_rows()]
        raise KeyError(f"no parameter row at {path!r}; rows: {known}")

    def _all_rows(self, rows: list[ParamRow] | None = None) -> Iterator[ParamRow]:
        for row in self.rows if rows is None else rows:
            yield row
            yield from self._all_rows(row.rows)

    def _leaf_rows(self) -> list[ParamRow]:
        return [r for r in self._all_rows() if r.kind.value != "group"]

    # Loading ----------------------------------------------------------------------------

    @staticmethod
    def _read(source: Mapping[str, Any] | str | Path) -> dict[str, Any]:
        if isinstance(source, SweepConfig):
            return source.to_dict()
        return copy.deepcopy(load_config(source))

    def load(self, source: Mapping[str, Any] | str | Path) -> None:
        r"""Replace the form's content with a config: a dict, YAML text or a ``.yaml`` path.

        Raises :class:`nbsweep.ConfigError` when the source cannot be read (no such file,
        broken YAML); a config that reads but does not validate opens with its problems
        shown at their fields.

        Examples
        --------
        >>> import nbsweep
        >>> b = nbsweep.builder()
        >>> b.load("method: grid\nparameters: {n: {values: [1, 2]}}")
        >>> b.grid_size
        2
        """
        raw = self._read(source)
        with self._batch():
            self._fill(raw)

    def _fill(self, raw: Mapping[str, Any]) -> None:
        for row in self.rows:
            row.close()
        self.rows = []
        self.method.options = _pairs(_METHODS)
        self.method.value = None
        self.run_cap.value = ""
        self.metric_on.value = False
        self._fill_metric({})
        self.hyperband.value = False
        self._fill_hyperband({})
        other: dict[str, Any] = {}
        for key, value in raw.items():
            if key == "method" and isinstance(value, str):
                _choose(self.method, value, lambda v: f"{v} (not a method)")
            elif key == "metric" and isinstance(value, Mapping):
                self.metric_on.value = True
                self._fill_metric(value)
            elif key == "run_cap" and _fits(value, _scalar_text, _parse_scalar):
                self.run_cap.value = _scalar_text(value)
            elif key == "early_terminate" and isinstance(value, Mapping):
                self.hyperband.value = True
                self._fill_hyperband(value)
            elif key == "parameters" and isinstance(value, Mapping) and value:
                self.rows = self._fill_rows(value, None)
            else:
                other[key] = value
        self._set_other(other)
        self._rows_box.children = [r.box for r in self.rows]
        self._layout_metric()
        self._layout_hyperband()

    def _set_other(self, other: dict[str, Any]) -> None:
        self._other, self._other_ok = dict(other), True
        if not other:
            self.other_keys.value, self.other_keys.disabled = "", False
        elif _fits(other, to_yaml, loads_yaml):
            self.other_keys.value, self.other_keys.disabled = to_yaml(other), False
        else:
            # Limitation: keys holding values YAML cannot write (Python objects) are kept and
            # shown, but the box is read-only until the config is loaded again.
            self.other_keys.value, self.other_keys.disabled = repr(other), True
        self._other, self._other_ok = dict(other), True

    def _fill_metric(self, metric: Mapping[str, Any]) -> None:
        self.goal.options = _pairs(_GOALS)
        self.impute.options = _IMPUTE_OPTIONS
        self.metric_name.value = self.target.value = ""
        self.goal.value, self.impute.value = "minimize", _DEFAULT
        extra: dict[str, Any] = {}
        for key, value in metric.items():
            if key == "name" and isinstance(value, str):
                self.metric_name.value = value
            elif key == "goal" and isinstance(value, str):
                _choose(self.goal, value, lambda v: f"{v} (not a goal)")
            elif key == "target" and _fits(value, _scalar_text, _parse_scalar):
                self.target.value = _scalar_text(value)
            elif key == "impute" and isinstance(value, str) and value:
                _choose(self.impute, value, lambda v: f"{v} (not an impute)")
            else:
                extra[key] = value
        self.metric_extra.value = _mapping_text(extra) if _extras_fit(extra) else repr(extra)
        self.metric_extra.disabled = not _extras_fit(extra)
        # Set after the text, whose observer reads the text (a repr does not read back).
        self._metric_extra, self._metric_extra_ok = extra, True

    def _fill_hyperband(self, spec: Mapping[str, Any]) -> None:
        for box in self.hb_inputs.values():
            box.value = ""
        self.strict.value = _DEFAULT
        extra: dict[str, Any] = {}
        for key, value in spec.items():
            if key in self.hb_inputs and _fits(value, _scalar_text, _parse_scalar):
                self.hb_inputs[key].value = _scalar_text(value)
            elif key == "strict" and isinstance(value, bool):
                self.strict.value = value
            elif key == "type" and value == "hyperband":
                continue
            else:
                extra[key] = value
        self.hb_extra.value = _mapping_text(extra) if _extras_fit(extra) else repr(extra)
        self.hb_extra.disabled = not _extras_fit(extra)
        self._hb_extra, self._hb_extra_ok = extra, True
        # Written without `type` (refused by validation) until a hyperband field is edited.
        self._hb_untyped = "type" not in spec and bool(spec)

    def _fill_rows(self, params: Mapping[Any, Any], parent: ParamRow | None) -> list[ParamRow]:
        rows = []
        for name, spec in params.items():
            row = ParamRow(self, parent, str(name))
            self._fill_row(row, spec)
            rows.append(row)
        return rows

    def _fill_row(self, row: ParamRow, spec: Any) -> None:
        if not isinstance(spec, Mapping):
            # Not a spec (a bare value or list): shown as `value:` or `values:`, but written
            # back as it was, and refused with validation's message, until the row is edited.
            row._set_raw(spec)
            row._layout()
            return
        left = dict(spec)
        dist = left.get("distribution", MISSING)
        if "parameters" in left:
            row.kind.value = "group"
            inner = left["parameters"]
            if isinstance(inner, Mapping) and inner:
                row.rows = self._fill_rows(inner, row)
                del left["parameters"]
        elif dist == "constant" or (dist is MISSING and "value" in left):
            row.kind.value = "value"
            self._take(row, left, ("value",))
            if dist == "constant":
                del left["distribution"]
        elif dist in _LIST_FORMS or (dist is MISSING and "values" in left):
            row.kind.value = "values"
            self._take(row, left, ("values", "probabilities"))
            consistent = dist == "categorical_w_probabilities" or "probabilities" not in spec
            if dist is not MISSING and consistent:
                del left["distribution"]
        else:
            row.kind.value = "distribution"
            if dist is MISSING:
                low, high = left.get("min"), left.get("max")
                ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high))
                guess = "int_uniform" if ints else "uniform"
                row.distribution.value = guess if {"min", "max"} & set(left) else None
            elif isinstance(dist, str):
                _choose(row.distribution, dist, lambda v: f"{v} (unknown)")
                del left["distribution"]
            else:
                row.distribution.value = None
            if row.distribution.value in DISTRIBUTIONS:
                self._take(row, left, tuple(DISTRIBUTIONS[row.distribution.value].keys))
        row._set_extras(left)
        row._layout()

    @staticmethod
    def _take(row: ParamRow, spec: dict[str, Any], keys: tuple[str, ...]) -> None:
        for key in keys:
            if key not in spec or key == "distribution":
                continue
            value = spec[key]
            if key in _WIDE:
                fits = isinstance(value, list) and _fits(value, _list_text, _parse_list)
                show = _list_text
            else:
                fits, show = _fits(value, _scalar_text, _parse_scalar), _scalar_text
            if fits:
                row._input(key).value = show(value)
                del spec[key]

    # Assembling and checking ------------------------------------------------------------

    def _register(
        self, path: str, slot: _Slot, widget: w.DOMWidget | None = None, *, own: bool = True
    ) -> None:
        """Show messages about ``path`` in ``slot``; ``own``: the slot is named by ``path``."""
        if own:
            slot.field = path
        slots = self._targets.setdefault(path, [])
        if slot not in slots:
            slots.append(slot)
        if widget is not None:
            self._fields.setdefault(path, widget)

    def _note(self, path: str, text: str, level: str = "warning") -> None:
        self._extra_messages.append((path, level, text))

    def _problem(self, path: str, text: str) -> None:
        self._extra_messages.append((path, "error", text))

    def _group_spec(self, rows: list[ParamRow], path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        names = [r.name.value for r in rows]
        for row, name in zip(rows, names, strict=True):
            here = f"{path}.{name}"
            spec = row.spec(here)
            if names.count(name) > 1:
                self._problem(here, f"another parameter in this group is also named {name!r}")
            out.setdefault(name, spec)
        return out

    def _assemble(self) -> dict[str, Any]:
        s = self._slots
        self._targets, self._fields, self._extra_messages = {}, {}, []
        for path, slot in s.items():
            self._register(path, slot)
        self._fields.update(
            {
                "method": self.method,
                "run_cap": self.run_cap,
                "metric": self.metric_on,
                "metric.name": self.metric_name,
                "metric.goal": self.goal,
                "metric.target": self.target,
                "metric.impute": self.impute,
                "early_terminate": self.hyperband,
                "early_terminate.strict": self.strict,
                **{f"early_terminate.{k}": box for k, box in self.hb_inputs.items()},
                "parameters": self.add_param_button,
                OTHER_KEYS: self.other_keys,
                FILE: self.path,
                FUNCTION: self.function_name,
                COUNT: self.count,
                SEED: self.seed,
            }
        )
        form: dict[str, Any] = {}
        if self.method.value is not None:
            form["method"] = self.method.value
        if self.metric_on.value:
            form["metric"] = self._metric_spec()
        cap = _parse_scalar(self.run_cap.value)
        if cap is not MISSING:
            form["run_cap"] = cap
        if self.hyperband.value:
            form["early_terminate"] = self._hyperband_spec()
        if self.rows:
            form["parameters"] = self._group_spec(self.rows, "parameters")
        other = self._other if self._other_ok else {}
        if not self._other_ok:
            self._problem(OTHER_KEYS, getattr(self, "_other_error", "not YAML"))
        out: dict[str, Any] = {k: other[k] for k in _HEAD_KEYS if k in other}
        out.update(form)
        for key, value in other.items():
            self._register(str(key), s[OTHER_KEYS], self.other_keys, own=False)
            if key in form:
                self._problem(
                    OTHER_KEYS,
                    f"{key} is set in the form above; remove it here (the form's value is used)",
                )
            elif key not in out:
                out[key] = value
        return out

    def _metric_spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.metric_name.value:
            out["name"] = self.metric_name.value
        out["goal"] = self.goal.value
        target = _parse_scalar(self.target.value)
        if target is not MISSING:
            out["target"] = target
        if self.impute.value is not _DEFAULT:
            out["impute"] = self.impute.value
        return self._with_extras(out, "metric", self._metric_extra, self._metric_extra_ok)

    def _hyperband_spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {} if self._hb_untyped else {"type": "hyperband"}
        for key, box in self.hb_inputs.items():
            value = _parse_scalar(box.value)
            if value is not MISSING:
                out[key] = value
        if self.strict.value is not _DEFAULT:
            out["strict"] = self.strict.value
        if "type" in self._hb_extra:
            del out["type"]
        return self._with_extras(out, "early_terminate", self._hb_extra, self._hb_extra_ok)

    def _with_extras(
        self, out: dict[str, Any], section: str, extra: dict[str, Any], ok: bool
    ) -> dict[str, Any]:
        slot = self._slots[f"{section}.(other keys)"]
        widget = slot.marks[0]
        if not ok:
            self._problem(
                f"{section}.(other keys)", "write the other keys as a YAML mapping: {key: value}"
            )
            return out
        for key, value in extra.items():
            self._register(f"{section}.{key}", slot, widget, own=False)
            if key in out:
                self._note(
                    f"{section}.{key}",
                    f"{key} is also set in its field; the field's value is used",
                    "warning",
                )
            else:
                out[key] = value
        return out

    def _target(self, path: str) -> list[_Slot]:
        """The slots a message about ``path`` shows in: its own, or its nearest parent's."""
        here = path
        while True:
            if here in self._targets:
                return self._targets[here]
            cut = max(here.rfind("."), here.rfind("["))
            if cut <= 0:
                return self._targets[""]
            here = here[:cut]

    def _split_warning(self, text: str) -> tuple[str, str]:
        for path in sorted(self._targets, key=len, reverse=True):
            if path and text.startswith(path + ": "):
                return path, text[len(path) + 2 :]
        head, sep, rest = text.partition(": ")
        if sep and " " not in head:
            return head, rest
        return "", text

    def _refresh(self) -> None:
        config = self._assemble()
        problems: tuple[Problem, ...] = ()
        warned: list[str] = []
        normalized: SweepConfig | None = None
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            try:
                normalized = validate(copy.deepcopy(config))
            except ConfigError as err:
                problems = err.problems
            except Exception as exc:  # a bug in validation must not break the form
                logger.exception("validating the builder's config failed")
                problems = (Problem("", f"validation failed: {type(exc).__name__}: {exc}"),)
        for caught in seen:
            if issubclass(caught.category, ConfigWarning):
                warned.append(str(caught.message))
            else:
                warnings.warn_explicit(
                    caught.message, caught.category, caught.filename, caught.lineno
                )
        self._config, self._problems, self._warnings = config, problems, warned
        self._normalized = normalized
        self._grid_size = None
        if normalized is not None and normalized.method == "grid":
            try:
                self._grid_size = Space(normalized).grid_size()
            except Exception:
                logger.exception("could not size the grid")
        self._place_messages(problems, warned)
        self._draw_histograms()
        self._show_summary()

    def _place_messages(self, problems: tuple[Problem, ...], warned: list[str]) -> None:
        items: list[tuple[str, str, str]] = [(p.path, "error", p.message) for p in problems]
        for text in warned:
            path, message = self._split_warning(text)
            items.append((path, "warning", message))
        items += self._extra_messages
        items += self._run_notes()
        messages: list[FieldMessage] = []
        for slot in self._every_slot():
            slot.messages = []
        for path, level, text in items:
            for slot in self._target(path):
                shown = FieldMessage(slot.field, level, text, path)
                if shown not in slot.messages:
                    slot.messages.append(shown)
                    messages.append(shown)
        for slot in self._every_slot():
            slot.render()
        self._messages = messages

    def _run_notes(self) -> list[tuple[str, str, str]]:
        notes = []
        size = self._grid_size
        if size is not None and size > LARGE_GRID:
            cap = self._normalized.run_cap if self._normalized is not None else None
            capped = f"; run_cap stops it after {cap:,} runs" if cap and cap < size else ""
            notes.append(
                (
                    "method",
                    "warning",
                    f"the grid has {size:,} points, one run each{capped}; consider random "
                    "search or fewer values",
                )
            )
        cfg = self._normalized
        if (
            cfg is not None
            and cfg.method != "grid"
            and cfg.run_cap is None
            and cfg.target is None
            and not self.count.value.strip()
        ):
            notes.append(
                (
                    COUNT,
                    "note",
                    f"no count and no run_cap: {cfg.method} search runs until you stop it",
                )
            )
        return notes

    def _every_slot(self) -> Iterator[_Slot]:
        yield from self._slots.values()
        for row in self.rows:
            yield from row.slots()

    def _draw_histograms(self) -> None:
        for row in self._leaf_rows():
            row.histogram.value = self._histogram(row)

    def _histogram(self, row: ParamRow) -> str:
        if row.kind.value not in ("values", "distribution") or not row.path:
            return ""
        spec = self._config_at(row)
        if not isinstance(spec, Mapping):
            return ""
        name = row.dotted
        key = canonical_key([name, spec])
        if key in self._hist_cache:
            return self._hist_cache[key]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                single = validate({"method": "random", "parameters": {"x": dict(spec)}})
                chart = histogram_html(name, single["parameters"]["x"])
            except ConfigError:
                chart = ""
            except Exception:
                logger.exception("could not draw the histogram of %s", name)
                chart = ""
        if len(self._hist_cache) >= _HIST_CACHE_SIZE:
            self._hist_cache.clear()
        self._hist_cache[key] = chart
        return chart

    def _config_at(self, row: ParamRow | None) -> Any:
        """The spec the config holds for ``row`` (names may hold dots: walk by row names)."""
        chain = []
        while row is not None:
            chain.append(row.name.value)
            row = row.parent
        node: Any = self._config.get("parameters")
        for i, name in enumerate(reversed(chain)):
            if not isinstance(node, Mapping) or name not in node:
                return None
            node = node[name]
            if i < len(chain) - 1:
                node = node.get("parameters") if isinstance(node, Mapping) else None
        return node

    def _show_summary(self) -> None:
        errors = self.problems
        warned = {(m.path, m.text) for m in self._messages if m.level == "warning"}
        parts = []
        if not errors:
            parts.append('<span style="color: var(--jp-success-color1, #2e7d32)">✔ valid</span>')
        else:
            n = len(errors)
            parts.append(
                '<span style="color: var(--jp-error-color1, #b00020)">'
                f"✖ {n} problem{'s' if n != 1 else ''} (shown at the fields)</span>"
            )
        if warned:
            parts.append(f"⚠ {len(warned)} warning{'s' if len(warned) != 1 else ''}")
        if self._grid_size is not None:
            parts.append(f"grid: {self._grid_size:,} points")
        elif self._normalized is not None:
            parts.append(f"{self._normalized.method} search")
        grid = "" if self._grid_size is None else str(self._grid_size)
        self.status.value = (
            f'<span class="nbsweep-b-summary" data-valid="{str(not errors).lower()}" '
            f'data-problems="{len(errors)}" data-warnings="{len(warned)}" '
            f'data-grid-size="{grid}">' + " · ".join(parts) + "</span>"
        )
        try:
            text = to_yaml(self._config)
        except Exception as exc:
            text = f"# cannot write this config as YAML: {exc}\n{self._config!r}"
        self.yaml_view.value = f"<pre>{html.escape(text)}</pre>"
        usable = self.valid
        for button in (self.create_button, self.start_button):
            button.disabled = not usable
            button.tooltip = "" if usable else "fix the problems shown in the form first"

    # Public state -----------------------------------------------------------------------

    @property
    def config(self) -> dict[str, Any]:
        """The sweep config the form holds, as a dict (a copy); set it to load another.

        Examples
        --------
        >>> import nbsweep
        >>> b = nbsweep.builder()
        >>> b.config = {"method": "grid", "parameters": {"n": {"values": [1, 2]}}}
        >>> b.config
        {'method': 'grid', 'parameters': {'n': {'values': [1, 2]}}}
        """
        return copy.deepcopy(self._config)

    @config.setter
    def config(self, value: Mapping[str, Any] | str | Path) -> None:
        self.load(value)

    @property
    def yaml(self) -> str:
        """The config as YAML, as :meth:`save` writes it and the YAML view shows it."""
        return to_yaml(self._config)

    @property
    def problems(self) -> tuple[Problem, ...]:
        """Why the config cannot be used: validation's problems and the form's own.

        The form's own are names used twice in a group, a conflict between a field and the
        other-keys box, and boxes whose text is not a YAML mapping.
        """
        own = tuple(
            Problem(path, text) for path, level, text in self._extra_messages if level == "error"
        )
        return tuple(self._problems) + own

    @property
    def warnings(self) -> list[str]:
        """The :class:`nbsweep.ConfigWarning` messages of the config, as validation words them."""
        return list(self._warnings)

    @property
    def valid(self) -> bool:
        """True when the config validates and the form has no problems of its own."""
        return not self.problems

    @property
    def normalized(self) -> SweepConfig | None:
        """The validated config (:func:`nbsweep.validate`'s result), or None when invalid."""
        return self._normalized if self.valid else None

    @property
    def grid_size(self) -> int | None:
        """Number of grid points for a valid grid config, computed without listing them."""
        return self._grid_size

    @property
    def messages(self) -> list[FieldMessage]:
        """Every message the form shows now, where it shows it."""
        return list(self._messages)

    def messages_at(self, field: str, level: str | None = None) -> list[str]:
        """The texts of the messages shown at ``field`` (see :class:`FieldMessage`)."""
        return [
            m.text
            for m in self._messages
            if m.field == field and (level is None or m.level == level)
        ]

    def field(self, path: str) -> w.DOMWidget:
        """The input that writes the key at ``path`` (``method``, ``parameters.lr.max``).

        Examples
        --------
        >>> import nbsweep
        >>> b = nbsweep.builder({"method": "random", "parameters": {"lr": {"min": 0.1,
        ...                                                              "max": 0.01}}})
        >>> b.messages_at("parameters.lr")
        ['min (0.1) must be <= max (0.01)']
        >>> b.field("parameters.lr.max").value = "1.0"
        >>> b.valid
        True
        """
        if path not in self._fields:
            raise KeyError(f"no input at {path!r}; inputs: {sorted(self._fields)}")
        return self._fields[path]

    def validate(self) -> SweepConfig:
        """The validated config, or :class:`nbsweep.ConfigError` with every problem."""
        problems = self.problems
        if problems:
            raise ConfigError(problems)
        assert self._normalized is not None
        return self._normalized

    def histograms(self) -> dict[str, str]:
        """The chart HTML of each parameter that has one, by dotted name."""
        return {r.dotted: r.histogram.value for r in self._leaf_rows() if r.histogram.value}

    # Files ------------------------------------------------------------------------------

    def save(self, path: str | Path, *, check: bool = True) -> Path:
        """Write the config to a YAML file that :func:`nbsweep.validate` reads back equal.

        With ``check`` (the default) an invalid config raises :class:`nbsweep.ConfigError`
        and writes nothing; ``check=False`` saves a draft as it is.

        Examples
        --------
        >>> import nbsweep, tempfile, os
        >>> b = nbsweep.builder({"method": "grid", "parameters": {"n": {"values": [1, 2]}}})
        >>> path = b.save(os.path.join(tempfile.mkdtemp(), "sweep.yaml"))
        >>> nbsweep.validate(path) == nbsweep.validate(b.config)
        True
        """
        if check:
            self.validate()
        target = Path(path)
        target.write_text(self.yaml, encoding="utf-8")
        logger.info("saved the sweep config to %s", target)
        return target

    def _save_clicked(self) -> None:
        name = self.path.value.strip()
        if not name:
            raise ValueError("give a file name, e.g. sweep.yaml")
        target = self.save(name)
        self._say(FILE, f"saved {target}", "note")

    def _load_clicked(self) -> None:
        name = self.path.value.strip()
        if not name:
            raise ValueError("give the name of a YAML file to load")
        self.load(name)
        self._say(FILE, f"loaded {name}", "note")

    # Sweep and agent --------------------------------------------------------------------

    @property
    def function(self) -> Callable[[], Any] | None:
        """The function the agent runs: set it here, or type its name in the form.

        A name typed in the form is looked up in the notebook's namespace when the agent
        starts; setting a function here also writes its name there.
        """
        try:
            return self._resolve_function()
        except (LookupError, TypeError):
            return None

    @function.setter
    def function(self, value: Callable[[], Any] | None) -> None:
        if value is not None and not callable(value):
            raise TypeError(f"builder.function must be callable, got {value!r}")
        self._function = value
        self.function_name.value = getattr(value, "__name__", "") if value is not None else ""

    def _resolve_function(self) -> Callable[[], Any]:
        name = self.function_name.value.strip()
        stored = self._function
        if not name:
            if stored is not None:
                return stored
            raise LookupError(
                "name the function the agent should run (a function in this notebook, "
                "e.g. train), or set builder.function = train"
            )
        namespace = _user_namespace()
        found: Any = namespace
        try:
            head, *rest = name.split(".")
            found = namespace[head]
            for part in rest:
                found = getattr(found, part)
        except (KeyError, AttributeError):
            if stored is not None and getattr(stored, "__name__", None) == name:
                return stored
            close = difflib.get_close_matches(
                name, [k for k, v in namespace.items() if callable(v) and not k.startswith("_")]
            )
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise LookupError(f"no function named {name!r} in the notebook{hint}") from None
        if not callable(found):
            raise TypeError(f"{name!r} is a {type(found).__name__}, not a function")
        return found  # type: ignore[no-any-return]

    def _int_field(self, box: w.Text, what: str, low: int, high: int = 2**63 - 1) -> int | None:
        value = _parse_scalar(box.value)
        if value is MISSING:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{what} must be a whole number >= {low}, got {box.value.strip()!r}")
        if value > high:
            raise ValueError(f"{what} must be at most {high}, got {box.value.strip()!r}")
        return value

    def create_sweep(self) -> str:
        """Create a sweep from the config with :func:`nbsweep.sweep` and return its id.

        Uses the seed field when it holds a number. Raises :class:`nbsweep.ConfigError` when
        the config is invalid.

        Examples
        --------
        >>> import nbsweep, tempfile, os
        >>> b = nbsweep.builder({"method": "grid", "parameters": {"n": {"values": [1, 2]}}},
        ...                     store=os.path.join(tempfile.mkdtemp(), "b.db"))
        >>> len(b.create_sweep())
        8
        """
        import nbsweep

        normalized = self.validate()
        try:
            seed = self._int_field(self.seed, "seed", 0)
        except ValueError as err:
            raise self._fail(SEED, err) from None
        with warnings.catch_warnings():
            # The form shows these warnings at their fields already.
            warnings.simplefilter("ignore", ConfigWarning)
            sweep_id = nbsweep.sweep(self.config, store=self.store, seed=seed)
        self.sweep_id = sweep_id
        self._sweep_key = canonical_key(normalized.to_dict())
        self._show_sweep(f"created sweep <b>{html.escape(sweep_id)}</b>")
        logger.info("the builder created sweep %s", sweep_id)
        return sweep_id

    def start_agent(
        self,
        function: Callable[[], Any] | None = None,
        count: int | None = None,
        **options: Any,
    ) -> Any:
        """Start :func:`nbsweep.agent` on the sweep; its live view shows under the form.

        ``function`` and ``count`` default to the form's fields (``builder.function`` or the
        name typed there; an empty count runs until the sweep is done or stopped); other
        keyword arguments go to :func:`nbsweep.agent` (``verbose``, ``background``, ...). The
        sweep is created first when there is none yet, or when the config has changed since.
        Returns the agent's handle (also kept as ``builder.handle``).

        Examples
        --------
        >>> import nbsweep, tempfile, os
        >>> b = nbsweep.builder({"method": "grid", "parameters": {"n": {"values": [1, 2]}}},
        ...                     store=os.path.join(tempfile.mkdtemp(), "b.db"))
        >>> def train():
        ...     nbsweep.init()
        >>> b.function = train
        >>> b.start_agent(count=2, verbose=False).progress.finished
        2
        """
        import nbsweep

        if function is None:
            try:
                function = self._resolve_function()
            except (LookupError, TypeError) as err:
                raise self._fail(FUNCTION, err) from None
        if count is None:
            try:
                count = self._int_field(self.count, "count", 1)
            except ValueError as err:
                raise self._fail(COUNT, err) from None
        if self.handle is not None and self.handle.is_alive():
            raise self._fail(
                RUN,
                RuntimeError(
                    f"an agent is already running sweep {self.handle.sweep_id}; stop it "
                    "(its Stop button, or builder.handle.stop()) before starting another"
                ),
            )
        normalized = self.validate()
        if self.sweep_id is None or self._sweep_key != canonical_key(normalized.to_dict()):
            self.create_sweep()
        assert self.sweep_id is not None
        self.output.outputs = ()  # clear_output() would print escape codes outside a kernel
        with self.output:
            self.handle = nbsweep.agent(
                self.sweep_id, function=function, count=count, store=self.store, **options
            )
        runs = f"count {count}" if count else "until the sweep is done or stopped"
        name = getattr(function, "__name__", "the function")
        self._show_sweep(
            f"sweep <b>{html.escape(self.sweep_id)}</b>: started an agent on "
            f"<code>{html.escape(name)}</code> ({runs})"
        )
        return self.handle

    def _show_sweep(self, text: str) -> None:
        sweep_id = html.escape(self.sweep_id or "", quote=True)
        self.run_status.value = (
            f'<div class="nbsweep-b-sweep" data-sweep-id="{sweep_id}">{text}</div>'
        )

    def _say(self, field: str, text: str | None, level: str = "note") -> None:
        """Show one message at ``field`` (None: clear it) until the form is next checked."""
        slot = self._slots[field]
        slot.messages = [FieldMessage(field, level, text, field)] if text is not None else []
        slot.render()
        self._messages = [m for m in self._messages if m.field != field] + slot.messages

    def _fail(self, field: str, err: Exception) -> Exception:
        """Show ``err`` at ``field`` and return it to raise (a button shows it only there)."""
        self._say(field, str(err), "error")
        self._shown_error = err
        return err

    def _click(self, field: str, action: Callable[[], Any]) -> None:
        """Run a button's action; show what went wrong in the form instead of raising."""
        for name in (FILE, RUN, FUNCTION, SEED):
            self._say(name, None)
        self._shown_error = None
        try:
            action()
        except Exception as err:
            if err is self._shown_error:
                return
            if isinstance(err, ConfigError | LookupError | TypeError | ValueError):
                self._say(field, str(err), "error")
            else:
                logger.exception("the builder's %s button failed", field)
                self._say(field, f"{type(err).__name__}: {err}", "error")


def _user_namespace() -> dict[str, Any]:
    """The notebook's variables (IPython's user namespace), or ``__main__``'s outside one."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None:
        return dict(shell.user_ns)
    return dict(vars(sys.modules["__main__"]))


def builder(config: Mapping[str, Any] | str | Path | None = None, *, store: Any = None) -> Builder:
    """Open the sweep config builder: a form that writes, checks and starts a sweep config.

    ``config`` is a config to start from: a dict, YAML text or the path of a ``.yaml``
    file (default: an empty random search). In a notebook the form shows under the cell.
    ``builder.config`` is the dict the form holds; ``builder.save(path)`` writes it as YAML;
    the buttons create the sweep (:func:`nbsweep.sweep`) and start an agent
    (:func:`nbsweep.agent`) on the function named in the form or set as
    ``builder.function``.

    Examples
    --------
    >>> import nbsweep
    >>> b = nbsweep.builder({"method": "random", "metric": {"name": "loss"},
    ...                      "parameters": {"lr": {"distribution": "log_uniform_values",
    ...                                            "min": 0.0001, "max": 0.1}}})
    >>> b.valid, sorted(b.histograms())
    (True, ['lr'])
    >>> b.field("parameters.lr.min").value = "0"
    >>> b.messages_at("parameters.lr.min")
    ['must be > 0 for log_uniform_values, which samples in log space; got 0']
    """
    made = Builder(config, store=store)
    try:
        from nbsweep.agent import in_kernel

        kernel = in_kernel()
    except Exception:
        kernel = False
    if kernel:
        made._ipython_display_()
    return made
