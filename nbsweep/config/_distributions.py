"""The parameter forms W&B sweeps accept: which keys each takes and which it requires.

This table is the single source that validation, the space layer and the config builder
read, so a form is described in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DISTRIBUTIONS", "GRID_KINDS", "LEGACY_LOG", "PARAM_KEYS", "DistributionForm"]


@dataclass(frozen=True)
class DistributionForm:
    """Keys of one distribution.

    Attributes
    ----------
    name
        The ``distribution`` value, e.g. ``q_log_uniform_values``.
    required
        Keys the spec must give.
    defaults
        Optional keys and the value W&B fills in when they are left out.
    """

    name: str
    required: tuple[str, ...]
    defaults: tuple[tuple[str, object], ...] = ()

    @property
    def keys(self) -> frozenset[str]:
        """Every key this form accepts, ``distribution`` included."""
        return frozenset(self.required) | {k for k, _ in self.defaults} | {"distribution"}


def _form(name: str, *required: str, **defaults: object) -> DistributionForm:
    return DistributionForm(name, required, tuple(defaults.items()))


DISTRIBUTIONS: dict[str, DistributionForm] = {
    form.name: form
    for form in (
        _form("constant", "value"),
        _form("categorical", "values"),
        _form("categorical_w_probabilities", "values", "probabilities"),
        _form("int_uniform", "min", "max"),
        _form("uniform", "min", "max"),
        _form("q_uniform", "min", "max", q=1.0),
        _form("log_uniform", "min", "max"),
        _form("log_uniform_values", "min", "max"),
        _form("q_log_uniform", "min", "max", q=1.0),
        _form("q_log_uniform_values", "min", "max", q=1.0),
        _form("inv_log_uniform", "min", "max"),
        _form("inv_log_uniform_values", "min", "max"),
        _form("normal", mu=0.0, sigma=1.0),
        _form("q_normal", mu=0.0, sigma=1.0, q=1.0),
        _form("log_normal", mu=0.0, sigma=1.0),
        _form("q_log_normal", mu=0.0, sigma=1.0, q=1.0),
        _form("beta", a=1.0, b=1.0),
        _form("q_beta", a=1.0, b=1.0, q=1.0),
    )
}

# Forms whose bounds are natural-log exponents (W&B's first version of the log forms).
LEGACY_LOG: dict[str, str] = {
    "log_uniform": "log_uniform_values",
    "q_log_uniform": "q_log_uniform_values",
    "inv_log_uniform": "inv_log_uniform_values",
}

# Forms a grid can enumerate.
GRID_KINDS = frozenset({"constant", "categorical", "int_uniform", "q_uniform"})

PARAM_KEYS = frozenset().union(*(form.keys for form in DISTRIBUTIONS.values()))
