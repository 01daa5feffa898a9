"""Bayesian search: turn a sweep's runs into GP observations and decode the GP's proposal.

Which runs say what (W&B's rules, with nbsweep's fixes):

- a finished or stopped run with a finite metric is an observation of its best value;
- a failed or crashed run, or one whose metric was NaN or inf, gets the worst finite value
  seen so far (``metric.impute: worst``, the default), or its own best/latest value when it has
  one and ``impute`` says so;
- when no run has a finite value yet, those runs carry no value at all (W&B would invent
  0.0); they and running runs are *pending*: the model avoids proposing them again;
- in a space of finitely many combinations, a combination that some run already has is
  never proposed again, and the space is exhausted once all have run;
- in any space, a proposal whose config some run already has (a parameter rounded on decode
  turns a position no run has into a run's value) is replaced: the model is asked again,
  then random draws are tried, and the sweep ends when none of them is new.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nbsweep.config import SweepConfig
from nbsweep.search._base import Proposal
from nbsweep.search._gp import Dim, GPState, _row_keys, propose
from nbsweep.space import Space
from nbsweep.store import RunRecord

__all__ = ["BayesSearch", "observations"]

logger = logging.getLogger(__name__)

_VALUED = frozenset({"finished", "stopped"})
_ALWAYS_REFIT = 50
_MIN_NEW = 4
_REFIT_GROWTH = 0.1
_IMPUTED = frozenset({"failed", "crashed", "finished", "stopped"})
_FREEABLE = frozenset({"failed", "crashed"})
# Model proposals asked for again when one decodes to a config some run already has, and
# random draws tried after that (cheap: no model, one encode each).
_MAX_REPEATS = 8
_RANDOM_DRAWS = 1024


def observations(
    config: SweepConfig,
    space: Space,
    runs: Sequence[RunRecord],
    encoded: dict[str, np.ndarray | None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split runs into observed points, their values to minimise, pending and tried points.

    Returns
    -------
    X, y
        Observed points in the unit cube and their values, signed so smaller is better.
    pending
        Points being evaluated, or that failed while no value exists to impute.
    tried
        Every point some run has, in any state.

    Examples
    --------
    >>> import nbsweep
    >>> cfg = nbsweep.validate({"method": "bayes", "metric": {"name": "loss"},
    ...                         "parameters": {"x": {"min": 0.0, "max": 1.0}}})
    >>> X, y, pending, tried = observations(cfg, Space(cfg), [])
    >>> X.shape, pending.shape
    ((0, 1), (0, 1))
    """
    d = len(space.searchable)
    goal = config.goal
    impute = (config.get("metric") or {}).get("impute", "worst")
    valued: list[tuple[np.ndarray, float]] = []
    unvalued: list[tuple[np.ndarray, RunRecord]] = []
    pending: list[np.ndarray] = []
    tried: list[np.ndarray] = []
    cache = encoded if encoded is not None else {}
    for run in runs:
        # A run's sweep values never change (they are locked), so its point is encoded once.
        if run.id in cache:
            x = cache[run.id]
        else:
            x = cache[run.id] = space.encode(space.flatten(run.config))
        if x is None:
            continue
        tried.append(x)
        value = run.objective(goal)
        if run.state in _VALUED and value is not None and math.isfinite(value):
            valued.append((x, value))
        elif run.state in _IMPUTED:
            unvalued.append((x, run))
        else:
            pending.append(x)
    worst = max((v for _, v in valued), default=None)
    X = [x for x, _ in valued]
    y = [v for _, v in valued]
    for x, run in unvalued:
        own = run.objective(goal)
        if impute in ("best", "latest") and own is not None and math.isfinite(own):
            X.append(x)
            y.append(own)
        elif worst is not None:
            X.append(x)
            y.append(worst)
        else:
            pending.append(x)

    def array(rows: list[np.ndarray]) -> np.ndarray:
        return np.array(rows, dtype=float).reshape(len(rows), d)

    return array(X), np.array(y, dtype=float), array(pending), array(tried)


def _refit_due(state: GPState | None, n: int) -> bool:
    """Whether to fit the kernel's settings again before this proposal.

    Every proposal sits inside a claim, under the store's write lock, so the fit (the
    expensive part: seconds at 1,000 runs) is amortised: after every new result while the
    sweep is small, then once the number of results has grown by a tenth. Between fits the
    stored settings are used with all current data.
    """
    if state is None or n <= _ALWAYS_REFIT:
        return True
    return n - state.n_fit >= max(_MIN_NEW, _REFIT_GROWTH * state.n_fit)


def _dims(space: Space) -> list[Dim]:
    dims = []
    for enc in space.encodings():
        if enc.kind == "categorical":
            dims.append(Dim("categorical", n_choices=enc.n_choices))
        elif enc.kind == "discrete":
            dims.append(Dim("discrete", levels=enc.levels))
        else:
            dims.append(Dim("continuous"))
    return dims


class BayesSearch:
    """Gaussian-process search with expected improvement in the unit cube.

    Examples
    --------
    >>> import random, nbsweep
    >>> cfg = nbsweep.validate({"method": "bayes", "metric": {"name": "loss"},
    ...                         "parameters": {"x": {"min": 0.0, "max": 1.0}}})
    >>> 0.0 <= BayesSearch().propose(cfg, Space(cfg), [], random.Random(0), {}).config["x"] <= 1
    True
    """

    def __init__(self, n_startup: int = 10) -> None:
        self.n_startup = n_startup
        self._encoded: dict[str, np.ndarray | None] = {}

    def propose(
        self,
        config: SweepConfig,
        space: Space,
        runs: Sequence[RunRecord],
        rng: random.Random,
        state: Mapping[str, Any],
    ) -> Proposal:
        """The point of highest expected improvement, or a space-filling start."""
        dims = _dims(space)
        finite_space = all(dim.kind != "continuous" for dim in dims)
        if finite_space:
            # A failed run whose combination was freed (``Sweep.retry_failed``) no longer has
            # its grid key: that combination is to run again, as if it never had.
            runs = [r for r in runs if r.grid_key is not None or r.state not in _FREEABLE]
        X, y, pending, tried = observations(config, space, runs, self._encoded)
        gp_state = GPState.from_dict(state["gp"]) if state.get("gp") else None
        # One scrambling for the whole sweep, drawn by its first claim and kept in the sweep's
        # state, so that the start-up points of all claims form one Sobol sequence.
        stored_seed = state.get("design_seed")
        fresh_seed = stored_seed is None
        design_seed = rng.getrandbits(63) if stored_seed is None else int(stored_seed)
        design_start = int(state.get("design_next", 0))
        refit = _refit_due(gp_state, len(y))
        fitted: GPState | None = None
        rejected: list[np.ndarray] = []
        flat: dict[str, Any] | None = None
        info: dict[str, Any] = {}
        for _ in range(1 + _MAX_REPEATS):
            result = propose(
                X,
                y,
                dims,
                np.random.default_rng(rng.getrandbits(64)),
                pending=np.vstack([pending, *rejected]) if rejected else pending,
                exclude=tried if finite_space else X,
                state=gp_state,
                n_startup=self.n_startup,
                refit=refit,
                design_seed=design_seed,
                design_start=design_start,
            )
            info = dict(result.info)
            if "design_index" in info:
                design_start = int(info["design_index"]) + 1
            if result.state is not None:
                # A retry reuses the settings just fitted instead of fitting them again.
                fitted = gp_state = result.state
                refit = False
            if result.x is None:
                if not rejected:
                    return Proposal(
                        None, reason="every combination of the space has run", info=info
                    )
                break
            flat = space.decode(result.x, rng)
            if not _has_run(space.encode(flat), tried):
                break
            # A parameter rounded on decode (an int range too wide to list, a q form without
            # bounds) can turn a position no run has into a value some run has: believe that
            # position pending, so the model looks elsewhere, and ask again.
            logger.debug("bayes proposal %r repeats a run's config; asking again", flat)
            rejected.append(result.x)
            flat = None
        if flat is None:
            flat = _untried_draw(space, tried, rng)
            info = {"phase": "fallback", "reason": "model proposals repeated a run's config"}
            if flat is None:
                return Proposal(
                    None,
                    reason=(
                        f"no config that no run has was found in {len(rejected)} model "
                        f"proposals and {_RANDOM_DRAWS} random draws"
                    ),
                    info=info,
                )
        if rejected:
            info["repeats_rejected"] = len(rejected)
        new_state: dict[str, Any] = {}
        if fitted is not None:
            new_state["gp"] = fitted.to_dict()
        if fresh_seed:
            new_state["design_seed"] = design_seed
        if design_start != int(state.get("design_next", 0)):
            new_state["design_next"] = design_start
        key = space.point_key(flat) if finite_space else None
        return Proposal(flat, grid_key=key, state=new_state or None, info=info)


def _has_run(x: np.ndarray | None, tried: np.ndarray) -> bool:
    """Whether unit-cube point ``x`` equals (exactly) a row of ``tried``."""
    return x is not None and bool(np.any(np.all(tried == x, axis=1)))


def _untried_draw(space: Space, tried: np.ndarray, rng: random.Random) -> dict[str, Any] | None:
    """A random config whose point no run has; None when a bounded number of draws fail.

    Draws follow the parameters' distributions, so values far out in an unbounded tail are
    rarely drawn: None means that what is left of the space has little probability.
    """
    taken = set(_row_keys(tried))
    for _ in range(_RANDOM_DRAWS):
        flat = space.sample(rng)
        x = space.encode(flat)
        if x is not None and _row_keys(x[None, :])[0] not in taken:
            return flat
    return None
