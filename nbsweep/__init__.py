"""nbsweep: hyperparameter sweeps that live in the notebook.

Define a sweep with a W&B sweep config, start it with one line, run an agent with one more:

>>> import nbsweep
>>> config = {"method": "random", "metric": {"name": "loss"},
...           "parameters": {"x": {"min": 0.0, "max": 1.0}}}
>>> nbsweep.validate(config)["metric"]["goal"]
'minimize'
"""

from nbsweep._api import agent, finish, init, log, sweep
from nbsweep._sweep import Sweep, SweepStateError
from nbsweep._warnings import AgentWarning, ConfigWarning, MetricWarning, NbsweepWarning
from nbsweep.agent import AgentHandle, AgentProgress, RunError
from nbsweep.config import ConfigError, SweepConfig, validate
from nbsweep.run import ConfigLockedError, Run, RunFinishedError, StopRun
from nbsweep.run._stored import StoredRun
from nbsweep.store import RunNotFoundError, StoreNotFoundError, SweepNotFoundError, open_store

__version__ = "0.1.0"


def _load(run_id: str, *, store: object = None) -> StoredRun:
    """Read any stored run, of a sweep or standalone.

    Examples
    --------
    >>> import tempfile, os, nbsweep
    >>> path = os.path.join(tempfile.mkdtemp(), "n.db")
    >>> with nbsweep.init(config={"a": 1}, store=path) as run:
    ...     pass
    >>> nbsweep.Run.load(run.id, store=path).state
    'finished'
    """
    target = open_store(store, create=False)  # type: ignore[arg-type]
    return StoredRun(target, target.get_run(run_id))


Run.load = staticmethod(_load)  # type: ignore[attr-defined]

# Show the public classes where users import them from, not the private modules that
# define them (tracebacks then read "nbsweep.ConfigError").
for _cls in (
    AgentHandle,
    AgentProgress,
    AgentWarning,
    ConfigError,
    ConfigLockedError,
    ConfigWarning,
    MetricWarning,
    NbsweepWarning,
    Run,
    RunError,
    RunFinishedError,
    RunNotFoundError,
    StopRun,
    StoreNotFoundError,
    StoredRun,
    Sweep,
    SweepConfig,
    SweepNotFoundError,
    SweepStateError,
):
    _cls.__module__ = "nbsweep"
del _cls

__all__ = [
    "AgentHandle",
    "AgentProgress",
    "AgentWarning",
    "ConfigError",
    "ConfigLockedError",
    "ConfigWarning",
    "MetricWarning",
    "NbsweepWarning",
    "Run",
    "RunError",
    "RunFinishedError",
    "RunNotFoundError",
    "StopRun",
    "StoreNotFoundError",
    "StoredRun",
    "Sweep",
    "SweepConfig",
    "SweepNotFoundError",
    "SweepStateError",
    "__version__",
    "agent",
    "builder",
    "finish",
    "init",
    "log",
    "sweep",
    "validate",
]


def __getattr__(name: str) -> object:
    # The builder pulls in ipywidgets and the plotting stack; load it when first asked for,
    # so `import nbsweep` (and every command-line call) stays quick.
    if name == "builder":
        from nbsweep.views._builder import builder

        return builder
    raise AttributeError(f"module 'nbsweep' has no attribute {name!r}")
