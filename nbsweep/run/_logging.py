"""What ``run.log`` accepts and how each kind of value is stored.

- ints and floats (and numpy or torch scalars, and one-element arrays) are metrics: stored as
  numbers, summarised, plotted, usable as the sweep metric. NaN and +/-inf are kept as they
  are; they never count as a run's best value.
- booleans are stored as 1.0 and 0.0.
- nested dicts are flattened with dots: ``{"eval": {"acc": 0.9}}`` logs ``eval.acc``. A key
  that already holds a dot or a slash (``"val/loss"``) is used literally, never split. When
  one call holds both ``{"eval.acc": ...}`` and ``{"eval": {"acc": ...}}``, the one written
  later in the dict wins.
- strings, None, and lists (of plain data) are stored as they are in the run's history and
  summary, but are not metrics.
- anything else (a figure, a model, a multi-element tensor that does not fit in a list)
  raises ``TypeError`` naming the key, at the ``run.log`` call.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["flatten_logged"]

_MAX_LIST = 10_000


def _plain(value: Any, key: str) -> Any:
    """Convert one logged value; raises TypeError when it cannot be stored."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return float(value)  # numpy's float64 is a float subclass: store a plain float
    if isinstance(value, int):
        return int(value)
    if value is None or isinstance(value, str):
        return value
    item = getattr(value, "item", None)
    size = getattr(value, "size", None)
    numel = getattr(value, "numel", None)
    count = numel() if callable(numel) else size if isinstance(size, int) else None
    if callable(item) and (count is None or count == 1):
        try:
            return _plain(item(), key)
        except (ValueError, RuntimeError):
            pass
    tolist = getattr(value, "tolist", None)
    if callable(tolist) and count is not None and count <= _MAX_LIST:
        value = tolist()
    if isinstance(value, list | tuple):
        try:
            json.dumps(value, allow_nan=True)
        except (TypeError, ValueError):
            pass
        else:
            return list(value)
    raise TypeError(
        f"run.log: cannot store {key!r} = {type(value).__name__}; log numbers, strings, "
        "None, lists of those, or dicts of them"
    )


def flatten_logged(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Turn one ``run.log`` dict into flat ``{key: plain value}``.

    Examples
    --------
    >>> flatten_logged({"loss": 0.5, "eval": {"acc": True}, "val/loss": 1})
    {'loss': 0.5, 'eval.acc': 1.0, 'val/loss': 1}
    """
    if not isinstance(data, Mapping):
        raise TypeError(f"run.log expects a dict of values, got {type(data).__name__}")
    out: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str):
            raise TypeError(f"run.log: keys must be strings, got {key!r}")
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten_logged(value, f"{name}."))
        else:
            out[name] = _plain(value, name)
    return out


def is_metric(value: Any) -> bool:
    """True for values stored as numbers (ints and floats, NaN and inf included)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def finite(value: float) -> bool:
    """True for a finite float."""
    return not (math.isnan(value) or math.isinf(value))
