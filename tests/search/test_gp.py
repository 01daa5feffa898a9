"""Tests for the GP Bayesian-optimisation core, ``nbsweep.search._gp``."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.special
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import mannwhitneyu

from nbsweep.search import _gp
from nbsweep.search._gp import Dim, GPState, Proposal, propose

CONT = Dim("continuous")


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _run(f, dims, seed, n_calls, *, n_startup=10, use_exclude=False):
    """Sequential BO loop: returns X, y, list of proposals."""
    rng = np.random.default_rng(seed)
    X = np.empty((0, len(dims)))
    y = np.empty(0)
    state = None
    props = []
    for _ in range(n_calls):
        p = propose(
            X, y, dims, rng, state=state, n_startup=n_startup, exclude=X if use_exclude else None
        )
        props.append(p)
        if p.x is None:
            break
        state = p.state or state
        X = np.vstack([X, p.x])
        y = np.append(y, f(p.x[None, :])[0])
    return X, y, props


def _branin01(X):
    x1 = X[:, 0] * 15.0 - 5.0
    x2 = X[:, 1] * 15.0
    b, c = 5.1 / (4 * np.pi**2), 5.0 / np.pi
    return (x2 - b * x1**2 + c * x1 - 6.0) ** 2 + 10.0 * (1 - 1 / (8 * np.pi)) * np.cos(x1) + 10.0


def _mixed_problem(seed=0, n=30):
    rng = np.random.default_rng(seed)
    dims = [
        CONT,
        Dim("discrete", levels=np.linspace(0, 1, 5)),
        Dim("categorical", n_choices=3),
        CONT,
    ]
    space = _gp._Space.from_dims(dims)
    X = space.from_unit(rng.random((n, 4)))
    y = np.sin(5 * X[:, 0]) + X[:, 1] + (X[:, 2] == 1) + X[:, 3] ** 2 + 0.1 * rng.normal(size=n)
    return dims, space, X, y


def _assert_valid(x, dims):
    assert x is not None
    assert x.shape == (len(dims),)
    assert np.all(np.isfinite(x))
    for v, dm in zip(x, dims, strict=True):
        if dm.kind == "continuous":
            assert 0.0 <= v <= 1.0
        elif dm.kind == "discrete":
            assert np.any(dm.levels == v), f"{v} is not one of the levels"
        else:
            assert v == int(v)
            assert 0 <= v < dm.n_choices


def _naive_log_h(u):
    with np.errstate(divide="ignore"):
        return np.log(scipy.special.ndtr(u) * u + np.exp(-0.5 * u * u) / math.sqrt(2 * math.pi))


# ---------------------------------------------------------------------------------------------
# output warping
# ---------------------------------------------------------------------------------------------
def test_model_values_pull_in_diverged_runs_and_keep_the_order():
    """Two diverged runs (loss 5) among losses near 0.1: the good runs get room again."""
    good = np.linspace(0.08, 0.3, 18)
    y = np.concatenate([good, [5.0, 5.0]])
    plain, warped = _gp._standardise(y), _gp._model_values(y)
    assert np.all(np.diff(warped[:18]) > 0)  # increasing: the best run stays the best
    assert warped[18] == warped[19] and warped[18] > warped[17]
    np.testing.assert_allclose([np.mean(warped), np.std(warped)], [0.0, 1.0], atol=1e-12)
    # Standardised alone, the 18 good runs share about 0.14 units; warped, over four times that.
    assert np.ptp(plain[:18]) < 0.2
    assert np.ptp(warped[:18]) > 4 * np.ptp(plain[:18])


def test_model_values_leave_symmetric_values_nearly_alone():
    y = np.random.default_rng(3).normal(size=200)
    np.testing.assert_allclose(_gp._model_values(y), _gp._standardise(y), atol=0.15)


def test_model_values_need_spread():
    assert _gp._model_values(np.array([2.0, 2.0, 2.0])) is None
    z = _gp._model_values(np.array([1.0, 2.0]))
    assert z is not None and z[0] < z[1]


# ---------------------------------------------------------------------------------------------
# gradients
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_neg_log_posterior_gradient_matches_finite_differences(seed):
    _, space, X, y = _mixed_problem(seed)
    z = _gp._standardise(y)
    delta = _gp._delta_tensor(X, space)
    rng = np.random.default_rng(seed)
    theta = np.concatenate([rng.normal(0, 1, 4), [rng.normal(0, 0.5), -3.0 + rng.normal()]])
    _, grad = _gp._neg_log_posterior(theta, delta, z)
    h = 1e-6
    fd = np.array(
        [
            (
                _gp._neg_log_posterior(theta + h * e, delta, z)[0]
                - _gp._neg_log_posterior(theta - h * e, delta, z)[0]
            )
            / (2 * h)
            for e in np.eye(theta.size)
        ]
    )
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-5)


def _assert_log_ei_gradient(acq, space, Z):
    """The analytic LogEI gradient agrees with central differences; categoricals get none."""
    lei, grad = acq.log_ei_grad(Z)
    np.testing.assert_allclose(lei, acq.log_ei(Z), rtol=1e-10, atol=1e-10)
    h = 1e-6
    for j in space.cont_idx:
        e = np.zeros(Z.shape[1])
        e[j] = h
        fd = (acq.log_ei(Z + e) - acq.log_ei(Z - e)) / (2 * h)
        np.testing.assert_allclose(grad[:, j], fd, rtol=1e-4, atol=1e-5)
    assert np.all(grad[:, space.cat_idx] == 0.0)


@pytest.mark.parametrize("with_pending", [False, True])
def test_log_ei_gradient_matches_finite_differences(with_pending):
    _, space, X, y = _mixed_problem(3)
    z = _gp._standardise(y)
    theta = np.array([1.0, 0.5, 0.0, 2.0, 0.3, -4.0])
    pending = space.snap(X[:3] + 0.02) if with_pending else np.empty((0, 4))
    post = _gp._build_posterior(X, z, theta, space, pending)
    Z = space.from_unit(np.random.default_rng(7).random((16, 4)))
    Z = np.vstack([Z, space.snap(X[:2] + 0.05)])  # also close to data, where sigma is small
    _assert_log_ei_gradient(post, space, Z)


def _ensemble_problem():
    _, space, X, y = _mixed_problem(3)
    z = _gp._standardise(y)
    rng = np.random.default_rng(11)
    thetas = [np.concatenate([rng.normal(0.5, 1.0, 4), [0.3, math.log(1e-3)]]) for _ in range(4)]
    pending = space.snap(X[:3] + 0.02)
    members = [_gp._build_posterior(X, z, t, space, pending) for t in thetas]
    Z = space.from_unit(np.random.default_rng(7).random((40, 4)))
    Z = np.vstack([Z, space.snap(X[:2] + 0.05)])
    return space, members, Z


def test_ensemble_scores_the_log_of_the_members_mean_ei():
    _, members, Z = _ensemble_problem()
    ens = _gp._Posterior.average(members)
    each = np.stack([m.log_ei(Z) for m in members])
    expected = scipy.special.logsumexp(each, axis=0) - math.log(len(members))
    np.testing.assert_allclose(ens.log_ei(Z), expected, rtol=1e-10, atol=1e-10)
    # The average sits between the most and the least hopeful member, point by point.
    assert np.all(ens.log_ei(Z) <= each.max(axis=0) + 1e-12)
    assert np.all(ens.log_ei(Z) >= each.min(axis=0) - 1e-12)


def test_ensemble_gradient_matches_finite_differences():
    space, members, Z = _ensemble_problem()
    _assert_log_ei_gradient(_gp._Posterior.average(members), space, Z)


def test_hyperparameter_draws_spread_most_where_the_data_say_least():
    """An input the objective ignores gets widely spread weights; a decisive one, narrow."""
    rng = np.random.default_rng(0)
    space = _gp._Space.from_dims([CONT, CONT])
    X = rng.random((40, 2))
    z = _gp._standardise(np.sin(6.0 * X[:, 0]))
    delta = _gp._delta_tensor(X, space)
    theta, _ = _gp._fit_hyperparameters(delta, z, None)
    draws = np.array(_gp._hyperparameter_draws(delta, z, theta, np.random.default_rng(1), 400))
    np.testing.assert_array_equal(draws[:, 2:], np.broadcast_to(theta[2:], (400, 2)))
    spread = draws[:, :2].std(axis=0)
    assert spread[0] < 0.5 * spread[1]
    assert spread[1] <= 2.0 * 1.15  # the curvature floor caps one sd at 2 in log weight
    again = _gp._hyperparameter_draws(delta, z, theta, np.random.default_rng(1), 400)
    np.testing.assert_array_equal(draws, np.array(again))


def test_small_models_average_several_gps_and_large_ones_use_the_fit_alone():
    dims, _, X, y = _mixed_problem(0, n=40)
    small = propose(X, y, dims, np.random.default_rng(3))
    assert small.info["phase"] == "model"
    assert small.info["gps"] == _gp._N_HYPER
    dims, _, X, y = _mixed_problem(0, n=_gp._BIG_MODEL + 1)
    large = propose(X, y, dims, np.random.default_rng(3))
    assert large.info["phase"] == "model"
    assert large.info["gps"] == 1


def _random_rows(dims, n, seed):
    space = _gp._Space.from_dims(dims)
    rng = np.random.default_rng(seed)
    X = space.from_unit(rng.random((n, len(dims))))
    y = np.sum((X - 0.3) ** 2, axis=1) + 0.01 * rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize(
    ("dims", "gps"),
    [
        ([CONT] * _gp._HYPER_MAX_DIMS, _gp._N_HYPER),
        ([CONT] * (_gp._HYPER_MAX_DIMS + 1), 1),
        ([CONT, Dim("categorical", n_choices=_gp._HYPER_MAX_SWEEP)], _gp._N_HYPER),
        ([CONT, Dim("categorical", n_choices=_gp._HYPER_MAX_SWEEP + 1)], 1),
        # Only categoricals, too many combinations to score them all: no numeric column at all.
        ([Dim("categorical", n_choices=8)] * 5, _gp._N_HYPER),
    ],
    ids=["12-floats", "13-floats", "cat-64", "cat-65", "categoricals-only"],
)
def test_the_ensemble_is_kept_to_spaces_where_it_stays_cheap(dims, gps):
    X, y = _random_rows(dims, 40, seed=1)
    p = propose(X, y, dims, np.random.default_rng(3))
    assert p.info["phase"] == "model"
    assert p.info["gps"] == gps
    _assert_valid(p.x, dims)


def test_failed_hyperparameter_draws_leave_the_fitted_gp(monkeypatch):
    def boom(*args, **kwargs):
        raise np.linalg.LinAlgError("simulated")

    monkeypatch.setattr(_gp, "_hyperparameter_draws", boom)
    dims, _, X, y = _mixed_problem(0, n=40)
    p = propose(X, y, dims, np.random.default_rng(3))
    assert p.info["phase"] == "model"
    assert p.info["gps"] == 1
    _assert_valid(p.x, dims)


def test_a_failing_ensemble_search_falls_back_to_the_fitted_gp(monkeypatch):
    plain = _gp._Posterior.log_ei

    def boom(self, Z):
        if self.size > 1:
            raise FloatingPointError("simulated")
        return plain(self, Z)

    monkeypatch.setattr(_gp._Posterior, "log_ei", boom)
    dims, _, X, y = _mixed_problem(0, n=40)
    p = propose(X, y, dims, np.random.default_rng(3))
    assert p.info["phase"] == "model"
    assert p.info["gps"] == 1
    _assert_valid(p.x, dims)


def test_ensemble_members_must_share_rows_and_amplitude():
    space, members, _ = _ensemble_problem()
    X, z = members[0].X, np.zeros(members[0].X.shape[0])
    louder = _gp._build_posterior(X, z, np.array([0.0] * 4 + [1.0, -6.0]), space, X[:0])
    with pytest.raises(ValueError, match="share"):
        _gp._Posterior.average([members[0], louder])


def test_log_ei_gradient_far_from_incumbent_is_finite():
    """Where EI underflows to 0 the LogEI gradient must still point somewhere useful."""
    X = np.array([[0.0], [0.05], [0.1]])
    z = np.array([-1.0, 0.0, 1.0])
    space = _gp._Space.from_dims([CONT])
    post = _gp._build_posterior(
        X, z, np.array([6.0, 0.0, math.log(1e-6)]), space, np.empty((0, 1))
    )
    post.best = np.array([-60.0])  # an incumbent far below anything the model believes
    Z = np.array([[0.02], [0.5], [0.9]])
    lei, grad = post.log_ei_grad(Z)
    mu, var = post.predict(Z)
    naive_ei = np.sqrt(var) * np.exp(_naive_log_h((post.best - mu) / np.sqrt(var)))
    assert np.all(naive_ei == 0.0)  # the naive form is useless here
    assert np.all(np.isfinite(lei))
    assert np.all(np.isfinite(grad))
    assert np.all(lei < -100)


# ---------------------------------------------------------------------------------------------
# batched multi-start L-BFGS
# ---------------------------------------------------------------------------------------------
def _rosenbrock(X, rows):
    a, b = X[:, 0], X[:, 1]
    f = (1 - a) ** 2 + 100 * (b - a * a) ** 2
    g = np.stack([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)], axis=1)
    return f, g


def test_batched_lbfgsb_solves_rosenbrock_from_every_start():
    x0 = np.random.default_rng(0).random((8, 2)) * 2.0
    x = _gp._batched_lbfgsb(_rosenbrock, x0, np.array([2.0, 2.0]), 100)
    np.testing.assert_allclose(x, 1.0, atol=1e-4)


def test_batched_lbfgsb_stops_at_active_bounds():
    target = np.array([1.5, -0.3, 0.4])

    def quad(X, rows):
        return np.sum((X - target) ** 2, axis=1), 2 * (X - target)

    x0 = np.random.default_rng(1).random((5, 3))
    x = _gp._batched_lbfgsb(quad, x0, np.ones(3), 50)
    np.testing.assert_allclose(x, np.tile([1.0, 0.0, 0.4], (5, 1)), atol=1e-7)


def test_batched_lbfgsb_runs_are_independent_of_each_other():
    """Each start has its own line search: a start's result does not depend on its batch."""
    scales = np.array([1.0, 1e3, 1e-2])

    def bowls(X, rows):
        s = scales[rows][:, None]
        return s[:, 0] * np.sum((X - 0.3) ** 2, axis=1), 2 * s * (X - 0.3)

    x0 = np.array([[0.9, 0.1], [0.8, 0.8], [0.0, 0.5]])
    together = _gp._batched_lbfgsb(bowls, x0, np.ones(2), 40)
    for b in range(3):

        def alone(X, rows, b=b):
            return bowls(X, np.full(rows.size, b))

        np.testing.assert_array_equal(
            _gp._batched_lbfgsb(alone, x0[b : b + 1], np.ones(2), 40)[0], together[b]
        )
    np.testing.assert_allclose(together, 0.3, atol=1e-6)


def test_acquisition_search_finds_the_best_of_many_local_optima():
    """LogEI over a 1-d multimodal posterior: the returned point beats a dense grid scan."""
    rng = np.random.default_rng(4)
    X = rng.random((14, 1))
    z = _gp._standardise(np.sin(17 * X[:, 0]) + 0.3 * X[:, 0])
    space = _gp._Space.from_dims([CONT])
    post = _gp._build_posterior(X, z, np.array([4.0, 0.0, -12.0]), space, np.empty((0, 1)))
    no_block = _gp._Blocker.build(space, np.empty((0, 1)), np.empty((0, 1)))
    x, lei = _gp._optimise_acquisition(post, rng, X[np.argsort(z)[:3]], no_block, 14)
    grid = np.linspace(0, 1, 20001)[:, None]
    assert lei >= np.max(post.log_ei(grid)) - 1e-6
    assert post.log_ei(x[None, :])[0] == pytest.approx(lei, abs=1e-9)


# ---------------------------------------------------------------------------------------------
# LogEI numerics
# ---------------------------------------------------------------------------------------------
def test_log_h_equals_naive_where_naive_is_accurate():
    u = np.linspace(-5.0, 8.0, 1301)
    np.testing.assert_allclose(_gp._log_h(u), _naive_log_h(u), rtol=1e-9, atol=1e-12)


def test_posterior_log_ei_equals_log_of_naive_ei():
    _, space, X, y = _mixed_problem(8)
    post = _gp._build_posterior(
        X, _gp._standardise(y), np.array([1.0, 0.5, 0.0, 2.0, 0.3, -4.0]), space, np.empty((0, 4))
    )
    Z = space.from_unit(np.random.default_rng(0).random((200, 4)))
    mu, var = post.predict(Z)
    sigma = np.sqrt(var)
    imp = post.best - mu
    naive = imp * scipy.special.ndtr(imp / sigma) + sigma * np.exp(-0.5 * (imp / sigma) ** 2) / (
        math.sqrt(2 * math.pi)
    )
    accurate = naive > 1e-8 * sigma  # away from cancellation in the naive sum
    assert accurate.sum() > 50
    np.testing.assert_allclose(post.log_ei(Z)[accurate], np.log(naive[accurate]), rtol=1e-7)


def test_log_h_finite_where_naive_underflows():
    u = -np.logspace(1.6, 12, 300)  # -40 .. -1e12
    with np.errstate(divide="ignore"):
        assert np.all(np.isneginf(_naive_log_h(u)))
    ours = _gp._log_h(u)
    assert np.all(np.isfinite(ours))
    assert np.all(np.diff(ours) < 0)  # u decreases along the array: log h decreases too
    # Asymptotics: log h(u) = -u^2/2 - log(2 pi)/2 - 2 log|u| - 3/u^2 + O(1/u^4).
    lead = -0.5 * u * u - 0.5 * math.log(2 * math.pi) - 2 * np.log(-u) - 3.0 / u**2
    assert np.all(np.abs(ours - lead) <= 1e-13 * np.abs(lead) + 20.0 / u**4)


def test_log_h_matches_high_precision_reference():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50
    for u in [6.0, 1.0, 0.0, -0.7, -1.0, -2.5, -9.0, -35.0, -99.99, -100.0, -100.01, -3e3, -1e6]:
        U = mpmath.mpf(u)
        ref = float(mpmath.log(mpmath.npdf(U) + U * mpmath.ncdf(U)))
        got = float(_gp._log_h(np.array([u]))[0])
        assert got == pytest.approx(ref, rel=1e-12, abs=1e-12), u


def test_log_h_derivative_is_phi_over_h():
    u = np.array([3.0, 0.5, -0.99, -1.01, -7.0, -50.0, -99.0, -101.0, -400.0])
    h = 1e-5 * np.maximum(1.0, np.abs(u))
    fd = (_gp._log_h(u + h) - _gp._log_h(u - h)) / (2 * h)
    analytic = np.exp(scipy.special.log_ndtr(u) - _gp._log_h(u))
    np.testing.assert_allclose(fd, analytic, rtol=1e-5)


# ---------------------------------------------------------------------------------------------
# kernel semantics
# ---------------------------------------------------------------------------------------------
def test_categorical_distance_is_hamming_not_ordinal():
    space = _gp._Space.from_dims([Dim("categorical", n_choices=4)])
    pts = np.array([[0.0], [1.0], [3.0], [0.0]])
    r2 = _gp._cross_r2(pts, pts, np.array([2.0]), space)
    assert r2[0, 1] == r2[0, 2] == r2[1, 2] == 2.0
    assert r2[0, 3] == 0.0
    delta = _gp._delta_tensor(pts, space)[..., 0]
    np.testing.assert_array_equal(delta, r2 / 2.0)


def test_relabelling_categories_leaves_the_model_unchanged():
    _dims, space, X, y = _mixed_problem(4)
    perm = np.array([2, 0, 1])
    Xp = X.copy()
    Xp[:, 2] = perm[X[:, 2].astype(int)]
    z = _gp._standardise(y)
    theta = np.array([0.5, 1.0, 0.2, -0.3, 0.1, -5.0])
    f1, g1 = _gp._neg_log_posterior(theta, _gp._delta_tensor(X, space), z)
    f2, g2 = _gp._neg_log_posterior(theta, _gp._delta_tensor(Xp, space), z)
    assert f1 == pytest.approx(f2, rel=1e-12)
    np.testing.assert_allclose(g1, g2, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# optimisation behaviour
# ---------------------------------------------------------------------------------------------
def test_1d_quadratic_is_solved_within_25_proposals():
    X, y, props = _run(lambda X: (X[:, 0] - 0.7) ** 2, [CONT], seed=0, n_calls=25)
    assert len(y) == 25
    assert abs(X[np.argmin(y), 0] - 0.7) < 0.01
    assert [p.info["phase"] for p in props[10:]] == ["model"] * 15


def test_branin_beats_random_search():
    dims = [CONT, CONT]
    bo = [_run(_branin01, dims, seed=s, n_calls=30)[1].min() for s in range(10)]
    rand = [_branin01(np.random.default_rng(1000 + s).random((30, 2))).min() for s in range(10)]
    assert mannwhitneyu(bo, rand, alternative="less").pvalue < 0.05
    assert np.median(bo) < 0.5 * np.median(rand)
    assert np.median(bo) < 0.5  # the global minimum is 0.3979


@pytest.mark.parametrize("perm", [(0, 1, 2, 3), (2, 0, 3, 1), (3, 2, 1, 0)])
def test_category_only_objective_is_solved_whatever_the_labels(perm):
    """Values depend on the category alone; the best meaning is 2 whatever index it gets."""
    perm = np.array(perm)
    values = np.array([3.0, 1.0, 0.0, 2.0])
    dims = [CONT, Dim("categorical", n_choices=4)]
    for seed in range(3):
        X, y, props = _run(
            lambda X: values[perm[X[:, 1].astype(int)]], dims, seed=seed, n_calls=16, n_startup=2
        )
        found = int(X[np.argmin(y), 1])
        assert perm[found] == 2
        # Once found, the model keeps exploiting it.
        assert np.all(perm[X[-6:, 1].astype(int)] == 2)
        assert props[-1].info["phase"] == "model"


def test_finite_categorical_space_is_enumerated_then_exhausted():
    dims = [
        Dim("categorical", n_choices=3),
        Dim("categorical", n_choices=2),
        Dim("categorical", n_choices=2),
    ]
    table = np.random.default_rng(0).normal(size=(3, 2, 2))

    def f(X):
        i = X.astype(int)
        return table[i[:, 0], i[:, 1], i[:, 2]]

    X, _, props = _run(f, dims, seed=1, n_calls=20, use_exclude=True)
    assert X.shape == (12, 3)
    assert len({tuple(r) for r in X}) == 12
    for x in X:
        _assert_valid(x, dims)
    assert {p.info["phase"] for p in props[10:12]} == {"model"}
    assert props[12].x is None
    assert props[12].info["phase"] == "exhausted"
    assert len(props) == 13


def test_single_binary_categorical_is_exhausted_after_two():
    dims = [Dim("categorical", n_choices=2)]
    X, _y, props = _run(lambda X: X[:, 0] * 1.0, dims, seed=0, n_calls=5, use_exclude=True)
    assert sorted(X[:, 0].tolist()) == [0.0, 1.0]
    assert props[-1].x is None
    assert props[-1].info["phase"] == "exhausted"


@pytest.mark.parametrize("finite", [False, True])
def test_pending_point_makes_the_next_proposal_differ(finite):
    if finite:
        dims = [Dim("discrete", levels=np.linspace(0, 1, 7)), Dim("categorical", n_choices=3)]
        space = _gp._Space.from_dims(dims)
        X = space.from_unit(np.random.default_rng(0).random((12, 2)))
        y = (X[:, 0] - 0.4) ** 2 + (X[:, 1] == 2)
    else:
        dims = [CONT, CONT]
        X = np.random.default_rng(0).random((15, 2))
        y = _branin01(X)
    first = propose(X, y, dims, np.random.default_rng(5), exclude=X if finite else None)
    second = propose(
        X,
        y,
        dims,
        np.random.default_rng(5),
        pending=first.x[None, :],
        exclude=X if finite else None,
    )
    again = propose(X, y, dims, np.random.default_rng(5), exclude=X if finite else None)
    assert first.info["phase"] == second.info["phase"] == "model"
    np.testing.assert_array_equal(first.x, again.x)  # only the pending point changed
    assert np.max(np.abs(first.x - second.x)) > _gp._PENDING_TOL


def test_kriging_believer_collapses_variance_but_keeps_the_mean():
    X = np.random.default_rng(1).random((12, 2))
    z = _gp._standardise(_branin01(X))
    space = _gp._Space.from_dims([CONT, CONT])
    theta = np.array([1.0, 1.0, 0.0, math.log(1e-4)])
    P = np.array([[0.3, 0.6], [0.9, 0.1]])
    plain = _gp._build_posterior(X, z, theta, space, np.empty((0, 2)))
    believer = _gp._build_posterior(X, z, theta, space, P)
    Z = np.vstack([P, np.random.default_rng(2).random((20, 2))])
    mu0, var0 = plain.predict(Z)
    mu1, var1 = believer.predict(Z)
    np.testing.assert_allclose(mu0, mu1, rtol=1e-8, atol=1e-8)
    assert np.all(var1 <= var0 + 1e-12)
    # A believed observation with noise s2 leaves latent variance v s2 / (v + s2) < s2.
    assert np.all(var1[:2] < 1e-4)
    np.testing.assert_allclose(var1[:2], var0[:2] * 1e-4 / (var0[:2] + 1e-4), rtol=1e-5)


def test_many_pending_agents_get_distinct_points():
    dims = [CONT, CONT, CONT]
    rng = np.random.default_rng(3)
    X = rng.random((20, 3))
    y = np.sum((X - 0.5) ** 2, axis=1)
    pending = np.empty((0, 3))
    for k in range(6):
        p = propose(X, y, dims, np.random.default_rng(k), pending=pending)
        assert p.info["phase"] == "model"
        if pending.size:
            gaps = np.max(np.abs(pending - p.x), axis=1)
            assert np.all(gaps > _gp._PENDING_TOL)
        pending = np.vstack([pending, p.x])


def test_exclude_rows_are_never_returned_in_mixed_space():
    dims = [CONT, Dim("categorical", n_choices=2)]
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.random(15), rng.integers(2, size=15)])
    y = (X[:, 0] - 1.0) ** 2 + X[:, 1]  # optimum on the boundary x=1, where L-BFGS-B lands
    first = propose(X, y, dims, np.random.default_rng(9))
    assert first.x[0] == 1.0  # exactly on the bound, so an exact match is possible
    exclude = first.x[None, :]
    second = propose(X, y, dims, np.random.default_rng(9), exclude=exclude)
    assert first.info["phase"] == second.info["phase"] == "model"
    assert not np.array_equal(first.x, second.x)


def test_blocker_matches_exclude_exactly_and_pending_within_tolerance():
    space = _gp._Space.from_dims([CONT, Dim("categorical", n_choices=3)])
    blocker = _gp._Blocker.build(
        space, pending=np.array([[0.5, 1.0]]), exclude=np.array([[-0.0, 2.0], [0.25, 0.0]])
    )
    Z = np.array(
        [
            [0.0, 2.0],  # equals the -0.0 exclude row
            [0.25, 0.0],
            [0.25 + 1e-12, 0.0],  # not equal: continuous values are matched exactly
            [0.5 + 5e-4, 1.0],  # on top of the pending point
            [0.5 + 5e-4, 2.0],  # other category: free
            [0.51, 1.0],  # far enough from the pending point
        ]
    )
    np.testing.assert_array_equal(blocker(Z), [True, True, False, True, False, False])


def test_discrete_dims_land_exactly_on_levels():
    dims = [
        Dim("discrete", levels=np.array([0.0, 0.1, 0.35, 0.9, 1.0])),
        Dim("discrete", levels=np.sort(np.random.default_rng(0).random(300))),  # many levels
        CONT,
        Dim("categorical", n_choices=3),
    ]

    def f(X):
        return (X[:, 0] - 0.3) ** 2 + (X[:, 1] - 0.77) ** 2 + (X[:, 2] - 0.2) ** 2 + X[:, 3]

    X, y, props = _run(f, dims, seed=0, n_calls=20, n_startup=5)
    assert [p.info["phase"] for p in props[5:]] == ["model"] * 15
    for x in X:
        _assert_valid(x, dims)
    best = X[np.argmin(y)]
    assert best[0] == 0.35
    assert best[3] == 0.0


def test_large_discrete_space_without_enumeration_respects_levels_and_exclude():
    dims = [Dim("discrete", levels=np.linspace(0, 1, 30))] * 3  # 27,000 combos > 20,000
    assert _gp._Space.from_dims(dims).finite_size() > _gp._MAX_FINITE
    X, _y, _props = _run(
        lambda X: np.sum((X - 0.5) ** 2, axis=1), dims, seed=0, n_calls=20, use_exclude=True
    )
    assert len({tuple(r) for r in X}) == len(X) == 20
    for x in X:
        _assert_valid(x, dims)


# ---------------------------------------------------------------------------------------------
# startup
# ---------------------------------------------------------------------------------------------
def test_startup_points_fill_the_space():
    X, _, props = _run(lambda X: X[:, 0], [CONT], seed=0, n_calls=10, n_startup=10)
    assert all(p.info["phase"] == "startup" and p.state is None for p in props)
    gaps = np.diff(np.sort(np.concatenate([[0.0], X[:, 0], [1.0]])))
    assert gaps.max() < 0.25  # ten i.i.d. uniforms leave a gap > 0.25 about half the time


def test_startup_points_follow_one_sobol_sequence_per_design_seed():
    dims = [CONT, CONT, CONT]
    pts = []
    X = np.empty((0, 3))
    for i in range(8):
        p = propose(X, np.zeros(i), dims, np.random.default_rng(100 + i), design_seed=42)
        assert p.info["phase"] == "startup"
        X = np.vstack([X, p.x])
        pts.append(p.x)
    # The same design whatever the per-call rng: the first 8 points of the sequence...
    expected = _gp._design(_gp._Space.from_dims(dims), 42, 8)[:8]
    np.testing.assert_allclose(np.array(pts), expected)
    # ...which stratify every axis into eighths, and sit no closer to the bounds than chance.
    for j in range(3):
        assert sorted(np.floor(X[:, j] * 8).astype(int)) == list(range(8))
    other = propose(np.empty((0, 3)), [], dims, np.random.default_rng(0), design_seed=43)
    assert not np.allclose(other.x, pts[0])


def test_startup_skips_design_points_that_already_ran_or_are_pending():
    dims = [CONT, CONT]
    design = _gp._design(_gp._Space.from_dims(dims), 5, 8)
    # Points 0 and 2 ran (after a round trip through parameter units), point 1 is pending.
    X = design[[0, 2]] + 1e-9
    p = propose(X, [1.0, 2.0], dims, np.random.default_rng(0), pending=design[1:2], design_seed=5)
    np.testing.assert_allclose(p.x, design[3])


def test_startup_avoids_pending_and_exclude_in_discrete_spaces():
    dims = [Dim("categorical", n_choices=3), Dim("discrete", levels=np.array([0.0, 0.5, 1.0]))]
    pending = np.array([[0.0, 0.0], [1.0, 0.5], [2.0, 1.0]])
    exclude = np.array([[0.0, 0.5], [1.0, 1.0], [2.0, 0.0], [2.0, 0.5]])
    taken = {tuple(r) for r in np.vstack([pending, exclude])}
    for seed in range(20):
        p = propose(
            np.empty((0, 2)),
            [],
            dims,
            np.random.default_rng(seed),
            pending=pending,
            exclude=exclude,
        )
        assert p.info["phase"] == "startup"
        _assert_valid(p.x, dims)
        assert tuple(p.x) not in taken
    # Two free combinations are left: (0, 1.0) and (1, 0.0).
    p = propose(
        np.empty((0, 2)),
        [],
        dims,
        np.random.default_rng(0),
        pending=pending,
        exclude=np.vstack([exclude, [[0.0, 1.0], [1.0, 0.0]]]),
    )
    assert p.x is None
    assert p.info["phase"] == "exhausted"


def test_startup_avoids_pending_in_continuous_space():
    rng = np.random.default_rng(0)
    first = propose(np.empty((0, 2)), [], [CONT, CONT], np.random.default_rng(1))
    second = propose(
        np.empty((0, 2)), [], [CONT, CONT], np.random.default_rng(1), pending=first.x[None]
    )
    assert np.max(np.abs(first.x - second.x)) > _gp._PENDING_TOL
    del rng


# ---------------------------------------------------------------------------------------------
# determinism and state
# ---------------------------------------------------------------------------------------------
def test_same_inputs_and_rng_state_give_the_same_proposals():
    dims, _, _, _ = _mixed_problem()

    def f(X):
        return np.sin(5 * X[:, 0]) + X[:, 1] + (X[:, 2] == 1) + X[:, 3] ** 2

    a = _run(f, dims, seed=11, n_calls=15, n_startup=5)
    b = _run(f, dims, seed=11, n_calls=15, n_startup=5)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[2][-1].state == b[2][-1].state


def test_large_history_uses_a_capped_deterministic_subset():
    rng = np.random.default_rng(0)
    X = rng.random((1000, 6))
    y = np.sum((X - 0.3) ** 2, axis=1)
    dims = [CONT] * 6
    fitted = propose(X, y, dims, np.random.default_rng(1))
    assert fitted.info["n_model"] == _gp._MAX_MODEL_POINTS
    assert fitted.state is not None
    assert fitted.state.n_fit == 1000
    p1 = propose(X, y, dims, np.random.default_rng(2), state=fitted.state, refit=False)
    p2 = propose(X, y, dims, np.random.default_rng(2), state=fitted.state, refit=False)
    assert p1.info["fit"] == "kept"
    assert p1.state is fitted.state
    np.testing.assert_array_equal(p1.x, p2.x)
    idx = _gp._select_subset(y, np.random.default_rng(3))
    assert idx.size == 256
    assert np.unique(idx).size == 256
    assert set(np.argsort(y)[: _gp._N_BEST]) <= set(idx)
    assert set(range(1000 - _gp._N_RECENT, 1000)) <= set(idx)


def test_state_round_trips_through_json_and_warm_starts():
    dims, _, X, y = _mixed_problem(5)
    p = propose(X, y, dims, np.random.default_rng(0))
    assert p.state is not None
    assert p.state.fitted
    restored = GPState.from_dict(json.loads(json.dumps(p.state.to_dict())))
    assert restored == p.state
    kept = propose(X, y, dims, np.random.default_rng(0), state=restored, refit=False)
    assert kept.info["fit"] == "kept"
    assert kept.state == restored
    warm = propose(X, y, dims, np.random.default_rng(0), state=restored, refit=True)
    assert warm.info["fit"] == "warm"
    for a, b in zip(
        warm.state.log_inv_sq_lengthscales, p.state.log_inv_sq_lengthscales, strict=True
    ):
        assert a == pytest.approx(b, abs=0.5)


def test_incompatible_state_is_ignored():
    dims, _, X, y = _mixed_problem(6)
    wrong = GPState((0.0, 0.0), 0.0, -4.0, n_fit=3, kinds=("continuous", "continuous"))
    p = propose(X, y, dims, np.random.default_rng(0), state=wrong, refit=False)
    assert p.info["phase"] == "model"
    assert p.info["fit"] == "default-start"
    assert len(p.state.log_inv_sq_lengthscales) == 4


def test_gpstate_from_dict_rejects_garbage():
    with pytest.raises(ValueError, match="GPState"):
        GPState.from_dict({"log_amplitude": 0.0})
    with pytest.raises(ValueError, match="finite"):
        GPState.from_dict(
            {"log_inv_sq_lengthscales": [math.nan], "log_amplitude": 0.0, "log_noise": 0.0}
        )


# ---------------------------------------------------------------------------------------------
# degenerate input and failure handling
# ---------------------------------------------------------------------------------------------
def test_no_observations():
    p = propose(np.empty((0, 3)), np.empty(0), [CONT] * 3, np.random.default_rng(0))
    assert p.info["phase"] == "startup"
    assert p.state is None
    _assert_valid(p.x, [CONT] * 3)
    p0 = propose(np.empty((0, 3)), np.empty(0), [CONT] * 3, np.random.default_rng(0), n_startup=0)
    assert p0.info["phase"] == "startup"


def test_one_dimension_and_one_observation():
    p = propose(np.array([0.5]), np.array([1.0]), [CONT], np.random.default_rng(0), n_startup=0)
    assert p.info["phase"] == "startup"
    _assert_valid(p.x, [CONT])


def test_all_equal_objective_stays_in_startup():
    X = np.random.default_rng(0).random((20, 2))
    p = propose(X, np.full(20, 3.25), [CONT, CONT], np.random.default_rng(0))
    assert p.info["phase"] == "startup"
    assert "distinct" in p.info["reason"]
    _assert_valid(p.x, [CONT, CONT])


def test_duplicate_rows_with_conflicting_values():
    rng = np.random.default_rng(0)
    X = np.vstack([np.tile([[0.2, 0.8]], (25, 1)), rng.random((6, 2))])
    y = np.concatenate([rng.normal(size=25), rng.normal(size=6)])
    p = propose(X, y, [CONT, CONT], np.random.default_rng(1))
    assert p.info["phase"] == "model"
    _assert_valid(p.x, [CONT, CONT])
    assert math.exp(p.state.log_noise) > 1e-3  # the conflict is explained as noise


@pytest.mark.parametrize("scale", [1e-300, 1e-150, 1.0, 1e150, 1e300])
def test_objective_scale_does_not_matter(scale):
    X = np.random.default_rng(0).random((14, 2))
    y = _branin01(X) / 310.0  # values in [0, 1]
    ref = propose(X, y, [CONT, CONT], np.random.default_rng(4))
    p = propose(X, y * scale, [CONT, CONT], np.random.default_rng(4))
    assert p.info["phase"] == "model"
    np.testing.assert_allclose(p.x, ref.x, atol=1e-6)


def test_huge_values_of_both_signs():
    X = np.random.default_rng(0).random((12, 1))
    y = np.where(X[:, 0] > 0.5, 1.7e308, -1.7e308) * X[:, 0]
    p = propose(X, y, [CONT], np.random.default_rng(0))
    assert p.info["phase"] == "model"
    _assert_valid(p.x, [CONT])


def test_twenty_dimensions():
    rng = np.random.default_rng(0)
    dims = [CONT] * 14 + [Dim("discrete", levels=np.linspace(0, 1, 4))] * 3
    dims += [Dim("categorical", n_choices=5)] * 3
    space = _gp._Space.from_dims(dims)
    X = space.from_unit(rng.random((40, 20)))
    y = np.sum((X[:, :14] - 0.5) ** 2, axis=1) + X[:, 17]
    p = propose(X, y, dims, np.random.default_rng(1))
    assert p.info["phase"] == "model"
    _assert_valid(p.x, dims)


def test_non_finite_rows_are_dropped_not_fatal():
    X = np.random.default_rng(0).random((14, 2))
    y = _branin01(X)
    y[3] = np.nan
    X[5, 1] = np.inf
    p = propose(X, y, [CONT, CONT], np.random.default_rng(0))
    assert p.info["phase"] == "model"
    assert p.info["n_obs"] == 12


def test_numerical_failure_falls_back_to_a_seeded_random_point(monkeypatch):
    def boom(*args, **kwargs):
        raise np.linalg.LinAlgError("simulated")

    monkeypatch.setattr(_gp, "_build_posterior", boom)
    dims, _, X, y = _mixed_problem(0)
    p1 = propose(X, y, dims, np.random.default_rng(3))
    p2 = propose(X, y, dims, np.random.default_rng(3))
    assert p1.info["phase"] == "fallback"
    assert "simulated" in p1.info["reason"]
    _assert_valid(p1.x, dims)
    np.testing.assert_array_equal(p1.x, p2.x)


def test_failed_fit_uses_unfitted_defaults(monkeypatch):
    def boom(*args, **kwargs):
        raise np.linalg.LinAlgError("simulated")

    monkeypatch.setattr(_gp, "_neg_log_posterior", boom)
    dims, _, X, y = _mixed_problem(0)
    p = propose(X, y, dims, np.random.default_rng(3))
    assert p.info["phase"] == "model"
    assert p.info["fit"] == "defaults-unfitted"
    assert p.state is not None
    assert not p.state.fitted
    _assert_valid(p.x, dims)


def test_cholesky_escalates_jitter_and_then_gives_up():
    K = np.ones((4, 4))  # rank one: needs jitter
    L = _gp._cholesky(K)
    assert np.allclose(L @ L.T, K, atol=1e-6)
    with pytest.raises(np.linalg.LinAlgError):
        _gp._cholesky(-np.eye(3))
    with pytest.raises(np.linalg.LinAlgError):
        _gp._cholesky(np.full((2, 2), np.nan))


def test_invalid_dims_and_shapes_raise():
    with pytest.raises(ValueError, match="kind"):
        Dim("ordinal")
    with pytest.raises(ValueError, match="levels"):
        Dim("discrete")
    with pytest.raises(ValueError, match="levels"):
        Dim("discrete", levels=np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match="n_choices"):
        Dim("categorical")
    with pytest.raises(ValueError, match="shape"):
        propose(np.zeros((3, 2)), np.zeros(3), [CONT], np.random.default_rng(0))
    with pytest.raises(ValueError, match="rows"):
        propose(np.zeros((3, 1)), np.zeros(4), [CONT], np.random.default_rng(0))
    assert Dim("discrete", levels=[0.5, 0.0]) == Dim("discrete", levels=np.array([0.0, 0.5]))
    assert len({Dim("categorical", n_choices=2), Dim("categorical", n_choices=2)}) == 1


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(
    kinds=st.lists(
        st.sampled_from(["continuous", "discrete", "categorical"]), min_size=1, max_size=4
    ),
    n=st.integers(0, 14),
    n_pending=st.integers(0, 3),
    ymode=st.sampled_from(["normal", "constant", "huge", "tiny", "two-valued"]),
    seed=st.integers(0, 2**16),
)
def test_propose_never_crashes_and_returns_valid_points(kinds, n, n_pending, ymode, seed):
    rng = np.random.default_rng(seed)
    dims = [
        Dim("discrete", levels=np.sort(rng.random(int(rng.integers(1, 6)))))
        if k == "discrete"
        else Dim("categorical", n_choices=int(rng.integers(1, 4)))
        if k == "categorical"
        else CONT
        for k in kinds
    ]
    space = _gp._Space.from_dims(dims)
    X = space.from_unit(rng.random((n, len(dims))))
    y = {
        "normal": rng.normal(size=n),
        "constant": np.ones(n),
        "huge": rng.normal(size=n) * 1e305,
        "tiny": rng.normal(size=n) * 1e-305,
        "two-valued": rng.integers(2, size=n).astype(float),
    }[ymode]
    pending = space.from_unit(rng.random((n_pending, len(dims))))
    p = propose(X, y, dims, rng, pending=pending, exclude=X, n_startup=3)
    assert isinstance(p, Proposal)
    assert p.info["phase"] in {"startup", "model", "exhausted", "fallback"}
    if p.x is None:
        assert p.info["phase"] == "exhausted"
        size = space.finite_size()
        assert size is not None
        assert size <= n + n_pending
    else:
        _assert_valid(p.x, dims)
        assert not any(np.array_equal(p.x, r) for r in X)
        if p.info["phase"] != "fallback":
            assert p.info["phase"] != "model" or np.isfinite(p.info["log_ei"])
