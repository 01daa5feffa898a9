"""Which run ``nbsweep.init()`` and ``nbsweep.log()`` mean.

An agent sets its claimed run in a context variable of the thread that runs the function, so
a background agent and the notebook's own cells never see each other's runs. A standalone
run (``nbsweep.init()`` outside an agent) is process-wide, like W&B's ``wandb.run``. Nothing
of an agent survives after it returns.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import logging
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbsweep.run._run import Run

__all__ = [
    "RUN_ID_ENV",
    "SWEEP_ID_ENV",
    "agent_run",
    "current_run",
    "set_standalone",
    "standalone_run",
    "using_agent_run",
]

logger = logging.getLogger(__name__)

# A program agent starts each run's process with these set, so nbsweep.init() there
# returns the run the agent claimed.
RUN_ID_ENV = "NBSWEEP_RUN_ID"
SWEEP_ID_ENV = "NBSWEEP_SWEEP_ID"

_agent_run: contextvars.ContextVar[Run | None] = contextvars.ContextVar(
    "nbsweep_agent_run", default=None
)
_standalone: Run | None = None
_active: list[Run] = []
_active_lock = threading.Lock()


def agent_run() -> Run | None:
    """The run an agent is executing in this thread, if any.

    A thread that the run's function starts itself does not inherit the context; there, if
    exactly one agent run is active in the process, that is the run (never in the main
    thread, where a notebook's own cells run while a background agent works).
    """
    run = _agent_run.get()
    if run is not None or threading.current_thread() is threading.main_thread():
        return run
    with _active_lock:
        active = list(_active)
    if len(active) > 1:
        raise RuntimeError(
            f"nbsweep.init() or nbsweep.log() was called from a thread that no agent started, "
            f"while {len(active)} agent runs are active; pass the run object to that thread"
        )
    return active[0] if active else None


def standalone_run() -> Run | None:
    """The open standalone run of this process, if any."""
    return _standalone if _standalone is not None and not _standalone.finished else None


def current_run() -> Run | None:
    """The run ``nbsweep.log`` writes to: the agent's, else the standalone one."""
    return agent_run() or standalone_run()


def set_standalone(run: Run | None) -> None:
    """Make ``run`` the process's standalone run."""
    global _standalone
    _standalone = run


@contextlib.contextmanager
def using_agent_run(run: Run) -> Iterator[None]:
    """Make ``run`` the current run of this thread for the duration of the block."""
    token = _agent_run.set(run)
    with _active_lock:
        _active.append(run)
    try:
        yield
    finally:
        _agent_run.reset(token)
        with _active_lock:
            _active.remove(run)


def _on_uncaught(exc_type: Any, exc: BaseException, tb: Any) -> None:
    """Fail the open run when the script dies of an uncaught exception, then report as usual."""
    run = standalone_run()
    if run is not None and isinstance(exc, Exception):
        from nbsweep.run._run import _format_error

        try:
            run.finish(state="failed", error=_format_error(exc))
        except Exception:
            logger.exception("could not mark run %s failed", run.id)
    _previous_hook(exc_type, exc, tb)


_previous_hook = sys.excepthook
sys.excepthook = _on_uncaught


@atexit.register
def _finish_standalone() -> None:
    run = standalone_run()
    if run is None:
        return
    try:
        if run.launched_by_agent:
            # The program agent that started this process decides from its exit status.
            run._flush()
        else:
            run.finish()
    except Exception:
        logger.exception("could not finish run %s at exit", run.id)
