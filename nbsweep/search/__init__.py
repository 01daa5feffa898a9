"""Search strategies: grid, random and bayes. Pure functions of the space and the runs."""

from __future__ import annotations

from nbsweep.search._base import Proposal, Strategy
from nbsweep.search._grid import GridSearch
from nbsweep.search._random import RandomSearch

__all__ = ["GridSearch", "Proposal", "RandomSearch", "Strategy", "strategy_for"]


def strategy_for(method: str) -> Strategy:
    """The strategy object of a sweep method.

    Examples
    --------
    >>> type(strategy_for("grid")).__name__
    'GridSearch'
    """
    if method == "grid":
        return GridSearch()
    if method == "random":
        return RandomSearch()
    if method == "bayes":
        from nbsweep.search._bayes import BayesSearch  # numpy/scipy model, loaded on demand

        return BayesSearch()
    raise ValueError(f"unknown search method {method!r}")
