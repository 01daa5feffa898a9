"""Messages both agents (in-kernel and program) give about a sweep's metric."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["metric_never_logged"]


def metric_never_logged(name: str, run_id: str, logged: Iterable[str]) -> str:
    """Say that a finished run never logged the sweep's metric, with the closest logged name.

    Examples
    --------
    >>> "Did you mean 'val_loss'?" in metric_never_logged("val_los", "r1", ["val_loss", "acc"])
    True
    """
    keys = sorted(logged)
    close = difflib.get_close_matches(name, keys, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    shown = ", ".join(map(repr, keys[:10])) or "nothing"
    return (
        f"The sweep's metric {name!r} was never logged by run {run_id} (it logged {shown})."
        f"{hint} Runs without it have no value, and bayes proposes at random until some run "
        "logs it."
    )
