"""Parse and validate W&B sweep configs (dicts, YAML text or YAML files)."""

from nbsweep.config._canonical import canonical, canonical_key
from nbsweep.config._distributions import DISTRIBUTIONS, GRID_KINDS, LEGACY_LOG
from nbsweep.config._errors import ConfigError, Problem
from nbsweep.config._loader import load_config, loads_yaml
from nbsweep.config._sweep_config import SweepConfig, validate
from nbsweep.config._validate import COMMAND_MACROS, hyperband_bands

__all__ = [
    "COMMAND_MACROS",
    "DISTRIBUTIONS",
    "GRID_KINDS",
    "LEGACY_LOG",
    "ConfigError",
    "Problem",
    "SweepConfig",
    "canonical",
    "canonical_key",
    "hyperband_bands",
    "load_config",
    "loads_yaml",
    "validate",
]


def __getattr__(name: str) -> object:
    # ``wandb.config.lr`` is a habit: nbsweep.config is this module, the run's values are on
    # the run.
    raise AttributeError(
        f"module 'nbsweep.config' has no attribute {name!r}; the values of the current run "
        f"are on the run: run = nbsweep.init(); run.config.{name}"
    )
