"""The search space of a sweep: its parameters flattened to dotted names, in W&B's order.

Nested parameters are flattened to paths here and rebuilt into nested dicts for
``run.config``. The order of parameters is W&B's: sorted by the engine's flattened name
(case-sensitive), so a seeded random search draws the same values as W&B, and a grid walks
its points in the same order with the last name changing fastest.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nbsweep.config import SweepConfig, canonical_key
from nbsweep.space._distributions import Distribution, Encoding, make_distribution

__all__ = ["Param", "Space"]

# W&B's engine joins nested names with this separator before sorting them.
_WANDB_NEST_SEP = ".wbnest[599c28ca25da]."


@dataclass(frozen=True)
class Param:
    """One leaf parameter of the space.

    Attributes
    ----------
    path
        Keys from the top of ``run.config`` down to this value, e.g. ``("opt", "lr")``.
    distribution
        How its values are drawn.
    """

    path: tuple[str, ...]
    distribution: Distribution
    name: str = field(init=False)
    """The dotted name, e.g. ``opt.lr``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", ".".join(self.path))


def _leaves(group: Mapping[str, Any], prefix: tuple[str, ...]) -> Iterator[Param]:
    for name, spec in group.items():
        if "parameters" in spec:
            yield from _leaves(spec["parameters"], (*prefix, name))
        else:
            yield Param((*prefix, name), make_distribution(spec))


class Space:
    """The parameters of a sweep, with sampling, grid indexing and unit-cube encoding.

    Examples
    --------
    >>> import random
    >>> space = Space({"b": {"distribution": "categorical", "values": [1, 2]},
    ...                "a": {"distribution": "categorical", "values": ["x", "y"]}})
    >>> [space.nest(space.grid_point(i)) for i in range(space.grid_size())]
    [{'a': 'x', 'b': 1}, {'a': 'x', 'b': 2}, {'a': 'y', 'b': 1}, {'a': 'y', 'b': 2}]
    """

    def __init__(self, parameters: Mapping[str, Any] | SweepConfig) -> None:
        if isinstance(parameters, SweepConfig):
            parameters = parameters.parameters
        leaves = list(_leaves(parameters, ()))
        self.params: tuple[Param, ...] = tuple(
            sorted(leaves, key=lambda p: _WANDB_NEST_SEP.join(p.path))
        )
        self._by_name = {p.name: p for p in self.params}
        self._grid_values: list[Sequence[Any]] | None = None

    def __len__(self) -> int:
        return len(self.params)

    def __iter__(self) -> Iterator[Param]:
        return iter(self.params)

    def __getitem__(self, name: str) -> Param:
        return self._by_name[name]

    @property
    def names(self) -> list[str]:
        """Dotted names of all parameters, in W&B's order."""
        return [p.name for p in self.params]

    def sample(self, uniform: Any) -> dict[str, Any]:
        """Draw one config, taking one ``uniform()`` per parameter in W&B's order.

        ``uniform`` is a ``random.Random`` (its ``random`` method is used), so constants use
        up a draw as in W&B.
        """
        return {p.name: p.distribution.sample(uniform.random()) for p in self.params}

    def nest(self, flat: Mapping[str, Any]) -> dict[str, Any]:
        """Rebuild nested dicts from a flat ``{dotted name: value}`` config."""
        out: dict[str, Any] = {}
        for p in self.params:
            if p.name not in flat:
                continue
            node = out
            for key in p.path[:-1]:
                node = node.setdefault(key, {})
            node[p.path[-1]] = flat[p.name]
        return out

    def flatten(self, nested: Mapping[str, Any]) -> dict[str, Any]:
        """The flat ``{dotted name: value}`` form of a nested config; missing keys are left out."""
        out: dict[str, Any] = {}
        for p in self.params:
            node: Any = nested
            for key in p.path:
                if not isinstance(node, Mapping) or key not in node:
                    break
                node = node[key]
            else:
                out[p.name] = node
        return out

    # Grid ------------------------------------------------------------------------------------

    def _grid(self) -> list[Sequence[Any]]:
        if self._grid_values is None:
            self._grid_values = [p.distribution.grid_values() for p in self.params]
        return self._grid_values

    def grid_size(self) -> int:
        """Number of grid points, computed without listing them."""
        return math.prod(len(values) for values in self._grid())

    def grid_point(self, index: int) -> dict[str, Any]:
        """The grid point at ``index`` (0-based); the last parameter changes fastest."""
        return self._point_at(self._grid(), index)

    def finite_values(self) -> list[Sequence[Any]] | None:
        """Every value of each parameter, or None when some parameter has no end.

        Grid parameters give their grid values; the other finite ones (bounded log and beta
        ``q_`` forms, which grid search refuses) the values of their lattice, as model-based
        search sees them.
        """
        out: list[Sequence[Any]] = []
        for p in self.params:
            dist = p.distribution
            if dist.grid_ok:
                out.append(dist.grid_values())
            elif dist.is_constant:
                out.append([dist.sample(0.0)])
            else:
                encoding = dist.encoding()
                if encoding.kind != "discrete" or encoding.levels is None:
                    return None
                out.append([dist.decode(float(u)) for u in encoding.levels])
        return out

    def _point_at(self, values: Sequence[Sequence[Any]], index: int) -> dict[str, Any]:
        """Point ``index`` of the product of ``values``; the last parameter changes fastest."""
        point: dict[str, Any] = {}
        for p, options in zip(reversed(self.params), reversed(values), strict=True):
            index, digit = divmod(index, len(options))
            point[p.name] = options[digit]
        return {p.name: point[p.name] for p in self.params}

    def points(self, values: Sequence[Sequence[Any]]) -> Iterator[dict[str, Any]]:
        """Every point of the product of ``values`` (from :meth:`finite_values`), in order."""
        for index in range(math.prod(len(options) for options in values)):
            yield self._point_at(values, index)

    def point_key(self, flat: Mapping[str, Any]) -> str:
        """A key equal for configs that are the same point (``2`` and ``2.0`` included)."""
        return canonical_key({p.name: flat.get(p.name) for p in self.params})

    # Unit cube -------------------------------------------------------------------------------

    @property
    def searchable(self) -> list[Param]:
        """The parameters that vary, which model-based search works on."""
        return [p for p in self.params if not p.distribution.is_constant]

    def encodings(self) -> list[Encoding]:
        """How each searchable parameter appears to model-based search."""
        return [p.distribution.encoding() for p in self.searchable]

    def encode(self, flat: Mapping[str, Any]) -> np.ndarray | None:
        """Unit-cube coordinates of a config, or None when some value is outside the space."""
        coords = []
        for p in self.searchable:
            if p.name not in flat:
                return None
            u = p.distribution.encode(flat[p.name])
            if u is None:
                return None
            coords.append(u)
        return np.array(coords, dtype=float)

    def decode(self, x: np.ndarray, uniform: Any) -> dict[str, Any]:
        """The config at unit-cube point ``x``; constants are filled in.

        ``uniform`` supplies the draw for parameters the model does not search (constants
        take no randomness, but keep the signature uniform).
        """
        searched = dict(zip((p.name for p in self.searchable), x, strict=True))
        out = {}
        for p in self.params:
            if p.name in searched:
                out[p.name] = p.distribution.decode(float(searched[p.name]))
            else:
                out[p.name] = p.distribution.sample(uniform.random())
        return out
