"""Gaussian-process Bayesian optimisation in the unit cube: the numeric core of ``bayes`` search.

Everything here works on plain arrays. Points are encoded per dimension as

* ``continuous``: a float in ``[0, 1]``;
* ``discrete``: one of the sorted unit-cube positions in ``Dim.levels``;
* ``categorical``: the choice index ``0 .. k-1`` stored as a float.

:func:`propose` returns points of a scrambled Sobol sequence until ``n_startup`` observations
exist, then fits an exact GP (Matérn-5/2 with ARD, Hamming distance on categorical dimensions)
to the standardised, Box-Cox-warped objective and maximises log expected improvement (LogEI)
by multi-start L-BFGS and coordinate sweeps. While the model holds at most ``_BIG_MODEL``
rows, EI is averaged over several lengthscale settings drawn around the fitted ones, since a
few dozen observations leave the lengthscales poorly determined (in spaces narrow enough for
that to stay cheap). Pending evaluations are handled with the Kriging believer heuristic. The
module is pure: no I/O,
no global state apart from a lazily created BLAS thread controller, and all randomness comes
from the caller's :class:`numpy.random.Generator`.

References
----------
* Matérn-5/2 with automatic relevance determination: Rasmussen & Williams, *Gaussian Processes
  for Machine Learning*, 2006, ch. 4 and 5.
* Hamming distance for categorical inputs inside a stationary kernel: e.g. Ru et al. 2020,
  "Bayesian optimisation over multiple continuous and categorical inputs" (CoCaBO).
* LogEI: Ament et al. 2023, "Unexpected improvements to expected improvement for Bayesian
  optimization", arXiv 2310.20708.
* Kriging believer: Ginsbourger, Le Riche & Carraro 2010, "Kriging is well-suited to
  parallelize optimization".
* Output warping: Cowen-Rivers et al. 2022, "HEBO: pushing the limits of sample-efficient
  hyperparameter optimisation", arXiv 2012.03826.
* Averaging the acquisition over GP hyperparameters: Snoek, Larochelle & Adams 2012,
  "Practical Bayesian optimization of machine learning algorithms" (they sample by MCMC; here
  the draws come from a Laplace approximation at the MAP fit, MacKay 1992).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.linalg
import scipy.linalg.lapack
import scipy.optimize
import scipy.special
from scipy.stats import qmc

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

__all__ = ["Dim", "GPState", "Proposal", "propose"]

_KINDS = ("continuous", "discrete", "categorical")

# --- model constants -------------------------------------------------------------------------
_SQRT5 = math.sqrt(5.0)
_LOG_2PI = math.log(2.0 * math.pi)
# The noise variance may fall this low (y is standardised), so a deterministic objective is
# interpolated closely enough to keep refining its last digits near the optimum; with a floor
# of 1e-6 (Optuna's) the median best@100 on the mixed benchmark stalled near 6e-5, with this
# one it reaches 2e-6. Noisy objectives fit their noise far above it, and the jitter in
# ``_cholesky`` catches the ill-conditioned cases.
_NOISE_FLOOR = 1e-10
# Bounds keep L-BFGS-B away from overflow; the priors below keep it away from the bounds.
_LOG_W_BOUNDS = (math.log(1e-4), math.log(1e4))  # inverse squared lengthscale
_LOG_AMP_BOUNDS = (math.log(1e-3), math.log(1e3))
_LOG_NOISE_BOUNDS = (math.log(_NOISE_FLOOR), math.log(2.0))  # y is standardised: var 1
_DEFAULT_LOG_W = 0.0
_DEFAULT_LOG_AMP = 0.0
_DEFAULT_LOG_NOISE = math.log(1e-2)
_FIT_GTOL = 1e-2
_FIT_MAXITER = 60
_JITTERS = (0.0, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2)  # relative to the mean kernel diagonal
_VAR_FLOOR = 1e-12  # relative to the amplitude; keeps sigma > 0 for LogEI

# --- subset / budget constants ---------------------------------------------------------------
_MAX_MODEL_POINTS = 256  # exact GP cost is cubic: condition on at most this many observations
_N_BEST = 96
_N_RECENT = 64
# Limitation: only the 64 most recent pending rows are believed into the model; older ones
# are still never proposed again but no longer shrink the variance around them.
_MAX_PENDING_MODEL = 64
_MAX_FINITE = 20_000
_PENDING_TOL = 1e-3  # unit-cube distance per continuous dim that counts as "on top of"
_EXACT_TOL = 1e-9
_DESIGN_TOL = 1e-6  # a start-up design point counts as run when a row is this close
_MAX_DESIGN = 1 << 14  # start-up design points considered before falling back to random
_DEFAULT_DESIGN_SEED = 0

_WARP_LAMBDA_BOUNDS = (-1.0, 2.0)  # the Box-Cox exponent; wider let a few seeds stall on Branin
_N_INCUMBENTS = 5
_PERTURB_PER_INCUMBENT = 32
_BIG_MODEL = 128  # above this many model rows the acquisition search is cut to fit 30 ms
_N_HYPER = 8  # GPs whose EI is averaged while the model is small: the MAP fit and 7 draws
_HYPER_MIN_CURVATURE = 0.25  # caps a draw's spread at 2 (sd) in any log ARD weight direction
_HYPER_FD_STEP = 1e-3  # finite-difference step for the Hessian of the log posterior
# The ensemble multiplies the acquisition search's cost by _N_HYPER, so it is kept to spaces
# where that stays small: few parameters, and int/categorical passes that try few values.
_HYPER_MAX_DIMS = 12
_HYPER_MAX_SWEEP = 64  # values tried per start in one pass over all int/categorical dims
_N_STARTS = 10
_N_STARTS_BIG = 6
_ACQ_MAXITER = 100
_ACQ_MAXITER_BIG = 30
_ACQ_PGTOL = 1e-5  # projected-gradient tolerance, in LogEI per lengthscale
_ACQ_FTOL = 1e-9
_ACQ_FIRST_STEP = 0.25  # lengthscales
_ACQ_BACKTRACKS = 8
_LBFGS_MEMORY = 6
_SWEEP_ROUNDS = 3
_MAX_ALL_LEVELS = 64  # above this many levels, sweep only neighbouring and spread-out levels
_SCORE_CHUNK = 4096
_LOGH_TAIL = -100.0
_BLAS_THREADS = 1  # matrices are <= ~320 wide: threading overhead beats any speed-up


# =============================================================================================
# Public data types
# =============================================================================================
@dataclass(frozen=True, eq=False)
class Dim:
    """One search dimension in unit-cube encoding.

    Parameters
    ----------
    kind : str
        ``"continuous"``, ``"discrete"`` or ``"categorical"``.
    levels : numpy.ndarray, optional
        Discrete only: the unit-cube positions (in ``[0, 1]``) of the allowed values. They are
        sorted and de-duplicated on construction.
    n_choices : int
        Categorical only: the number of choices ``k``; the column holds ``0 .. k-1``.

    Examples
    --------
    >>> import numpy as np
    >>> Dim("discrete", levels=np.array([1.0, 0.0, 0.5])).levels
    array([0. , 0.5, 1. ])
    >>> Dim("categorical", n_choices=3).n_choices
    3
    """

    kind: str
    levels: np.ndarray | None = None
    n_choices: int = 0

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"Dim.kind must be one of {_KINDS}, got {self.kind!r}")
        if self.kind == "discrete":
            if self.levels is None:
                raise ValueError("a discrete Dim needs levels")
            lv = np.unique(np.asarray(self.levels, dtype=np.float64).ravel())
            if lv.size == 0 or not np.all(np.isfinite(lv)) or lv[0] < 0.0 or lv[-1] > 1.0:
                raise ValueError("discrete levels must be a non-empty set of values in [0, 1]")
            lv.setflags(write=False)
            object.__setattr__(self, "levels", lv)
        elif self.kind == "categorical":
            if int(self.n_choices) < 1:
                raise ValueError("a categorical Dim needs n_choices >= 1")
            object.__setattr__(self, "n_choices", int(self.n_choices))

    def _key(self) -> tuple[Any, ...]:
        levels = None if self.levels is None else tuple(float(v) for v in self.levels)
        return (self.kind, levels, self.n_choices)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Dim) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


@dataclass
class GPState:
    """Fitted GP hyperparameters, kept between calls to warm-start or skip the next fit.

    All values refer to the *standardised* objective, so they stay meaningful when the scale of
    ``y`` changes.

    Parameters
    ----------
    log_inv_sq_lengthscales : tuple of float
        ``log(1 / lengthscale**2)`` per dimension (the ARD weights ``w``).
    log_amplitude : float
        Log of the kernel variance.
    log_noise : float
        Log of the homoscedastic noise variance (at least ``log(1e-10)``).
    n_fit : int
        Number of observations when the hyperparameters were fitted.
    kinds : tuple of str
        The ``Dim.kind`` sequence the state was fitted for; a mismatch discards the state.
    fitted : bool
        False when the fit failed and these are the defaults.

    Examples
    --------
    >>> s = GPState((0.0, 1.0), 0.0, -4.0, n_fit=12, kinds=("continuous", "continuous"))
    >>> GPState.from_dict(s.to_dict()) == s
    True
    """

    log_inv_sq_lengthscales: tuple[float, ...]
    log_amplitude: float
    log_noise: float
    n_fit: int = 0
    kinds: tuple[str, ...] = ()
    fitted: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable ``dict``.

        Returns
        -------
        dict
            Plain floats, ints, bools, strings and lists only.

        Examples
        --------
        >>> GPState((0.5,), 0.0, -3.0, n_fit=4, kinds=("continuous",)).to_dict()["n_fit"]
        4
        """
        return {
            "version": 1,
            "log_inv_sq_lengthscales": [float(v) for v in self.log_inv_sq_lengthscales],
            "log_amplitude": float(self.log_amplitude),
            "log_noise": float(self.log_noise),
            "n_fit": int(self.n_fit),
            "kinds": [str(k) for k in self.kinds],
            "fitted": bool(self.fitted),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GPState:
        """Rebuild a state written by :meth:`to_dict`.

        Parameters
        ----------
        d : dict
            The mapping; unknown keys are ignored.

        Returns
        -------
        GPState

        Raises
        ------
        ValueError
            When a required key is missing or a value is not finite.

        Examples
        --------
        >>> GPState.from_dict({"log_inv_sq_lengthscales": [0.0], "log_amplitude": 0.0,
        ...                    "log_noise": -5.0}).n_fit
        0
        """
        try:
            w = tuple(float(v) for v in d["log_inv_sq_lengthscales"])
            amp = float(d["log_amplitude"])
            noise = float(d["log_noise"])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a GPState dict: {exc}") from exc
        if not all(math.isfinite(v) for v in (*w, amp, noise)):
            raise ValueError("GPState values must be finite")
        return cls(
            log_inv_sq_lengthscales=w,
            log_amplitude=amp,
            log_noise=noise,
            n_fit=int(d.get("n_fit", 0)),
            kinds=tuple(str(k) for k in d.get("kinds", ())),
            fitted=bool(d.get("fitted", True)),
        )

    def _theta(self) -> FloatArray:
        return np.array([*self.log_inv_sq_lengthscales, self.log_amplitude, self.log_noise])


@dataclass
class Proposal:
    """The result of :func:`propose`.

    Parameters
    ----------
    x : numpy.ndarray or None
        ``(d,)`` next point in the encoding of ``X``; None when a finite space is exhausted.
    state : GPState or None
        Hyperparameters after this call (pass them back as ``state``); None during startup.
    info : dict
        Why this point: ``phase`` (``"startup"``, ``"model"``, ``"exhausted"`` or
        ``"fallback"``), ``reason``, ``ei`` and ``log_ei`` (expected improvement in standardised
        units; NaN outside the model phase) and some counters.

    Examples
    --------
    >>> Proposal(x=None, state=None, info={"phase": "exhausted"}).x is None
    True
    """

    x: np.ndarray | None
    state: GPState | None
    info: dict[str, Any] = field(default_factory=dict)


# =============================================================================================
# Search-space helpers
# =============================================================================================
@dataclass(frozen=True)
class _Space:
    """Index sets and level tables derived once from the ``Dim`` list."""

    kinds: tuple[str, ...]
    levels: tuple[FloatArray | None, ...]
    n_choices: tuple[int, ...]
    cont_idx: IntArray
    disc_idx: IntArray
    cat_idx: IntArray
    num_idx: IntArray  # continuous and discrete: ordered positions

    @classmethod
    def from_dims(cls, dims: Sequence[Dim]) -> _Space:
        dims = list(dims)
        if not dims:
            raise ValueError("dims must not be empty")
        if not all(isinstance(dm, Dim) for dm in dims):
            raise TypeError("dims must be a sequence of Dim")
        kinds = tuple(dm.kind for dm in dims)

        def where(*ks: str) -> IntArray:
            return np.array([i for i, k in enumerate(kinds) if k in ks], dtype=np.int64)

        return cls(
            kinds=kinds,
            levels=tuple(dm.levels if dm.kind == "discrete" else None for dm in dims),
            n_choices=tuple(dm.n_choices if dm.kind == "categorical" else 0 for dm in dims),
            cont_idx=where("continuous"),
            disc_idx=where("discrete"),
            cat_idx=where("categorical"),
            num_idx=where("continuous", "discrete"),
        )

    @property
    def d(self) -> int:
        return len(self.kinds)

    def n_values(self, j: int) -> int:
        """Return the number of values of a discrete or categorical dimension."""
        lv = self.levels[j]
        return int(lv.size) if lv is not None else self.n_choices[j]

    def finite_size(self) -> int | None:
        """Return the number of combinations when no dimension is continuous, else None."""
        if self.cont_idx.size:
            return None
        return math.prod(self.n_values(j) for j in range(self.d))

    def value_index(self, X: FloatArray, j: int) -> IntArray:
        """Index of the level (discrete) or choice (categorical) held in column ``j``."""
        lv = self.levels[j]
        if lv is None:
            return np.clip(np.rint(X[:, j]), 0, self.n_choices[j] - 1).astype(np.int64)
        return _nearest_level(lv, X[:, j])

    def value_of(self, j: int, idx: IntArray) -> FloatArray:
        """Return the encoded value of level/choice ``idx`` in dimension ``j``."""
        lv = self.levels[j]
        return lv[idx] if lv is not None else idx.astype(np.float64)

    def snap(self, X: FloatArray) -> FloatArray:
        """Project arbitrary rows onto the encoding (clip, nearest level, rounded index)."""
        X = X.copy()
        if self.num_idx.size:
            X[:, self.num_idx] = np.clip(X[:, self.num_idx], 0.0, 1.0)
        for j in (*self.disc_idx, *self.cat_idx):
            X[:, j] = self.value_of(int(j), self.value_index(X, int(j)))
        return X

    def from_unit(self, U: FloatArray) -> FloatArray:
        """Map uniform ``[0, 1)`` samples to the encoding; every level is equally likely."""
        X = U.copy()
        for j in (*self.disc_idx, *self.cat_idx):
            j = int(j)
            k = self.n_values(j)
            idx = np.minimum(np.floor(U[:, j] * k), k - 1).astype(np.int64)
            X[:, j] = self.value_of(j, idx)
        return X


def _nearest_level(levels: FloatArray, x: FloatArray) -> IntArray:
    """Index of the closest entry of the sorted ``levels`` for each ``x``."""
    if levels.size == 1:
        return np.zeros(x.shape, dtype=np.int64)
    i = np.clip(np.searchsorted(levels, x), 1, levels.size - 1)
    closer_left = (x - levels[i - 1]) <= (levels[i] - x)
    return (i - closer_left).astype(np.int64)


def _as_rows(A: Any, d: int, name: str) -> FloatArray:
    """Coerce ``A`` to a float ``(m, d)`` array (None and empty give zero rows)."""
    if A is None:
        return np.empty((0, d))
    rows: FloatArray = np.array(A, dtype=np.float64)
    if rows.size == 0:
        return np.empty((0, d))
    if rows.ndim == 1:
        rows = rows.reshape(-1, 1) if d == 1 else rows.reshape(1, -1)
    if rows.ndim != 2 or rows.shape[1] != d:
        raise ValueError(f"{name} must have shape (m, {d}), got {np.shape(A)}")
    return rows


def _finite_rows(A: FloatArray, name: str) -> FloatArray:
    keep = np.all(np.isfinite(A), axis=1)
    if not np.all(keep):
        logger.warning("dropping %d non-finite row(s) of %s", int((~keep).sum()), name)
    return A[keep]


@dataclass(frozen=True)
class _Inputs:
    X: FloatArray
    y: FloatArray
    pending: FloatArray
    exclude: FloatArray


def _clean_inputs(X: Any, y: Any, space: _Space, pending: Any, exclude: Any) -> _Inputs:
    """Validate shapes, drop non-finite rows, snap everything onto the encoding."""
    d = space.d
    X = _as_rows(X, d, "X")
    y = np.array(y, dtype=np.float64).ravel() if y is not None else np.empty(0)
    if y.size != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.size} values")
    keep = np.all(np.isfinite(X), axis=1) & np.isfinite(y)
    if not np.all(keep):
        # The contract says y is already imputed; be lenient rather than crash a sweep.
        logger.warning("dropping %d observation(s) with non-finite X or y", int((~keep).sum()))
    pend = _finite_rows(_as_rows(pending, d, "pending"), "pending")
    excl = _finite_rows(_as_rows(exclude, d, "exclude"), "exclude")
    return _Inputs(space.snap(X[keep]), y[keep], space.snap(pend), space.snap(excl))


def _standardise(y: FloatArray) -> FloatArray | None:
    """Zero-mean, unit-variance ``y``; None when there is no usable spread."""
    if y.size < 2 or np.unique(y).size < 2:
        return None
    scale = float(np.max(np.abs(y)))
    u = y / scale  # dividing first keeps mean/std finite for |y| near the float64 limit
    mu, sd = float(np.mean(u)), float(np.std(u))
    if not sd > 64 * np.finfo(np.float64).eps:  # a few ulps of difference is no signal
        return None
    return (u - mu) / sd


def _box_cox(u: FloatArray, lam: float) -> FloatArray:
    if abs(lam) < 1e-8:
        return np.log(u)
    return np.expm1(lam * np.log(u)) / lam


def _power_warp(u: FloatArray) -> FloatArray | None:
    """Box-Cox transform of positive ``u`` towards normality, or None when it does not fit.

    The output warping of HEBO (Cowen-Rivers et al. 2022, "HEBO: pushing the limits of
    sample-efficient hyperparameter optimisation", JAIR; arXiv 2012.03826) with the Box-Cox
    family (Box & Cox 1964): the exponent is the maximum-likelihood one for a normal model of
    the transformed values, searched in ``_WARP_LAMBDA_BOUNDS``. The transform is increasing,
    so the order of the runs and the best run are unchanged.
    """
    log_jac = float(np.sum(np.log(u)))

    def neg_llf(lam: float) -> float:
        var = float(np.var(_box_cox(u, lam)))
        if not (var > 0.0 and np.isfinite(var)):
            return math.inf
        return 0.5 * u.size * math.log(var) - (lam - 1.0) * log_jac

    try:
        res = scipy.optimize.minimize_scalar(
            neg_llf, bounds=_WARP_LAMBDA_BOUNDS, method="bounded", options={"xatol": 1e-3}
        )
    except (ValueError, FloatingPointError, OverflowError):
        return None
    v = _box_cox(u, float(res.x))
    # A transform that merges distinct values (numerically) loses information: keep none.
    if not np.all(np.isfinite(v)) or np.unique(v).size < np.unique(u).size:
        return None
    return v


def _model_values(y: FloatArray) -> FloatArray | None:
    """What the GP models: ``y`` standardised, power-warped, and standardised again.

    Without the warp, a few runs far worse than the rest (a diverged training run among losses
    near 0.1) take up most of the standardised range and squeeze every difference among the
    good runs to a sliver the model reads as noise. The Box-Cox fit pulls such a tail in and
    leaves an already symmetric ``z`` nearly as it was. None when ``y`` has no usable spread.
    """
    z = _standardise(y)
    if z is None:
        return None
    # The shift puts the best run at 1 and the 90th percentile of the gaps above it at 2:
    # shifted by one standard deviation instead, a single run 1,000 times worse than the rest
    # would pack every good run into [1, 1.001], too narrow for any exponent to open again.
    gaps = z - float(np.min(z))
    typical = float(np.quantile(gaps[gaps > 0.0], 0.9))
    v = _power_warp(gaps / typical + 1.0)
    if v is None:
        return z
    warped = _standardise(v)
    return z if warped is None else warped


# =============================================================================================
# Kernel and hyperparameter fit
# =============================================================================================
def _delta_tensor(X: FloatArray, space: _Space) -> FloatArray:
    """Per-dimension squared distances ``(n, n, d)``; Hamming mismatch on categorical dims.

    The kernel input is ``r^2 = delta @ w``: with ``w`` the ARD weights (inverse squared
    lengthscales), a categorical mismatch costs ``w_j`` whatever the two indices are, so the
    order of choices carries no meaning.
    """
    # Limitation: one weight per categorical dim makes every pair of distinct choices equally
    # similar; "choices 1 and 2 behave alike but 3 differs" cannot be expressed.
    diff = X[:, None, :] - X[None, :, :]
    out = diff * diff
    if space.cat_idx.size:
        out[..., space.cat_idx] = (diff[..., space.cat_idx] != 0.0).astype(np.float64)
    return out


def _cross_r2(A: FloatArray, B: FloatArray, w: FloatArray, space: _Space) -> FloatArray:
    """Weighted squared distances between rows of ``A`` and ``B`` (``(a, b)``)."""
    r2 = np.zeros((A.shape[0], B.shape[0]))
    num = space.num_idx
    if num.size:
        sw = np.sqrt(w[num])
        As, Bs = A[:, num] * sw, B[:, num] * sw
        # Expanded form turns the work into one GEMM; clip the tiny negative round-off.
        r2 += np.einsum("ij,ij->i", As, As)[:, None] + np.einsum("ij,ij->i", Bs, Bs)[None, :]
        r2 -= 2.0 * (As @ Bs.T)
        np.maximum(r2, 0.0, out=r2)
    for j in space.cat_idx:
        r2 += w[j] * (A[:, j, None] != B[None, :, j])
    return r2


def _matern52(r2: FloatArray, amp: float) -> tuple[FloatArray, FloatArray]:
    """Matérn-5/2 kernel value and its derivative with respect to ``r^2``.

    ``k = amp (1 + s + s^2/3) exp(-s)`` with ``s = sqrt(5) r``; ``dk/d(r^2) =
    -amp (5/6) (1 + s) exp(-s)``, which is finite at ``r = 0`` (no sqrt singularity).
    """
    s = _SQRT5 * np.sqrt(r2)
    e = np.exp(-s)
    dk_dr2 = (-amp * 5.0 / 6.0) * (1.0 + s) * e
    return _matern52_from(r2, s, e, amp), dk_dr2


def _matern52_value(r2: FloatArray, amp: float) -> FloatArray:
    """Matérn-5/2 kernel value only (the hot path of candidate scoring)."""
    s = np.sqrt(r2)
    s *= _SQRT5
    e = np.exp(-s)
    return _matern52_from(r2, s, e, amp)


def _matern52_from(r2: FloatArray, s: FloatArray, e: FloatArray, amp: float) -> FloatArray:
    k = r2 * (5.0 / 3.0)  # s^2 / 3; written in place to spare temporaries
    k += 1.0
    k += s
    k *= e
    k *= amp
    return k


def _unpack(theta: FloatArray, d: int) -> tuple[FloatArray, float, float]:
    return np.exp(theta[:d]), float(np.exp(theta[d])), float(np.exp(theta[d + 1]))


def _log_prior(theta: FloatArray, d: int) -> tuple[float, FloatArray]:
    """Weak log-prior on the log-hyperparameters and its gradient.

    * ARD weight ``w``: ``-(0.1/w + 0.1 w)``, which keeps lengthscales within roughly
      ``[0.1, 10]`` unless the data insist;
    * amplitude ``a ~ Gamma(2, 1)``: ``log a - a``;
    * noise ``s ~ Gamma(1.1, 30)``: ``0.1 log s - 30 s`` (favours small noise).

    The densities are evaluated at the parameter values (no log-Jacobian): a MAP choice.
    """
    # Limitation: the lengthscale prior keeps lengthscales near [0.1, 10] in unit-cube units,
    # so features much sharper than 0.1 are smoothed over until the data are dense there.
    w, amp, noise = _unpack(theta, d)
    lp = -float(np.sum(0.1 / w + 0.1 * w)) + (theta[d] - amp) + (0.1 * theta[d + 1] - 30 * noise)
    grad = np.empty(d + 2)
    grad[:d] = 0.1 / w - 0.1 * w
    grad[d] = 1.0 - amp
    grad[d + 1] = 0.1 - 30.0 * noise
    return float(lp), grad


def _cholesky(K: FloatArray) -> FloatArray:
    """Lower Cholesky factor with escalating diagonal jitter.

    Raises
    ------
    numpy.linalg.LinAlgError
        When even the largest jitter does not make ``K`` positive definite.
    """
    if not np.all(np.isfinite(K)):
        raise np.linalg.LinAlgError("kernel matrix is not finite")
    scale = float(np.mean(np.diag(K)))
    for jitter in _JITTERS:
        A = K if jitter == 0.0 else K + (jitter * scale) * np.eye(K.shape[0])
        try:
            L: FloatArray = scipy.linalg.cholesky(A, lower=True, check_finite=False)
            return L
        except np.linalg.LinAlgError:
            continue
    raise np.linalg.LinAlgError("kernel matrix not positive definite even with jitter")


def _neg_log_posterior(
    theta: FloatArray, delta: FloatArray, z: FloatArray
) -> tuple[float, FloatArray]:
    """Negative log marginal likelihood minus log-prior, and its analytic gradient.

    With ``alpha = K^{-1} z`` and ``W = K^{-1} - alpha alpha^T`` the gradient of the NLL is
    ``0.5 tr(W dK/dtheta_i)`` (Rasmussen & Williams eq. 5.9). For the ARD weights
    ``dK/dlog w_j = dk/d(r^2) * w_j * delta_j``, so all ``d`` traces come from one
    contraction of ``W * dk/d(r^2)`` with the delta tensor.
    """
    n, d = z.size, delta.shape[-1]
    w, amp, noise = _unpack(theta, d)
    kf, dk_dr2 = _matern52(delta @ w, amp)
    L = _cholesky(kf + noise * np.eye(n))
    alpha = scipy.linalg.cho_solve((L, True), z, check_finite=False)
    nll = 0.5 * float(z @ alpha) + float(np.sum(np.log(np.diag(L)))) + 0.5 * n * _LOG_2PI
    k_inv = _inverse_from_cholesky(L)
    W = k_inv - np.outer(alpha, alpha)
    grad = np.empty(d + 2)
    grad[:d] = 0.5 * w * ((W * dk_dr2).reshape(-1) @ delta.reshape(n * n, d))
    grad[d] = 0.5 * float(np.sum(W * kf))
    grad[d + 1] = 0.5 * noise * float(np.trace(W))
    lp, glp = _log_prior(theta, d)
    return nll - lp, grad - glp


def _inverse_from_cholesky(L: FloatArray) -> FloatArray:
    """``K^{-1}`` from its lower Cholesky factor (LAPACK potri: half the work of two solves)."""
    inv, info = scipy.linalg.lapack.dpotri(L, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"potri failed with info={info}")
    lower: FloatArray = np.tril(inv)  # potri fills one triangle only
    return lower + np.tril(lower, -1).T


def _default_theta(d: int) -> FloatArray:
    return np.array([_DEFAULT_LOG_W] * d + [_DEFAULT_LOG_AMP, _DEFAULT_LOG_NOISE])


def _bounds(d: int) -> list[tuple[float, float]]:
    return [_LOG_W_BOUNDS] * d + [_LOG_AMP_BOUNDS, _LOG_NOISE_BOUNDS]


def _clip_theta(theta: FloatArray) -> FloatArray:
    lo, hi = np.array(_bounds(theta.size - 2)).T
    return np.clip(theta, lo, hi)


def _fit_hyperparameters(
    delta: FloatArray, z: FloatArray, theta0: FloatArray | None
) -> tuple[FloatArray, str]:
    """MAP hyperparameters by L-BFGS-B: warm start, then defaults, then defaults unfitted."""
    d = delta.shape[-1]
    starts: list[tuple[str, FloatArray]] = []
    if theta0 is not None:
        starts.append(("warm", _clip_theta(theta0)))
    starts.append(("default-start", _default_theta(d)))
    for label, start in starts:
        try:
            res = scipy.optimize.minimize(
                _neg_log_posterior,
                start,
                args=(delta, z),
                jac=True,
                method="L-BFGS-B",
                bounds=_bounds(d),
                options={"gtol": _FIT_GTOL, "maxiter": _FIT_MAXITER},
            )
        except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
            logger.debug("GP fit from %s start failed: %s", label, exc)
            continue
        if np.isfinite(res.fun) and np.all(np.isfinite(res.x)):
            logger.debug("GP fit (%s): nlp=%.4g nit=%d %s", label, res.fun, res.nit, res.message)
            return _clip_theta(res.x), label
        logger.debug("GP fit from %s start gave a non-finite result", label)
    logger.warning("GP hyperparameter fit failed; using unfitted defaults")
    return _default_theta(d), "defaults-unfitted"


# =============================================================================================
# Posterior and LogEI
# =============================================================================================
def _log1mexp(x: FloatArray) -> FloatArray:
    """``log(1 - exp(x))`` for ``x < 0``, switching branch at ``-log 2`` for accuracy."""
    out = np.empty_like(x)
    near = x > -math.log(2.0)
    out[near] = np.log(-np.expm1(x[near]))
    out[~near] = np.log1p(-np.exp(x[~near]))
    return out


def _log_h(u: FloatArray) -> FloatArray:
    """``log(phi(u) + u Phi(u))``, the log of EI for unit variance, stable for all ``u``.

    Follows the LogEI construction of Ament et al. 2023 (arXiv 2310.20708): the direct formula
    for ``u > -1``; for ``-100 < u <= -1`` factor out ``phi(u)`` and write the remainder with
    ``erfcx`` and ``log1mexp``; for ``u <= -100`` (where that remainder cancels badly) use the
    asymptotic series ``h(u) = phi(u)/u^2 (1 - 3/u^2 + 15/u^4 - 105/u^6 + ...)``.
    """
    u = np.asarray(u, dtype=np.float64)
    out = np.empty_like(u)
    upper = u > -1.0
    tail = u <= _LOGH_TAIL
    middle = ~upper & ~tail
    uu = u[upper]
    out[upper] = np.log(
        np.exp(-0.5 * uu * uu) / math.sqrt(2 * math.pi) + uu * scipy.special.ndtr(uu)
    )
    um = u[middle]
    x = np.log(scipy.special.erfcx(-um / math.sqrt(2.0)) * -um) + 0.5 * math.log(math.pi / 2)
    out[middle] = -0.5 * um * um - 0.5 * _LOG_2PI + _log1mexp(x)
    ut = u[tail]
    inv2 = 1.0 / (ut * ut)
    series = np.log1p(inv2 * (-3.0 + inv2 * (15.0 - 105.0 * inv2)))
    out[tail] = -0.5 * ut * ut - 0.5 * _LOG_2PI - np.log(ut * ut) + series
    return out


class _Posterior:
    """GP posteriors in standardised units, with pending points believed in (Kriging believer).

    Holds ``K`` GPs that share their rows, amplitude and noise and differ only in their ARD
    weights ``W`` (``(K, d)``); the acquisition is the log of their mean EI, evaluated as one
    batch. ``K`` is 1 for the fitted GP alone (:func:`_build_posterior`), more for the
    average over drawn lengthscales (:meth:`average`). ``alpha`` (``(K, m)``) is zero on the
    pending rows: believing ``y = mean`` leaves the mean unchanged and only shrinks the
    variance, which ``linv`` (``(K, m, m)``, inverse Cholesky factors of the augmented kernel
    matrices) carries. ``w``, the first GP's weights, is what the acquisition search uses to
    precondition its steps.
    """

    def __init__(
        self,
        X: FloatArray,
        alpha: FloatArray,
        linv: FloatArray,
        W: FloatArray,
        amp: float,
        best: FloatArray,
        space: _Space,
    ) -> None:
        self.space, self.X, self.amp = space, X, amp
        self.W, self.alpha, self.linv = W, alpha, linv
        self.w = W[0]
        self.size = W.shape[0]
        self.best = best  # (K,): the believed incumbent of each GP
        self.linv_t = np.ascontiguousarray(np.swapaxes(linv, 1, 2))
        num = space.num_idx
        self.scale = np.sqrt(W[:, num])
        Xs = X[None, :, num] * self.scale[:, None, :]
        self.xx = np.einsum("knp,knp->kn", Xs, Xs)
        self.Xs_t = np.ascontiguousarray(np.swapaxes(Xs, 1, 2))

    @classmethod
    def average(cls, members: Sequence[_Posterior]) -> _Posterior:
        """One posterior whose acquisition is the mean EI of ``members``.

        A single MAP fit can be confidently wrong while data are few: on Hartmann6 a search
        that settled in a local optimum typically had lengthscales of about 4 on two
        dimensions, so the model saw nothing to gain along them. Averaging EI over plausible
        lengthscales (the integrated acquisition of Snoek et al. 2012) keeps some value on
        such directions.
        """
        first = members[0]
        if any(m.amp != first.amp or not np.array_equal(m.X, first.X) for m in members):
            raise ValueError("ensemble members must share their rows and amplitude")
        return cls(
            X=first.X,
            alpha=np.concatenate([m.alpha for m in members]),
            linv=np.concatenate([m.linv for m in members]),
            W=np.concatenate([m.W for m in members]),
            amp=first.amp,
            best=np.concatenate([m.best for m in members]),
            space=first.space,
        )

    def _r2(self, Z: FloatArray) -> FloatArray:
        """Weighted squared distances ``(K, z, m)``, the batched form of :func:`_cross_r2`."""
        Zs = Z[None, :, self.space.num_idx] * self.scale[:, None, :]
        r2: FloatArray = np.einsum("kzp,kzp->kz", Zs, Zs)[:, :, None] + self.xx[:, None, :]
        # Expanded form turns the work into one GEMM; clip the tiny negative round-off.
        r2 -= 2.0 * np.matmul(Zs, self.Xs_t)
        np.maximum(r2, 0.0, out=r2)
        for j in self.space.cat_idx:
            r2 += self.W[:, j, None, None] * (Z[None, :, j, None] != self.X[None, None, :, j])
        return r2

    def _mean_var(self, k: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray]:
        mu = np.einsum("kzm,km->kz", k, self.alpha)
        v = np.matmul(k, self.linv_t)  # rows are L^{-1} k
        var = self.amp - np.einsum("kzm,kzm->kz", v, v)
        floor = _VAR_FLOOR * self.amp
        floored = var < floor
        return mu, np.maximum(var, floor), v, floored

    def _average(self, lei: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``log(mean_k EI_k)`` and each GP's share of the sum, from ``(K, z)`` LogEIs."""
        top = np.max(lei, axis=0)
        top = np.where(np.isfinite(top), top, 0.0)
        weight = np.exp(lei - top)
        total = weight.sum(axis=0)
        return top + np.log(total) - math.log(self.size), weight / total

    def predict(self, Z: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Return the first GP's posterior mean and latent variance at the rows of ``Z``."""
        mu, var, _, _ = self._mean_var(_matern52_value(self._r2(Z), self.amp))
        return mu[0], var[0]

    def log_ei(self, Z: FloatArray) -> FloatArray:
        """Return the log of the GPs' mean EI at the rows of ``Z``, in chunks to bound memory."""
        out = np.empty(Z.shape[0])
        step = max(1, _SCORE_CHUNK // self.size)
        for s in range(0, Z.shape[0], step):
            k = _matern52_value(self._r2(Z[s : s + step]), self.amp)
            mu, var, _, _ = self._mean_var(k)
            sigma = np.sqrt(var)
            lei = np.log(sigma) + _log_h((self.best[:, None] - mu) / sigma)
            out[s : s + step] = self._average(lei)[0]
        return out

    def log_ei_grad(self, Z: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Return LogEI and its gradient with respect to the numeric columns of ``Z``.

        ``d logEI/d mu = -Phi(u)/(sigma h(u))`` and ``d logEI/d sigma = phi(u)/(sigma h(u))``;
        both ratios are formed in log space so they stay finite where EI underflows. For the
        mean of several GPs, ``d log(mean EI) = sum_k share_k d log EI_k``: each GP's terms
        are weighted by its share of the EI sum before the shared contraction. Categorical
        columns get a zero gradient.
        """
        k, dk_dr2 = _matern52(self._r2(Z), self.amp)
        mu, var, v, floored = self._mean_var(k)
        sigma = np.sqrt(var)
        u = (self.best[:, None] - mu) / sigma
        logh = _log_h(u)
        lei, share = self._average(np.log(sigma) + logh)
        g_mu = -np.exp(scipy.special.log_ndtr(u) - logh) / sigma * share
        g_sigma = np.exp(-0.5 * u * u - 0.5 * _LOG_2PI - logh) / sigma * share
        g_sigma[floored] = 0.0
        beta = np.matmul(v, self.linv)  # K^{-1} k, for d var / d k = -2 beta
        coef = g_mu[:, :, None] * self.alpha[:, None, :] - (g_sigma / sigma)[:, :, None] * beta
        coef *= dk_dr2
        grad = np.zeros_like(Z)
        num = self.space.num_idx
        if num.size:
            # d r^2 / d z_j = 2 w_j (z_j - x_j) for every training row x.
            lin = Z[None, :, num] * coef.sum(axis=2)[:, :, None] - np.matmul(coef, self.X[:, num])
            grad[:, num] = 2.0 * np.einsum("kp,kzp->zp", self.W[:, num], lin)
        return lei, grad


def _build_posterior(
    X: FloatArray, z: FloatArray, theta: FloatArray, space: _Space, pending: FloatArray
) -> _Posterior:
    """Factor the kernel matrix of observed + pending rows once for this call.

    The pending rows come last, so the leading block of the Cholesky factor is the factor of
    the observed rows alone: one factorisation serves both the mean and the believer variance.
    """
    d, n = space.d, X.shape[0]
    w, amp, noise = _unpack(theta, d)
    Xa = np.vstack([X, pending]) if pending.size else X
    m = Xa.shape[0]
    r2 = _cross_r2(Xa, Xa, w, space)
    np.fill_diagonal(r2, 0.0)  # exact zeros where the expanded form leaves round-off
    kf = _matern52_value(r2, amp)
    L = _cholesky(kf + noise * np.eye(m))
    alpha = scipy.linalg.cho_solve((L[:n, :n], True), z, check_finite=False)
    # Limitation: the incumbent is the best *observed* value (noise-free EI); on very noisy
    # objectives a lucky draw makes the search somewhat greedy around it.
    best = float(np.min(z))
    if m > n:
        # Kriging believer (Ginsbourger et al. 2010): pending values are taken to be the
        # posterior mean, which may also become the believed incumbent.
        best = min(best, float(np.min(kf[n:, :n] @ alpha)))
        alpha = np.concatenate([alpha, np.zeros(m - n)])
    linv = scipy.linalg.solve_triangular(L, np.eye(m), lower=True, check_finite=False)
    if not (np.all(np.isfinite(alpha)) and np.all(np.isfinite(linv))):
        raise np.linalg.LinAlgError("posterior factor is not finite")
    return _Posterior(
        X=Xa,
        alpha=alpha[None, :],
        linv=linv[None, :, :],
        W=w[None, :],
        amp=amp,
        best=np.array([best]),
        space=space,
    )


def _hyperparameter_draws(
    delta: FloatArray, z: FloatArray, theta: FloatArray, rng: np.random.Generator, count: int
) -> list[FloatArray]:
    """``count`` draws of the log ARD weights from a Laplace approximation at ``theta``.

    The Hessian of the negative log posterior in the log weights comes from forward differences
    of its analytic gradient. Its eigenvalues are floored at ``_HYPER_MIN_CURVATURE``, so flat or
    non-convex directions (a weight against its bound, a dimension the data do not inform) get
    a spread of at most 2 in log weight rather than an unbounded one. Amplitude and noise stay
    at ``theta``'s values.
    """
    d = delta.shape[-1]
    g0 = _neg_log_posterior(theta, delta, z)[1][:d]
    H = np.empty((d, d))
    for j in range(d):
        step = theta.copy()
        step[j] += _HYPER_FD_STEP
        H[:, j] = (_neg_log_posterior(step, delta, z)[1][:d] - g0) / _HYPER_FD_STEP
    curv, vecs = np.linalg.eigh(0.5 * (H + H.T))
    sd = 1.0 / np.sqrt(np.maximum(curv, _HYPER_MIN_CURVATURE))
    draws = []
    for _ in range(count):
        t = theta.copy()
        t[:d] += vecs @ (sd * rng.standard_normal(d))
        draws.append(_clip_theta(t))
    return draws


def _ensemble_affordable(space: _Space) -> bool:
    """Whether averaging over ``_N_HYPER`` GPs keeps a proposal cheap in this space.

    Limitation: wider spaces (more than ``_HYPER_MAX_DIMS`` parameters, or categoricals and
    ints whose coordinate passes try more than ``_HYPER_MAX_SWEEP`` values) use the MAP fit
    alone, as they did before the ensemble: eight GPs there cost 0.2 s to seconds a proposal.
    """
    if space.d > _HYPER_MAX_DIMS:
        return False
    here = np.zeros(1)
    width = sum(
        _sweep_choices(space, int(j), here).shape[1] for j in (*space.disc_idx, *space.cat_idx)
    )
    return bool(width <= _HYPER_MAX_SWEEP)


def _build_ensemble(
    X: FloatArray,
    z: FloatArray,
    theta: FloatArray,
    space: _Space,
    pending: FloatArray,
    rng: np.random.Generator,
    delta: FloatArray,
) -> _Posterior:
    """The MAP posterior averaged with ``_N_HYPER - 1`` drawn ones; alone if the draws fail.

    ``delta`` is :func:`_delta_tensor` of ``X``.
    """
    first = _build_posterior(X, z, theta, space, pending)
    try:
        draws = _hyperparameter_draws(delta, z, theta, rng, _N_HYPER - 1)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
        logger.debug("no hyperparameter draws, using the MAP fit alone: %s", exc)
        return first
    members = [first]
    for t in draws:
        try:
            members.append(_build_posterior(X, z, t, space, pending))
        except np.linalg.LinAlgError as exc:
            logger.debug("dropping a hyperparameter draw: %s", exc)
    return _Posterior.average(members) if len(members) > 1 else first


# =============================================================================================
# Points to avoid
# =============================================================================================
@dataclass(frozen=True)
class _Blocker:
    """Rejects candidates equal to an ``exclude`` row or essentially on a ``pending`` row.

    ``exclude`` is matched exactly through a hash set of row bytes: the caller may pass its
    whole history, and a set lookup costs the same for 10 rows or 10,000. Everything has been
    snapped onto the encoding first, so "equal" is well defined for discrete dims too.
    """

    pending: FloatArray
    pending_tol: FloatArray
    exclude_keys: frozenset[bytes]

    @classmethod
    def build(cls, space: _Space, pending: FloatArray, exclude: FloatArray) -> _Blocker:
        tol = np.full(space.d, _EXACT_TOL)
        tol[space.cont_idx] = _PENDING_TOL
        return cls(pending=pending, pending_tol=tol, exclude_keys=frozenset(_row_keys(exclude)))

    def __call__(self, Z: FloatArray) -> BoolArray:
        hit = _close_to_any(Z, self.pending, self.pending_tol)
        if self.exclude_keys:
            keys = self.exclude_keys
            hit |= np.fromiter((k in keys for k in _row_keys(Z)), dtype=bool, count=Z.shape[0])
        return hit


def _row_keys(A: FloatArray) -> list[bytes]:
    # Adding 0.0 turns -0.0 into 0.0 so that equal values give equal bytes.
    rows = np.ascontiguousarray(A + 0.0, dtype=np.float64)
    return [r.tobytes() for r in rows]


def _close_to_any(Z: FloatArray, rows: FloatArray, tol: FloatArray) -> BoolArray:
    out = np.zeros(Z.shape[0], dtype=bool)
    if not rows.shape[0] or not Z.shape[0]:
        return out
    step = max(1, (1 << 20) // (Z.shape[0] * Z.shape[1]))  # ~8 MB of temporaries per chunk
    for s in range(0, rows.shape[0], step):
        diff = np.abs(Z[:, None, :] - rows[None, s : s + step, :])
        out |= np.any(np.all(diff <= tol, axis=2), axis=1)
    return out


# =============================================================================================
# Acquisition optimisation
# =============================================================================================
def _sobol(d: int, m: int, rng: np.random.Generator) -> FloatArray:
    """``2**m`` scrambled Sobol points, the scrambling seeded from ``rng``."""
    try:
        engine = qmc.Sobol(d, scramble=True, rng=rng)
    except TypeError:  # scipy < 1.15 names the argument ``seed``
        engine = qmc.Sobol(d, scramble=True, seed=rng)
    return np.asarray(engine.random_base2(m), dtype=np.float64)


def _perturb(base: FloatArray, space: _Space, rng: np.random.Generator) -> FloatArray:
    """Local variations of the incumbents at several scales, touching a few dims each."""
    P = np.repeat(base, _PERTURB_PER_INCUMBENT, axis=0)
    n, d = P.shape
    mask = rng.random((n, d)) < min(1.0, max(0.2, 2.0 / d))
    mask[np.arange(n), rng.integers(d, size=n)] = True  # change at least one dim
    scale = rng.choice(np.array([0.01, 0.05, 0.2]), size=(n, 1))
    noise = rng.normal(size=(n, d)) * scale
    cont = space.cont_idx
    P[:, cont] = np.where(
        mask[:, cont], np.clip(P[:, cont] + noise[:, cont], 0.0, 1.0), P[:, cont]
    )
    steps = rng.integers(-2, 3, size=(n, d))
    for j in (int(j) for j in space.disc_idx):
        idx = np.clip(space.value_index(P, j) + steps[:, j], 0, space.n_values(j) - 1)
        P[:, j] = np.where(mask[:, j], space.value_of(j, idx), P[:, j])
    for j in (int(j) for j in space.cat_idx):
        fresh = rng.integers(space.n_choices[j], size=n).astype(np.float64)
        P[:, j] = np.where(mask[:, j], fresh, P[:, j])
    return P


def _screening_candidates(
    space: _Space, rng: np.random.Generator, incumbents: FloatArray, n_model: int
) -> FloatArray:
    """Scrambled Sobol points plus local perturbations of the incumbents.

    The quasi-random part has 2,048 points while the model is small (as Optuna's GPSampler)
    and 512 once it conditions on more than ``_BIG_MODEL`` rows, where scoring costs
    ``O(n^2)`` per point and dominates the proposal's time.
    """
    m = 11 if n_model <= _BIG_MODEL else (9 if space.d <= 8 else 10)
    cands = space.from_unit(_sobol(space.d, m, rng))
    if incumbents.size:
        cands = np.vstack([cands, _perturb(incumbents, space, rng)])
    return cands


def _choose_starts(
    cands: FloatArray, lei: FloatArray, incumbent: FloatArray, rng: np.random.Generator, k: int
) -> FloatArray:
    """``k`` starting points: the best candidate, the incumbent, then Boltzmann draws.

    The draws take candidate ``i`` with probability proportional to ``exp(lei_i - max lei)``
    without replacement (BoTorch's ``initialize_q_batch``, the "roulette" of Optuna's
    GPSampler): mostly high-LogEI points, but from several basins rather than the ``k``
    neighbours of one peak.
    """
    finite = np.isfinite(lei)
    order = np.argsort(-np.where(finite, lei, -np.inf), kind="stable")
    chosen = [cands[order[0]], incumbent]
    pool = np.flatnonzero(finite)
    pool = pool[pool != order[0]]
    if pool.size and k > 2:
        weight = np.exp(lei[pool] - np.max(lei[pool]))
        weight /= weight.sum()
        take = min(k - 2, int(np.count_nonzero(weight > 0.0)))
        if take:
            picks = rng.choice(pool, size=take, replace=False, p=weight)
            chosen.extend(cands[np.sort(picks)])
    return np.array(chosen)


def _batched_lbfgsb(
    fun: Callable[[FloatArray, IntArray], tuple[FloatArray, FloatArray]],
    x0: FloatArray,
    upper: FloatArray,
    maxiter: int,
) -> FloatArray:
    """Minimise ``B`` independent smooth functions on the box ``[0, upper]``, batched.

    Each row is its own projected L-BFGS run: its own curvature memory (the two-loop
    recursion, Nocedal 1980), its own active set (variables at a bound whose gradient points
    out of the box are held there, as in the projected quasi-Newton methods of Bertsekas 1982
    and Kim, Sra & Dhillon 2010) and its own backtracking Armijo line search along the
    projected path. What is shared is only the evaluation: every round sends the trial points
    of all rows still running to ``fun`` as one array, the decoupling that made Optuna's
    multi-start acquisition search cheap (optuna/optuna#6268; arXiv 2511.13625).

    Parameters
    ----------
    fun
        ``fun(X, rows) -> (f, g)``: values ``(r,)`` and gradients ``(r, c)`` at the ``r``
        rows of ``X``; ``rows`` says which of the ``B`` runs they belong to.
    x0
        ``(B, c)`` starting points inside the box.
    upper
        ``(c,)`` upper bounds (lower bounds are 0).
    maxiter
        Iterations per run.
    """
    # Limitation: not the full L-BFGS-B of Byrd, Lu, Nocedal & Zhu (1995): no generalised
    # Cauchy point, so a run whose optimum has many active bounds converges more slowly.
    B, c = x0.shape
    mem = _LBFGS_MEMORY
    x = np.clip(x0, 0.0, upper)
    f, g = fun(x, np.arange(B))
    S = np.zeros((B, mem, c))
    Y = np.zeros((B, mem, c))
    rho = np.zeros((B, mem))  # 0 marks an empty slot
    running = np.isfinite(f) & np.all(np.isfinite(g), axis=1)
    first = np.ones(B, dtype=bool)
    for _ in range(maxiter):
        idx = np.flatnonzero(running)
        if not idx.size:
            break
        xi, gi = x[idx], g[idx]
        held = ((xi <= 0.0) & (gi > 0.0)) | ((xi >= upper) & (gi < 0.0))
        pg = np.where(held, 0.0, gi)
        done = np.max(np.abs(pg), axis=1) <= _ACQ_PGTOL
        # Two-loop recursion, newest pair first (slot 0), on the free variables.
        q = pg.copy()
        alphas = np.zeros((idx.size, mem))
        for m in range(mem):
            s_m, y_m = np.where(held, 0.0, S[idx, m]), np.where(held, 0.0, Y[idx, m])
            alphas[:, m] = rho[idx, m] * np.einsum("ij,ij->i", s_m, q)
            q -= alphas[:, m, None] * y_m
        sy = np.einsum("ij,ij->i", S[idx, 0], Y[idx, 0])
        yy = np.einsum("ij,ij->i", Y[idx, 0], Y[idx, 0])
        gamma = np.where((rho[idx, 0] > 0.0) & (yy > 0.0), sy / np.where(yy > 0, yy, 1.0), 1.0)
        r = gamma[:, None] * q
        for m in reversed(range(mem)):
            s_m, y_m = np.where(held, 0.0, S[idx, m]), np.where(held, 0.0, Y[idx, m])
            beta = rho[idx, m] * np.einsum("ij,ij->i", y_m, r)
            r += s_m * (alphas[:, m] - beta)[:, None]
        d = np.where(held, 0.0, -r)
        slope = np.einsum("ij,ij->i", d, pg)
        bad = ~(slope < 0.0)
        if np.any(bad):  # not a descent direction: forget the curvature, go downhill
            rho[idx[bad]] = 0.0
            first[idx[bad]] = True
            d[bad] = -pg[bad]
        # The first step of a run moves at most _ACQ_FIRST_STEP (in lengthscales).
        step = np.ones(idx.size)
        fresh = first[idx]
        big = np.max(np.abs(d), axis=1)
        step[fresh] = np.minimum(1.0, _ACQ_FIRST_STEP / np.maximum(big[fresh], 1e-300))
        searching = ~done
        accepted = np.zeros(idx.size, dtype=bool)
        x_new, f_new, g_new = xi.copy(), f[idx].copy(), gi.copy()
        for _ in range(_ACQ_BACKTRACKS):
            act = np.flatnonzero(searching & ~accepted)
            if not act.size:
                break
            trial = np.clip(xi[act] + step[act, None] * d[act], 0.0, upper)
            ft, gt = fun(trial, idx[act])
            decrease = np.einsum("ij,ij->i", gi[act], trial - xi[act])
            ok = np.isfinite(ft) & (ft <= f[idx[act]] + 1e-4 * decrease)
            ok &= np.all(np.isfinite(gt), axis=1)
            hit = act[ok]
            x_new[hit], f_new[hit], g_new[hit] = trial[ok], ft[ok], gt[ok]
            accepted[hit] = True
            step[act[~ok]] *= 0.25
        # Rows that converged, or found no decrease along their direction, stop.
        stop = done | ~accepted
        f_old = f[idx]
        moved = idx[accepted]
        s_new = x_new[accepted] - xi[accepted]
        y_new = g_new[accepted] - gi[accepted]
        curv = np.einsum("ij,ij->i", s_new, y_new)
        keep = curv > 1e-10 * np.einsum("ij,ij->i", y_new, y_new)
        upd = moved[keep]
        S[upd] = np.roll(S[upd], 1, axis=1)
        Y[upd] = np.roll(Y[upd], 1, axis=1)
        rho[upd] = np.roll(rho[upd], 1, axis=1)
        S[upd, 0], Y[upd, 0], rho[upd, 0] = s_new[keep], y_new[keep], 1.0 / curv[keep]
        x[moved], f[moved], g[moved] = x_new[accepted], f_new[accepted], g_new[accepted]
        first[moved] = False
        small = np.abs(f_old - f_new) <= _ACQ_FTOL * np.maximum(
            1.0, np.maximum(np.abs(f_old), np.abs(f_new))
        )
        running[idx[stop | (accepted & small)]] = False
    return x


def _lbfgs_continuous(post: _Posterior, starts: FloatArray, maxiter: int) -> FloatArray:
    """Maximise LogEI over the continuous columns, one independent run per start.

    The runs work in coordinates divided by the ARD lengthscales (``u_j = x_j sqrt(w_j)``),
    where the kernel is isotropic and one step size suits every dimension (as Optuna's
    GPSampler preconditions its L-BFGS-B).
    """
    ci = post.space.cont_idx
    scale = np.sqrt(post.w[ci])

    def fun(U: FloatArray, rows: IntArray) -> tuple[FloatArray, FloatArray]:
        Z = starts[rows].copy()
        Z[:, ci] = U / scale
        lei, grad = post.log_ei_grad(Z)
        return -lei, -grad[:, ci] / scale

    U = _batched_lbfgsb(fun, starts[:, ci] * scale, scale, maxiter)
    moved = starts.copy()
    moved[:, ci] = np.clip(U / scale, 0.0, 1.0)
    better = post.log_ei(moved) > post.log_ei(starts)
    return np.where(better[:, None], moved, starts)


def _sweep_choices(space: _Space, j: int, current: FloatArray) -> IntArray:
    """Level/choice indices to try in dimension ``j`` for each start: ``(S, L)``."""
    k = space.n_values(j)
    S = current.shape[0]
    levels = space.levels[j]
    if levels is None or k <= _MAX_ALL_LEVELS:
        return np.broadcast_to(np.arange(k), (S, k))
    # Limitation: with more than 64 levels only the 8 neighbours on each side and a 16-level
    # coarse grid are tried per sweep, so a far-away narrow optimum can be missed.
    here = _nearest_level(levels, current)
    near = here[:, None] + np.arange(-8, 9)[None, :]
    spread = np.broadcast_to(np.linspace(0, k - 1, 16).round().astype(np.int64), (S, 16))
    return np.clip(np.hstack([near, spread]), 0, k - 1)


def _coordinate_sweep(
    post: _Posterior, xs: FloatArray, blocked: Callable[[FloatArray], BoolArray]
) -> tuple[FloatArray, bool]:
    """One exhaustive pass over each discrete/categorical dim, batched over starts."""
    space = post.space
    xs = xs.copy()
    changed = False
    S = xs.shape[0]
    for j in sorted(int(j) for j in (*space.disc_idx, *space.cat_idx)):
        choices = _sweep_choices(space, j, xs[:, j])
        L = choices.shape[1]
        Z = np.repeat(xs, L, axis=0)
        Z[:, j] = space.value_of(j, choices.reshape(-1))
        lei = post.log_ei(Z)
        lei[blocked(Z)] = -np.inf
        lei = lei.reshape(S, L)
        pick = np.argmax(lei, axis=1)
        ok = np.isfinite(lei[np.arange(S), pick])
        new = np.where(ok, Z.reshape(S, L, -1)[np.arange(S), pick, j], xs[:, j])
        changed = changed or bool(np.any(new != xs[:, j]))
        xs[:, j] = new
    return xs, changed


def _top_unblocked(
    pool: FloatArray, lei: FloatArray, blocked: Callable[[FloatArray], BoolArray]
) -> tuple[FloatArray | None, float]:
    """Best row of ``pool`` by its LogEI ``lei`` that is not blocked (checked best first)."""
    lei = np.where(np.isfinite(lei), lei, -np.inf)
    order = np.argsort(-lei, kind="stable")
    for s in range(0, order.size, 64):
        chunk = order[s : s + 64]
        chunk = chunk[np.isfinite(lei[chunk])]
        if not chunk.size:
            break
        free = chunk[~blocked(pool[chunk])]
        if free.size:
            return pool[free[0]].copy(), float(lei[free[0]])
    return None, -math.inf


def _optimise_acquisition(
    post: _Posterior,
    rng: np.random.Generator,
    incumbents: FloatArray,
    blocked: Callable[[FloatArray], BoolArray],
    n_model: int,
) -> tuple[FloatArray | None, float]:
    """Screen quasi-random and local candidates, polish several starts, return the argmax.

    ``incumbents`` are the best observed rows, best first. The starts alternate independent
    L-BFGS runs on the continuous columns with exhaustive passes over the discrete and
    categorical columns until a pass changes nothing (a coordinate-wise search for mixed
    spaces, as in Optuna's GPSampler).
    """
    space = post.space
    cands = _screening_candidates(space, rng, incumbents, n_model)
    lei = post.log_ei(cands)
    small = n_model <= _BIG_MODEL
    xs = _choose_starts(cands, lei, incumbents[0], rng, _N_STARTS if small else _N_STARTS_BIG)
    maxiter = _ACQ_MAXITER if small else _ACQ_MAXITER_BIG
    n_sweep_dims = space.disc_idx.size + space.cat_idx.size
    for _ in range(_SWEEP_ROUNDS):
        if space.cont_idx.size:
            xs = _lbfgs_continuous(post, xs, maxiter)
        if not n_sweep_dims:
            break
        xs, changed = _coordinate_sweep(post, xs, blocked)
        if not changed:
            break
    pool = np.vstack([xs, cands])
    return _top_unblocked(pool, np.concatenate([post.log_ei(xs), lei]), blocked)


# =============================================================================================
# Finite spaces and startup
# =============================================================================================
def _grid(space: _Space) -> FloatArray:
    """All combinations, row ``r`` having mixed-radix code ``r`` (C order)."""
    axes = [space.value_of(j, np.arange(space.n_values(j))) for j in range(space.d)]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


def _codes(X: FloatArray, space: _Space) -> IntArray:
    """Mixed-radix code of each row of a discrete/categorical point set."""
    code = np.zeros(X.shape[0], dtype=np.int64)
    for j in range(space.d):
        code = code * space.n_values(j) + space.value_index(X, j)
    return code


def _remaining(space: _Space, size: int, pending: FloatArray, exclude: FloatArray) -> IntArray:
    taken = _codes(np.vstack([pending, exclude]), space)
    return np.setdiff1d(np.arange(size, dtype=np.int64), taken, assume_unique=False)


def _design(space: _Space, seed: int, count: int) -> FloatArray:
    """The first ``2**m >= count`` points of the start-up design, in sequence order.

    A scrambled Sobol sequence (Sobol 1967; Owen 1998 scrambling, via :mod:`scipy.stats.qmc`)
    whose scrambling depends only on ``seed``: every call of one search sees the same
    sequence, so its prefix of ``n`` points is a low-discrepancy set for every ``n``.
    Discrete and categorical columns take ``floor(u k)``, so every level is equally likely.
    """
    m = max(4, math.ceil(math.log2(max(count, 1))))
    return space.from_unit(_sobol(space.d, m, np.random.default_rng(seed)))


def _startup_point(
    space: _Space,
    rng: np.random.Generator,
    data: _Inputs,
    blocked: _Blocker,
    free: FloatArray | None,
    design_seed: int,
    design_start: int,
) -> tuple[FloatArray | None, int | None]:
    """The first point of the start-up design from ``design_start`` on that is free; its index.

    Plain scrambled Sobol points, not a maximin selection: best-candidate sampling put about a
    third of the coordinates within 0.1 of a bound (uniform draws: a fifth), and on log-scaled
    parameters the edges are usually the worst region. A design point counts as taken when an
    observed, pending or excluded row matches it (within ``1e-6`` on continuous columns, which
    absorbs the round trip through the parameter's own units). The caller passes the index
    after the last design point it handed out, because a parameter rounded to its own grid
    (a wide int range, ``q_normal``) comes back further from its design point than any
    tolerance could tell apart from a new point.
    """
    existing = np.vstack([data.X, data.pending, data.exclude])
    tol = np.full(space.d, _EXACT_TOL)
    tol[space.cont_idx] = _DESIGN_TOL
    start = max(0, int(design_start))
    count = start + 2 * (existing.shape[0] + 1)
    while count <= start + 2 * _MAX_DESIGN:
        cands = _design(space, design_seed, count)[start:]
        ok = ~(_close_to_any(cands, existing, tol) | blocked(cands))
        if np.any(ok):
            index = int(np.argmax(ok))
            pick: FloatArray = cands[index].copy()
            return pick, start + index
        count = start + 4 * (count - start)
    # Limitation: once the design's first points are all taken (a nearly full finite space,
    # or a start-up phase stretched by a flat objective), start-up points are uniform draws.
    return _random_point(space, rng, blocked, free), None


def _random_point(
    space: _Space, rng: np.random.Generator, blocked: _Blocker, free: FloatArray | None
) -> FloatArray | None:
    """Uniform random unblocked point (None if 256 draws are all blocked)."""
    if free is not None:
        return free[int(rng.integers(free.shape[0]))].copy() if free.shape[0] else None
    for _ in range(4):
        cands = space.from_unit(rng.random((64, space.d)))
        ok = np.flatnonzero(~blocked(cands))
        if ok.size:
            point: FloatArray = cands[ok[0]].copy()
            return point
    return None


def _select_subset(y: FloatArray, rng: np.random.Generator) -> IntArray:
    """Rows the exact GP conditions on: all, or best + most recent + a seeded random rest."""
    n = y.size
    if n <= _MAX_MODEL_POINTS:
        return np.arange(n)
    # Limitation: rows outside the subset do not inform the model at all (they are still
    # avoided through ``exclude``); mediocre old regions can be re-explored after n > 256.
    best = np.argsort(y, kind="stable")[:_N_BEST]
    chosen = np.union1d(best, np.arange(n - _N_RECENT, n))
    rest = np.setdiff1d(np.arange(n), chosen)
    extra = rng.choice(rest, size=_MAX_MODEL_POINTS - chosen.size, replace=False)
    return np.sort(np.concatenate([chosen, extra]))


# =============================================================================================
# Entry point
# =============================================================================================
@functools.lru_cache(maxsize=1)
def _thread_controller() -> Any:
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # optional: only a speed concern
        return None
    return ThreadpoolController()


@contextlib.contextmanager
def _compute_context() -> Iterator[None]:
    """Few BLAS threads and quiet floating-point warnings (results are checked explicitly)."""
    # Limitation: threadpoolctl limits are process-wide, so BLAS calls made by other threads
    # of the same process also run single-threaded while a proposal is being computed.
    ctrl = _thread_controller()
    limiter = (
        ctrl.limit(limits=_BLAS_THREADS, user_api="blas")
        if ctrl is not None
        else contextlib.nullcontext()
    )
    with limiter, np.errstate(all="ignore"):
        yield


def _info(phase: str, reason: str, **extra: Any) -> dict[str, Any]:
    info: dict[str, Any] = {"phase": phase, "reason": reason, "ei": math.nan, "log_ei": math.nan}
    info.update(extra)
    return info


def _state_for(theta: FloatArray, space: _Space, n: int, status: str) -> GPState:
    d = space.d
    return GPState(
        log_inv_sq_lengthscales=tuple(float(v) for v in theta[:d]),
        log_amplitude=float(theta[d]),
        log_noise=float(theta[d + 1]),
        n_fit=n,
        kinds=space.kinds,
        fitted=status != "defaults-unfitted",
    )


def _compatible(state: GPState | None, space: _Space) -> bool:
    if state is None or len(state.log_inv_sq_lengthscales) != space.d:
        return False
    return not state.kinds or tuple(state.kinds) == space.kinds


def _model_proposal(
    data: _Inputs,
    z: FloatArray,
    space: _Space,
    rng: np.random.Generator,
    state: GPState | None,
    refit: bool,
    free: FloatArray | None,
    blocked: _Blocker,
) -> Proposal:
    """Fit (or reuse) hyperparameters, build the posterior and maximise LogEI."""
    idx = _select_subset(data.y, rng)
    Xm, zm = data.X[idx], z[idx]
    usable = state if _compatible(state, space) else None
    delta = None  # the fit and the hyperparameter draws share it
    if usable is not None and not refit:
        theta, status = _clip_theta(usable._theta()), "kept"
        new_state = usable
    else:
        warm = usable._theta() if usable is not None else None
        delta = _delta_tensor(Xm, space)
        theta, status = _fit_hyperparameters(delta, zm, warm)
        new_state = _state_for(theta, space, data.X.shape[0], status)
    pending = data.pending[-_MAX_PENDING_MODEL:]
    if free is not None:
        # Limitation: scoring the whole remaining grid is linear in its size (~0.1 s at 20,000),
        # which is why finite spaces score with the MAP fit alone, never the ensemble.
        post = _build_posterior(Xm, zm, theta, space, pending)
        x, lei = _top_unblocked(free, post.log_ei(free), blocked)
        gps = 1
    else:
        if idx.size <= _BIG_MODEL and _ensemble_affordable(space):
            if delta is None:
                delta = _delta_tensor(Xm, space)
            acq = _build_ensemble(Xm, zm, theta, space, pending, rng, delta)
        else:  # lengthscales are well determined by now, or each member would cost too much
            acq = _build_posterior(Xm, zm, theta, space, pending)
        gps = acq.size
        incumbents = Xm[np.argsort(zm, kind="stable")[:_N_INCUMBENTS]]
        try:
            x, lei = _optimise_acquisition(acq, rng, incumbents, blocked, int(idx.size))
        except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
            if acq.size == 1:
                raise
            logger.debug("ensemble acquisition failed, using the MAP fit alone: %r", exc)
            acq, gps = _build_posterior(Xm, zm, theta, space, pending), 1
            x, lei = _optimise_acquisition(acq, rng, incumbents, blocked, int(idx.size))
    extra = {"n_obs": int(data.X.shape[0]), "n_model": int(idx.size), "fit": status, "gps": gps}
    if x is None:  # every scored candidate was blocked: only plausible in a nearly full space
        x = _random_point(space, rng, blocked, free)
        phase = "fallback" if x is not None else "exhausted"
        return Proposal(x, new_state, _info(phase, "every candidate was excluded", **extra))
    extra.update(ei=float(np.exp(lei)), log_ei=float(lei))
    reason = "argmax of LogEI" + (" over the remaining grid" if free is not None else "")
    return Proposal(x, new_state, _info("model", reason, **extra))


def _startup_reason(n: int, z: FloatArray | None, n_startup: int) -> str | None:
    if n < n_startup:
        return f"{n} observation(s) < n_startup={n_startup}"
    if n < 2:
        return "fewer than 2 observations"
    if z is None:
        return "objective has fewer than 2 distinct values or no spread"
    return None


def propose(
    X: np.ndarray,
    y: np.ndarray,
    dims: Sequence[Dim],
    rng: np.random.Generator,
    *,
    pending: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
    state: GPState | None = None,
    n_startup: int = 10,
    refit: bool = True,
    design_seed: int | None = None,
    design_start: int = 0,
) -> Proposal:
    """Propose the next point to evaluate (minimisation) by GP Bayesian optimisation.

    Parameters
    ----------
    X : numpy.ndarray
        ``(n, d)`` observed points in the encoding described in the module docstring.
    y : numpy.ndarray
        ``(n,)`` objective values to minimise, finite (non-finite rows are dropped).
    dims : sequence of Dim
        One entry per column of ``X``.
    rng : numpy.random.Generator
        Source of all randomness; the same state gives the same proposal.
    pending : numpy.ndarray, optional
        ``(p, d)`` points under evaluation (or failed without a value). They are believed at
        the posterior mean (Kriging believer) and never proposed again (within ``1e-3`` on
        continuous dims, exactly on the others).
    exclude : numpy.ndarray, optional
        ``(m, d)`` points that must not be returned (exact match).
    state : GPState, optional
        Hyperparameters of the previous call, for warm start.
    n_startup : int
        Below this many observations return start-up points: the first point of a scrambled
        Sobol sequence that no observed, pending or excluded row already has.
    refit : bool
        False keeps ``state``'s hyperparameters (if it matches ``dims``) instead of fitting.
    design_seed : int, optional
        Seed of the start-up sequence's scrambling. Pass the same value to every call of one
        search so that its start-up points form one low-discrepancy set; None uses a fixed
        default.
    design_start : int
        Index in the start-up sequence from which to look for a free point: one past the
        ``info["design_index"]`` of the last start-up proposal of this search.

    Returns
    -------
    Proposal
        ``x`` is None only when a finite discrete space has no combination left.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> dims = [Dim("continuous"), Dim("categorical", n_choices=3)]
    >>> X = np.column_stack([rng.random(12), rng.integers(3, size=12)])
    >>> y = (X[:, 0] - 0.3) ** 2 + (X[:, 1] != 1)
    >>> p = propose(X, y, dims, rng)
    >>> p.info["phase"], p.x.shape
    ('model', (2,))
    """
    space = _Space.from_dims(dims)
    data = _clean_inputs(X, y, space, pending, exclude)
    with _compute_context():
        seed = _DEFAULT_DESIGN_SEED if design_seed is None else int(design_seed)
        return _propose(
            data, space, rng, state, int(n_startup), bool(refit), seed, int(design_start)
        )


def _propose(
    data: _Inputs,
    space: _Space,
    rng: np.random.Generator,
    state: GPState | None,
    n_startup: int,
    refit: bool,
    design_seed: int,
    design_start: int,
) -> Proposal:
    """Route to exhaustion, startup, the model, or the random fallback, in that order."""
    blocked = _Blocker.build(space, data.pending, data.exclude)
    size = space.finite_size()
    free = None
    if size is not None and size <= _MAX_FINITE:
        grid = _grid(space)
        free = grid[_remaining(space, size, data.pending, data.exclude)]
        if not free.shape[0]:
            return Proposal(None, state, _info("exhausted", f"all {size} combinations used"))
    n = data.X.shape[0]
    z = _model_values(data.y) if n >= 2 else None
    reason = _startup_reason(n, z, n_startup)
    if reason is not None:
        x, index = _startup_point(space, rng, data, blocked, free, design_seed, design_start)
        if x is None:
            return Proposal(None, None, _info("exhausted", "no free point found (startup)"))
        extra: dict[str, Any] = {"n_obs": n}
        if index is not None:
            extra["design_index"] = index
        return Proposal(x, None, _info("startup", reason, **extra))
    assert z is not None  # guaranteed by _startup_reason
    try:
        return _model_proposal(data, z, space, rng, state, refit, free, blocked)
    except Exception as exc:  # numerical trouble must never stop a sweep
        logger.warning("GP proposal failed, using a random point: %r", exc, exc_info=True)
        x = _random_point(space, rng, blocked, free)
        phase = "fallback" if x is not None else "exhausted"
        return Proposal(x, state, _info(phase, f"{type(exc).__name__}: {exc}", n_obs=n))
