"""Canonical form of parameter values, for telling whether two values are the same point.

Numbers that are equal are the same value whatever their type (``3e6 == 3000000`` and
``1.0 == 1``), but ``True`` is not ``1``: a boolean flag and a count mean different things.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["canonical", "canonical_key"]


def canonical(value: Any) -> Any:
    """Return a JSON-ready form of ``value`` in which equal values look the same.

    Examples
    --------
    >>> canonical(3e6) == canonical(3000000)
    True
    >>> canonical(True) == canonical(1)
    False
    """
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return ["b", value] if isinstance(value, bool) else value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
            return int(value)
        return ["f", repr(value)] if not math.isfinite(value) else value
    if isinstance(value, list | tuple):
        return ["l", [canonical(v) for v in value]]
    if isinstance(value, dict):
        return ["d", sorted((str(k), canonical(v)) for k, v in value.items())]
    item = getattr(value, "item", None)
    if callable(item):
        return canonical(item())
    return ["o", repr(value)]


def canonical_key(value: Any) -> str:
    """Compact string of :func:`canonical`, usable as a dict key or a database key.

    Examples
    --------
    >>> canonical_key({"a": 1.0, "b": [True]})
    '["d",[["a",1],["b",["l",[["b",true]]]]]]'
    """
    return json.dumps(canonical(value), separators=(",", ":"), sort_keys=True)
