"""The 75 real sweep configs from public repositories, and what a correct tool does with each."""

from __future__ import annotations

import warnings

import pytest
import yaml
from testdata import DATA

import nbsweep
from nbsweep import ConfigError, ConfigWarning
from nbsweep.controller import claim_next_run
from nbsweep.space import Space

FOLDER = DATA / "real-configs"
EXPECTATIONS = yaml.safe_load((FOLDER / "expectations.yaml").read_text())

# Grid sizes the expectations state.
GRID_SIZES = {
    "004": 14580,
    "015": 8,
    "021": 8,
    "054": 42,
    "057": 81,
    "065": 480,
    "068": 1386,
    "072": 480,
}
# Configs that must come with a warning, and what it is about.
WARNS = {
    "002": "log_uniform takes natural-log exponents",
    "031": "log_uniform takes natural-log exponents",
    "034": "log_uniform takes natural-log exponents",
    "048": "log_uniform takes natural-log exponents",
    "060": "the same value more than once",
    "011": "Launch",
    "022": "Launch",
    "061": "no ${args",
    "067": "no ${args",
}


def load(row):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            cfg = nbsweep.validate(FOLDER / row["file"])
        except ConfigError as err:
            return None, err, seen
    return cfg, None, seen


@pytest.mark.parametrize("row", EXPECTATIONS, ids=lambda r: r["id"])
def test_real_config(row):
    cfg, err, seen = load(row)
    if row["expect"] == "reject":
        assert err is not None, row["what_a_correct_tool_does"]
        assert all(p.message for p in err.problems)
        return
    assert err is None, f"{row['what_a_correct_tool_does']}: {err}"
    messages = [str(w.message) for w in seen if issubclass(w.category, ConfigWarning)]
    if row["id"] in WARNS:
        assert any(WARNS[row["id"]] in m for m in messages), messages
    space = Space(cfg)
    if row["id"] in GRID_SIZES:
        assert space.grid_size() == GRID_SIZES[row["id"]]


@pytest.mark.parametrize(
    "row", [r for r in EXPECTATIONS if r["expect"] == "accept"], ids=lambda r: r["id"]
)
def test_real_config_makes_a_run(row):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConfigWarning)
        sweep_id = nbsweep.sweep(FOLDER / row["file"], seed=1)
    store = nbsweep.open_store()
    claim = claim_next_run(store, sweep_id)
    assert claim.status == "claimed"
    space = Space(nbsweep.Sweep(sweep_id).config)
    flat = space.flatten(claim.run.config)
    assert set(flat) == set(space.names)
    for param in space:
        assert param.distribution.contains(flat[param.name]), (param.name, flat[param.name])


def test_yaml_12_numbers_in_real_configs():
    cfg = nbsweep.validate(FOLDER / "072-Theosdoor-list-comp-list-comp-grid.yaml")
    assert cfg["parameters"]["lr"]["values"] == [1e-5, 1e-4, 1e-3, 1e-2]
    cfg = nbsweep.validate(FOLDER / "051-HobbitLong-SupContrast-supcon-bayes.yaml")
    assert "None" in repr(cfg["parameters"])  # the string 'None', not null
