"""What every search strategy takes and returns."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from nbsweep.config import SweepConfig
from nbsweep.space import Space
from nbsweep.store import RunRecord

__all__ = ["Proposal", "Strategy"]


@dataclass(frozen=True)
class Proposal:
    """The next config to run, or None when the strategy has nothing left to try.

    Attributes
    ----------
    config
        Flat ``{dotted name: value}``; None when the space is exhausted.
    grid_key
        For strategies that must never repeat a point: the point's canonical key, which the
        store keeps unique per sweep.
    reason
        Why the strategy stopped, when ``config`` is None.
    state
        What the strategy wants kept for its next proposal (None: unchanged).
    info
        How the proposal was made, for display and debugging.
    """

    config: dict[str, Any] | None
    grid_key: str | None = None
    reason: str = ""
    state: dict[str, Any] | None = None
    info: dict[str, Any] = field(default_factory=dict)


class Strategy(Protocol):
    """A search method: reads the space and the runs so far, proposes the next config.

    Strategies do no I/O: everything they need arrives as arguments, and what they want to
    remember comes back in :attr:`Proposal.state`.
    """

    def propose(
        self,
        config: SweepConfig,
        space: Space,
        runs: Sequence[RunRecord],
        rng: random.Random,
        state: Mapping[str, Any],
    ) -> Proposal:
        """The next config to run."""
        ...
