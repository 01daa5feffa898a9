"""Random search: independent draws, W&B's way."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from nbsweep.config import SweepConfig
from nbsweep.search._base import Proposal
from nbsweep.space import Space
from nbsweep.store import RunRecord

__all__ = ["RandomSearch"]


class RandomSearch:
    """One uniform draw per parameter, in W&B's order, through each distribution's quantiles.

    With the same ``random.Random`` state it draws exactly what W&B's engine draws after
    ``random.seed``. It never ends by itself: ``run_cap``, ``count`` or a stop end it.

    Examples
    --------
    >>> import random, nbsweep
    >>> cfg = nbsweep.validate({"method": "random", "parameters": {"n": {"min": 1, "max": 5}}})
    >>> RandomSearch().propose(cfg, Space(cfg), [], random.Random(0), {}).config
    {'n': 5}
    """

    def propose(
        self,
        config: SweepConfig,
        space: Space,
        runs: Sequence[RunRecord],
        rng: random.Random,
        state: Mapping[str, Any],
    ) -> Proposal:
        """A fresh independent draw."""
        return Proposal(space.sample(rng))
