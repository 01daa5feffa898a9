"""One class per W&B distribution: draw a value, list grid values, map to the unit cube.

Drawing follows W&B exactly: a value is ``ppf(u)`` of one uniform draw ``u``, so a seeded
``random.Random`` gives the same values as W&B's engine. Quantised forms round to multiples
of ``q`` and then to the decimals of ``q`` (W&B leaves float noise such as
0.30000000000000004); they return ints when ``q`` is an int.

For model-based search each distribution maps its values into ``[0, 1]`` (``encode``) and
back (``decode``): through its CDF, which is linear for uniform and log-linear for the log
forms. Finite lattices (ints, q forms with bounds) are *discrete*: every value owns the
stretch of ``[0, 1]`` that decodes to it, and ``levels`` holds the middle of each stretch.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

import numpy as np
from scipy import special

from nbsweep.config import canonical_key

__all__ = ["Distribution", "Encoding", "make_distribution"]

# A lattice with more values than this is searched as a continuous range and rounded.
_MAX_LEVELS = 4096
# How close to 0 and 1 a decoded position may come (ppf(0) of a normal is -inf).
_EDGE = 1e-12
_LOG_MAX = math.log(np.finfo(float).max)


@dataclass(frozen=True)
class Encoding:
    """How one parameter appears to model-based search.

    Attributes
    ----------
    kind
        ``continuous``, ``discrete`` (a finite lattice) or ``categorical``.
    levels
        For ``discrete``: sorted positions in ``[0, 1]`` of the allowed values.
    n_choices
        For ``categorical``: the number of choices; the coordinate holds the index.
    """

    kind: str
    levels: np.ndarray | None = None
    n_choices: int = 0


def _decimals(q: float) -> int:
    exponent = Decimal(repr(float(q))).normalize().as_tuple().exponent
    return max(0, -int(exponent))


class Distribution(ABC):
    """A parameter's distribution, built from its normalised spec."""

    name: ClassVar[str]
    log_scale: ClassVar[bool] = False
    grid_ok: ClassVar[bool] = False

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = dict(spec)

    @property
    def is_constant(self) -> bool:
        """True when every draw gives the same value."""
        return False

    @property
    def is_numeric(self) -> bool:
        """True for numeric distributions (categoricals may still hold numbers)."""
        return True

    @abstractmethod
    def sample(self, u: float) -> Any:
        """The value at quantile ``u`` in ``[0, 1)``."""

    def grid_values(self) -> Sequence[Any]:
        """Every value a grid visits, in order (computed on demand for long ranges)."""
        raise TypeError(f"grid cannot enumerate a {self.name} distribution")

    @abstractmethod
    def contains(self, value: Any) -> bool:
        """True when ``value`` is a value this distribution can produce, of the right type."""

    @abstractmethod
    def encoding(self) -> Encoding:
        """How model-based search sees this parameter."""

    @abstractmethod
    def encode(self, value: Any) -> float | None:
        """Position of ``value`` in the unit cube, or None when it is not in the space."""

    @abstractmethod
    def decode(self, u: float) -> Any:
        """The value at unit-cube position ``u``."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r})"


class Constant(Distribution):
    """``value``: the same value every run."""

    name = "constant"
    grid_ok = True

    def __init__(self, spec: Mapping[str, Any]) -> None:
        super().__init__(spec)
        self.value = spec["value"]

    @property
    def is_constant(self) -> bool:
        return True

    @property
    def is_numeric(self) -> bool:
        return isinstance(self.value, int | float) and not isinstance(self.value, bool)

    def sample(self, u: float) -> Any:
        return self.value

    def grid_values(self) -> list[Any]:
        return [self.value]

    def contains(self, value: Any) -> bool:
        return canonical_key(value) == canonical_key(self.value)

    def encoding(self) -> Encoding:
        return Encoding("categorical", n_choices=1)

    def encode(self, value: Any) -> float | None:
        return 0.0 if self.contains(value) else None

    def decode(self, u: float) -> Any:
        return self.value


class Categorical(Distribution):
    """``values`` (and optionally ``probabilities``): one of a list."""

    name = "categorical"
    grid_ok = True

    def __init__(self, spec: Mapping[str, Any]) -> None:
        super().__init__(spec)
        self.values = list(spec["values"])
        probs = spec.get("probabilities")
        self.cumulative = np.cumsum(probs) if probs is not None else None
        # Numerically equal values are one point; the last one listed supplies the object
        # (as W&B's engine does), at the place of the first.
        by_key: dict[str, Any] = {}
        for value in self.values:
            key = canonical_key(value)
            by_key[key] = value
        self.choices = list(by_key.values())
        self._index = {key: i for i, key in enumerate(by_key)}

    @property
    def is_constant(self) -> bool:
        return len(self.choices) == 1

    @property
    def is_numeric(self) -> bool:
        return all(isinstance(v, int | float) and not isinstance(v, bool) for v in self.choices)

    def sample(self, u: float) -> Any:
        if self.cumulative is not None:
            index = int(np.searchsorted(self.cumulative, u, side="right"))
            return self.values[min(index, len(self.values) - 1)]
        return self.values[int(u * len(self.values))]

    def grid_values(self) -> list[Any]:
        return list(self.choices)

    def contains(self, value: Any) -> bool:
        return canonical_key(value) in self._index

    def encoding(self) -> Encoding:
        return Encoding("categorical", n_choices=len(self.choices))

    def encode(self, value: Any) -> float | None:
        index = self._index.get(canonical_key(value))
        return float(index) if index is not None else None

    def decode(self, u: float) -> Any:
        return self.choices[int(min(max(round(u), 0), len(self.choices) - 1))]


class _Continuous(Distribution):
    """A distribution given by a CDF and its inverse on a transformed axis."""

    q: float | None = None
    integer: bool = False

    def __init__(self, spec: Mapping[str, Any]) -> None:
        super().__init__(spec)
        q = spec.get("q")
        if q is not None:
            self.q = q
            self.integer = isinstance(q, int) and not isinstance(q, bool)
            self._decimals = _decimals(q)
        self._levels, self._lattice = self._build_lattice()

    @abstractmethod
    def ppf(self, u: float) -> float:
        """Inverse CDF of the unquantised distribution."""

    @abstractmethod
    def cdf(self, x: float) -> float:
        """CDF of the unquantised distribution."""

    def support(self) -> tuple[float, float]:
        """Bounds of the unquantised distribution (may be infinite)."""
        return (-math.inf, math.inf)

    def quantize(self, x: float) -> Any:
        """Round to a multiple of ``q`` and to q's decimals; int when ``q`` is an int."""
        if self.q is None:
            return float(x)
        k = float(np.round(x / self.q))
        if self.integer:
            return int(k) * int(self.q)
        return round(k * self.q, self._decimals) + 0.0

    def sample(self, u: float) -> Any:
        return self.quantize(self.ppf(u))

    def _build_lattice(self) -> tuple[np.ndarray | None, list[Any] | None]:
        if self.q is None:
            return None, None
        low, high = self.support()
        if not (math.isfinite(low) and math.isfinite(high)):
            return None, None
        if low == high:
            return np.array([0.5]), [self.quantize(low)]
        k_low, k_high = int(np.round(low / self.q)), int(np.round(high / self.q))
        if k_high - k_low + 1 > _MAX_LEVELS:
            return None, None
        # One level per distinct value: a subclass's quantize may send neighbouring bins to
        # the same value (log distributions keep to the multiples of q inside [min, max]);
        # those bins merge, with the level at the middle of their joint stretch of the cube.
        values: list[Any] = []
        spans: list[list[float]] = []
        for k in range(k_low, k_high + 1):
            lo = self.cdf(max(low, (k - 0.5) * self.q))
            hi = self.cdf(min(high, (k + 0.5) * self.q))
            if hi > lo:
                value = self.quantize(k * self.q)
                if values and values[-1] == value:
                    spans[-1][1] = hi
                else:
                    values.append(value)
                    spans.append([lo, hi])
        if not values:  # bounds so close that no bin has width: the one value there is
            return np.array([0.5]), [self.quantize(low)]
        return np.array([(lo + hi) / 2 for lo, hi in spans]), values

    def contains(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if self.q is None:
            low, high = self.support()
            return isinstance(value, float) and low <= value <= high
        if self.integer != isinstance(value, int) or not math.isfinite(value):
            return False
        k = value / self.q
        if abs(k - round(k)) > 1e-9 * max(1.0, abs(k)):
            return False
        if self._lattice is not None:
            return any(value == v for v in self._lattice)
        return True

    def encoding(self) -> Encoding:
        if self._levels is not None:
            return Encoding("discrete", levels=self._levels)
        return Encoding("continuous")

    def encode(self, value: Any) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if self._lattice is not None and self._levels is not None:
            for v, level in zip(self._lattice, self._levels, strict=True):
                if v == value:
                    return float(level)
            return None
        low, high = self.support()
        return float(min(max(self.cdf(min(max(float(value), low), high)), 0.0), 1.0))

    def decode(self, u: float) -> Any:
        if self._lattice is not None and self._levels is not None:
            return self._lattice[int(np.argmin(np.abs(self._levels - u)))]
        low, high = self.support()
        if math.isfinite(low) and math.isfinite(high):
            # The ends of the cube are the bounds themselves, so a bound proposed once
            # encodes back to the same end and is recognised as run.
            return self.sample(min(max(u, 0.0), 1.0))
        # The ends of the cube are the infinite tails of unbounded distributions.
        return self.sample(min(max(u, _EDGE), 1.0 - _EDGE))


class _Lattice(Sequence[Any]):
    """The multiples of q of a q_uniform grid, computed on demand (a grid may be huge)."""

    def __init__(self, ks: range, dist: _Continuous) -> None:
        self._ks = ks
        self._dist = dist

    def __len__(self) -> int:
        return len(self._ks)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        assert self._dist.q is not None
        return self._dist.quantize(self._ks[index] * self._dist.q)


class IntUniform(_Continuous):
    """``int_uniform``: an int in ``[min, max]``, both ends included."""

    name = "int_uniform"
    grid_ok = True

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.low, self.high = int(spec["min"]), int(spec["max"])
        self.count = self.high - self.low + 1
        super().__init__(spec)

    @property
    def is_constant(self) -> bool:
        return self.count == 1

    def ppf(self, u: float) -> float:
        return float(self.low + min(int(u * self.count), self.count - 1))

    def cdf(self, x: float) -> float:
        return (x - self.low + 0.5) / self.count

    def sample(self, u: float) -> Any:
        return int(self.ppf(u))

    def grid_values(self) -> Sequence[Any]:
        return range(self.low, self.high + 1)  # indexable without listing every value

    def contains(self, value: Any) -> bool:
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and self.low <= value <= self.high
        )

    def encoding(self) -> Encoding:
        if self.count <= _MAX_LEVELS:
            return Encoding("discrete", levels=(np.arange(self.count) + 0.5) / self.count)
        return Encoding("continuous")

    def encode(self, value: Any) -> float | None:
        if not self.contains(value):
            return None
        return float((value - self.low + 0.5) / self.count)

    def decode(self, u: float) -> Any:
        return self.sample(min(max(u, 0.0), np.nextafter(1.0, 0.0)))


class Uniform(_Continuous):
    """``uniform`` and ``q_uniform``: a float in ``[min, max]``."""

    name = "uniform"

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.low, self.high = float(spec["min"]), float(spec["max"])
        super().__init__(spec)

    @property
    def is_constant(self) -> bool:
        return self.low == self.high

    def ppf(self, u: float) -> float:
        # Weighted form: max - min can overflow for bounds near the float limits.
        return min(self.low * (1.0 - u) + self.high * u, self.high)

    def cdf(self, x: float) -> float:
        if self.high == self.low:
            return 0.5
        return (x / 2 - self.low / 2) / (self.high / 2 - self.low / 2)

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


class QUniform(Uniform):
    """``q_uniform``: uniform rounded to multiples of ``q``.

    A grid visits the multiples of ``q`` inside ``[min, max]``, ``max`` included when it is
    one (W&B's grid drops ``max``; its random draws do not).
    """

    name = "q_uniform"
    grid_ok = True

    def grid_values(self) -> Sequence[Any]:
        assert self.q is not None
        start = math.ceil(self.low / self.q - 1e-9)
        stop = math.floor(self.high / self.q + 1e-9)
        return _Lattice(range(start, stop + 1), self)


class LogUniformValues(_Continuous):
    """``log_uniform_values`` (and its q form): log-uniform between real-valued bounds."""

    name = "log_uniform_values"
    log_scale = True

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.low, self.high = float(spec["min"]), float(spec["max"])
        self._log_low, self._log_high = math.log(self.low), math.log(self.high)
        super().__init__(spec)

    @property
    def is_constant(self) -> bool:
        return self.low == self.high

    def ppf(self, u: float) -> float:
        if self._log_high == self._log_low:
            return self.low
        value = math.exp(self._log_low + u * (self._log_high - self._log_low))
        return min(max(value, self.low), self.high)  # exp(log(x)) can miss x by an ulp

    def cdf(self, x: float) -> float:
        if self._log_high == self._log_low:
            return 0.5
        return (math.log(max(x, 1e-300)) - self._log_low) / (self._log_high - self._log_low)

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)

    def quantize(self, x: float) -> Any:
        value = super().quantize(x)
        # A log quantity rounded to 0 (or past its bounds) is never what was meant: keep to
        # the multiples of q inside [min, max] when there are any. W&B can return 0 here.
        if self.q is not None:
            first = math.ceil(self.low / self.q - 1e-9)
            last = math.floor(self.high / self.q + 1e-9)
            if first <= last:
                k = min(max(round(value / self.q), first), last)
                value = super().quantize(k * self.q)
        return value


class QLogUniformValues(LogUniformValues):
    """``q_log_uniform_values``: log-uniform rounded to multiples of ``q``."""

    name = "q_log_uniform_values"


class LogUniform(LogUniformValues):
    """``log_uniform`` (W&B's first form): ``min`` and ``max`` are natural-log exponents."""

    name = "log_uniform"

    def __init__(self, spec: Mapping[str, Any]) -> None:
        bounds = dict(spec, min=math.exp(spec["min"]), max=math.exp(spec["max"]))
        super().__init__(bounds)
        self.spec = dict(spec)


class QLogUniform(LogUniform):
    """``q_log_uniform``: the exponent form of ``q_log_uniform_values``."""

    name = "q_log_uniform"

    def quantize(self, x: float) -> Any:
        # W&B's exponent forms round without clipping; keep that.
        return _Continuous.quantize(self, x)


class InvLogUniformValues(LogUniformValues):
    """``inv_log_uniform_values``: ``ln(1/X)`` is uniform, so X lies in ``[min, max]``.

    That is the same distribution as ``log_uniform_values``; W&B's engine draws it with the
    same increasing quantile function, and so does nbsweep.
    """

    name = "inv_log_uniform_values"


class InvLogUniform(InvLogUniformValues):
    """``inv_log_uniform`` (W&B's first form): X = exp(-U(min, max))."""

    name = "inv_log_uniform"

    def __init__(self, spec: Mapping[str, Any]) -> None:
        bounds = dict(spec, min=math.exp(-spec["max"]), max=math.exp(-spec["min"]))
        super().__init__(bounds)
        self.spec = dict(spec)


class Normal(_Continuous):
    """``normal`` and ``q_normal``: N(mu, sigma)."""

    name = "normal"

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.mu, self.sigma = float(spec["mu"]), float(spec["sigma"])
        super().__init__(spec)

    @property
    def is_constant(self) -> bool:
        return self.sigma == 0

    def ppf(self, u: float) -> float:
        if self.sigma == 0:
            return self.mu
        return float(self.mu + self.sigma * special.ndtri(u))

    def cdf(self, x: float) -> float:
        if self.sigma == 0:
            return 0.5
        return float(special.ndtr((x - self.mu) / self.sigma))

    def contains(self, value: Any) -> bool:
        return super().contains(value) and math.isfinite(value)


class QNormal(Normal):
    """``q_normal``: a normal draw rounded to multiples of ``q``."""

    name = "q_normal"


class LogNormal(_Continuous):
    """``log_normal`` and ``q_log_normal``: exp(N(mu, sigma))."""

    name = "log_normal"
    log_scale = True

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.mu, self.sigma = float(spec["mu"]), float(spec["sigma"])
        super().__init__(spec)

    @property
    def is_constant(self) -> bool:
        return self.sigma == 0

    def ppf(self, u: float) -> float:
        if self.sigma == 0:
            return math.exp(self.mu)
        exponent = float(self.mu + self.sigma * special.ndtri(u))
        return math.exp(min(exponent, _LOG_MAX))  # a far tail would overflow to inf

    def cdf(self, x: float) -> float:
        if self.sigma == 0:
            return 0.5
        return float(special.ndtr((math.log(max(x, 1e-300)) - self.mu) / self.sigma))

    def support(self) -> tuple[float, float]:
        return (0.0, math.inf)


class QLogNormal(LogNormal):
    """``q_log_normal``: a log-normal draw rounded to multiples of ``q``."""

    name = "q_log_normal"


class Beta(_Continuous):
    """``beta`` and ``q_beta``: Beta(a, b) on ``[0, 1]``."""

    name = "beta"

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.a, self.b = float(spec["a"]), float(spec["b"])
        super().__init__(spec)

    def ppf(self, u: float) -> float:
        return float(special.betaincinv(self.a, self.b, u))

    def cdf(self, x: float) -> float:
        return float(special.betainc(self.a, self.b, min(max(x, 0.0), 1.0)))

    def support(self) -> tuple[float, float]:
        return (0.0, 1.0)


class QBeta(Beta):
    """``q_beta``: a beta draw rounded to multiples of ``q`` (default q 1.0 gives 0.0 or 1.0)."""

    name = "q_beta"


_CLASSES: dict[str, type[Distribution]] = {
    cls.name: cls
    for cls in (
        Constant,
        Categorical,
        IntUniform,
        Uniform,
        QUniform,
        LogUniformValues,
        QLogUniformValues,
        LogUniform,
        QLogUniform,
        InvLogUniformValues,
        InvLogUniform,
        Normal,
        QNormal,
        LogNormal,
        QLogNormal,
        Beta,
        QBeta,
    )
}
_CLASSES["categorical_w_probabilities"] = Categorical


def make_distribution(spec: Mapping[str, Any]) -> Distribution:
    """Build the distribution of a normalised parameter spec.

    Examples
    --------
    >>> make_distribution({"distribution": "int_uniform", "min": 1, "max": 5}).sample(0.99)
    5
    """
    return _CLASSES[spec["distribution"]](spec)
