"""Grid search: every combination once, in W&B's order, then done."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from nbsweep.config import SweepConfig
from nbsweep.search._base import Proposal
from nbsweep.space import Space
from nbsweep.store import RunRecord

__all__ = ["GridSearch"]


class GridSearch:
    """Walk the grid by index, skipping points that some run of the sweep already has.

    A run in any state uses up its point, failed and crashed runs included (as in W&B),
    except a run that a person stopped (``stop()``, the stop button, an interrupt): its point
    is run again by the next claim, so a grid that was stopped and resumed still runs every
    point. :meth:`nbsweep.Sweep.retry_failed` frees the points of failed runs. The grid is
    never listed in memory: point ``i`` is computed from ``i``, and a cursor kept in the
    sweep's strategy state remembers where the used prefix ends.

    Examples
    --------
    >>> import random, nbsweep
    >>> cfg = nbsweep.validate({"method": "grid", "parameters": {"a": {"values": [1, 2]}}})
    >>> GridSearch().propose(cfg, Space(cfg), [], random.Random(0), {}).config
    {'a': 1}
    """

    def propose(
        self,
        config: SweepConfig,
        space: Space,
        runs: Sequence[RunRecord],
        rng: random.Random,
        state: Mapping[str, Any],
    ) -> Proposal:
        """The first grid point, from the cursor on, that no run has."""
        used = {run.grid_key for run in runs if run.grid_key is not None}
        size = space.grid_size()
        index = int(state.get("grid_cursor", 0))
        while index < size:
            point = space.grid_point(index)
            key = space.point_key(point)
            if key not in used:
                return Proposal(point, grid_key=key, state={"grid_cursor": index})
            index += 1
        return Proposal(None, reason=f"the grid's {size} points have all run")
