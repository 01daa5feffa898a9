"""The public functions: ``sweep``, ``agent``, ``init``, ``log``."""

from __future__ import annotations

import difflib
import logging
import os
import random
from collections.abc import Callable, Mapping
from typing import Any

from nbsweep._sweep import check_sweep_id
from nbsweep.agent import AgentHandle, in_kernel, start_agent
from nbsweep.config import validate
from nbsweep.controller import sweep_space
from nbsweep.run import Run, StopRun, deep_merge
from nbsweep.run._current import RUN_ID_ENV, agent_run, set_standalone, standalone_run
from nbsweep.store import SQLiteStore, new_id, open_store

__all__ = ["agent", "finish", "init", "log", "sweep"]

logger = logging.getLogger(__name__)

StoreArg = str | os.PathLike[str] | SQLiteStore | None

# Keyword arguments of wandb.init that mean nothing without W&B's server; accepted so that
# training code written for W&B runs unchanged.
_WANDB_INIT_ONLY = frozenset(
    {
        "project",
        "entity",
        "tags",
        "notes",
        "group",
        "job_type",
        "mode",
        "reinit",
        "dir",
        "settings",
        "save_code",
        "anonymous",
        "allow_val_change",
        "resume",
        "sync_tensorboard",
        "monitor_gym",
        "magic",
        "id",
    }
)


def sweep(
    config: Mapping[str, Any] | str | os.PathLike[str],
    *,
    store: StoreArg = None,
    seed: int | None = None,
    name: str | None = None,
    project: str | None = None,
    entity: str | None = None,
) -> str:
    """Create a sweep from a W&B sweep config and return its id.

    ``config`` is a dict, YAML text, or a path to a ``.yaml``/``.yml`` file. It is validated
    first; a bad config raises :class:`nbsweep.ConfigError` and stores nothing. ``seed`` makes
    random and bayes search reproducible (one is drawn and stored when not given).

    Examples
    --------
    >>> import tempfile, os, nbsweep
    >>> sweep_id = nbsweep.sweep(
    ...     {"method": "random", "parameters": {"lr": {"min": 0.001, "max": 0.1}}},
    ...     store=os.path.join(tempfile.mkdtemp(), "nbsweep.db"), seed=0)
    >>> len(sweep_id)
    8
    """
    del project, entity  # wandb.sweep's arguments, accepted so W&B code runs; no server here
    normalized = validate(config)
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)
    elif isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ValueError(f"seed must be a whole number from 0 to 2**63 - 1, got {seed!r}")
    target = open_store(store)
    sweep_id = new_id()
    target.create_sweep(
        sweep_id, normalized.to_dict(), name=name or normalized.get("name"), seed=seed
    )
    logger.info("created sweep %s in %s", sweep_id, target.path)
    return sweep_id


def agent(
    sweep_id: str,
    function: Callable[[], Any],
    count: int | None = None,
    *,
    store: StoreArg = None,
    background: bool | None = None,
    max_consecutive_failures: int | None = 5,
    verbose: bool | None = None,
    display: bool = True,
) -> AgentHandle:
    """Run ``function`` once per run of the sweep, ``count`` times or until the sweep is done.

    Inside ``function`` call ``nbsweep.init()`` to get the run and its config. A function
    that raises fails its run (the traceback is kept) and the agent goes on; after
    ``max_consecutive_failures`` failures in a row (None: never) it stops and shows the
    last error.

    In a Jupyter kernel the agent runs on a background thread (``background=True``) and this
    returns at once with a handle, showing the sweep's live dashboard under the cell
    (:class:`nbsweep.views.Dashboard`: progress, parallel coordinates, importance, runs and
    curves; ``display=False`` turns that off); call ``handle.wait()`` to block and
    ``handle.stop()`` to stop. In a plain script it blocks until done.

    Examples
    --------
    >>> import tempfile, os, nbsweep
    >>> store = os.path.join(tempfile.mkdtemp(), "nbsweep.db")
    >>> sweep_id = nbsweep.sweep({"method": "random", "metric": {"name": "loss"},
    ...                           "parameters": {"x": {"min": 0.0, "max": 1.0}}}, store=store)
    >>> def train():
    ...     run = nbsweep.init()
    ...     run.log({"loss": (run.config.x - 0.3) ** 2})
    >>> handle = nbsweep.agent(sweep_id, function=train, count=3, store=store, verbose=False)
    >>> handle.progress.finished
    3
    """
    check_sweep_id(sweep_id)
    target = open_store(store, create=False)
    target.get_sweep(sweep_id)  # a wrong id fails here, naming close ones
    view = None
    kernel = in_kernel()
    if display and kernel:
        from nbsweep.views import Dashboard

        def view(handle: AgentHandle) -> Dashboard:
            return Dashboard(sweep_id, store=target, handle=handle)

    handle = start_agent(
        target,
        sweep_id,
        function,
        count=count,
        background=background,
        max_consecutive_failures=max_consecutive_failures,
        verbose=verbose,
        view=view,
    )
    if handle.view is not None:
        from IPython import get_ipython

        handle.view.show()
        handle._displayed_at = getattr(get_ipython(), "execution_count", None)
    handle.start()
    return handle


def init(
    config: Mapping[str, Any] | None = None,
    *,
    store: StoreArg = None,
    name: str | None = None,
    **kwargs: Any,
) -> Run:
    """The current run: inside an agent's function, the run it claimed; else a new one.

    Inside an agent, ``config`` gives defaults that the sweep's values override (nested dicts
    are merged); the sweep's values cannot be changed. Outside an agent this starts a
    standalone run with ``config``, finishing any standalone run still open. W&B's
    ``project``, ``entity``, ``tags`` and similar arguments are accepted and ignored.

    Examples
    --------
    >>> import tempfile, os, nbsweep
    >>> run = nbsweep.init(config={"lr": 0.01}, store=os.path.join(tempfile.mkdtemp(), "i.db"))
    >>> run.config.lr
    0.01
    >>> run.finish()
    """
    unknown = set(kwargs) - _WANDB_INIT_ONLY
    if unknown:
        key = sorted(unknown)[0]
        close = difflib.get_close_matches(key, ["config", "store", "name"], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise TypeError(f"nbsweep.init() got an unexpected keyword argument {key!r}{hint}")
    current = agent_run()
    if current is not None:
        if config:
            _merge_defaults(current, config)
        return current
    attached = _attach_from_env(store)
    if attached is not None:
        if config:
            _merge_defaults(attached, config)
        return attached
    previous = standalone_run()
    if previous is not None:
        logger.info("finished the open run %s before starting a new one", previous.id)
        previous.finish()
    target = open_store(store)
    record = target.create_run(new_id(), dict(config or {}), name=name)
    run = Run(target, record)
    set_standalone(run)
    return run


def _merge_defaults(run: Run, defaults: Mapping[str, Any]) -> None:
    merged = deep_merge(defaults, run._config_data)
    run._config_data.clear()
    run._config_data.update(merged)
    run._config_changed()


def _attach_from_env(store: StoreArg) -> Run | None:
    """The run a program agent launched this process for, if any (see ``nbsweep agent``)."""
    run_id = os.environ.get(RUN_ID_ENV)
    if not run_id:
        return None
    existing = standalone_run()
    if existing is not None and existing.id == run_id:
        return existing
    target = open_store(store)
    record = target.get_run(run_id, with_output=False)
    if record.state != "running":
        # Never train on defaults in a stray run: the agent's run ended before we got here.
        why = f": {record.stop_reason}" if record.stop_reason else ""
        raise StopRun(f"run {run_id} is {record.state} already{why}")
    metric_name, goal, early = None, "minimize", None
    if record.sweep_id is not None:
        config, _ = sweep_space(target, target.get_sweep(record.sweep_id))
        metric_name, goal, early = config.metric_name, config.goal, config.early_terminate
    run = Run(
        target,
        record,
        metric_name=metric_name,
        goal=goal,
        locked=record.config,
        early_terminate=early,
    )
    run.launched_by_agent = True
    set_standalone(run)
    return run


def log(data: Mapping[str, Any], step: int | None = None) -> None:
    """Log to the current run (see :meth:`nbsweep.Run.log`).

    Examples
    --------
    >>> import tempfile, os, nbsweep
    >>> run = nbsweep.init(store=os.path.join(tempfile.mkdtemp(), "g.db"))
    >>> nbsweep.log({"loss": 1.0})
    >>> run.summary["loss"]
    1.0
    >>> run.finish()
    """
    run = agent_run() or standalone_run()
    if run is None:
        raise RuntimeError("nbsweep.log: no run is open; call nbsweep.init() first")
    run.log(data, step=step)


def finish(exit_code: int | None = None) -> None:
    """Finish the current run (see :meth:`nbsweep.Run.finish`)."""
    run = agent_run() or standalone_run()
    if run is not None:
        run.finish(exit_code)
