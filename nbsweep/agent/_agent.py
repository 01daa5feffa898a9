"""The function agent: claim a run, call the user's function, record, repeat.

In a Jupyter kernel the agent runs on a daemon thread and ``nbsweep.agent`` returns a handle
at once, so the notebook stays usable and the views update while runs go on. Interrupting
the kernel only interrupts the foreground cell (the thread lives on), so stopping is the
agent's own: ``handle.stop()`` (or the view's stop button) ends the current run as
``stopped`` at its next ``run.log`` and starts no new run. In a plain script, or with
``background=False``, the agent runs in the calling thread and blocks; Ctrl-C then stops the
current run as ``stopped`` and ends the agent.
"""

from __future__ import annotations

import collections
import inspect
import logging
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nbsweep._warnings import AgentWarning, MetricWarning
from nbsweep.agent._capture import capture_output
from nbsweep.agent._notes import metric_never_logged
from nbsweep.controller import claim_next_run, sweep_space
from nbsweep.run._current import set_standalone, standalone_run, using_agent_run
from nbsweep.run._run import Run, StopRun, _format_error
from nbsweep.store import RunRecord, SQLiteStore, new_id

__all__ = ["AgentHandle", "AgentProgress", "RunError", "in_kernel", "start_agent"]

logger = logging.getLogger(__name__)

_PAUSE_POLL_S = 1.0
_TAIL_LINES = 20
_EXIT_HINT = (
    " (the function called sys.exit; in a notebook this is often argparse reading the "
    "kernel's own arguments: use parser.parse_args([]) there)"
)
_USER_STOPS = frozenset({"stopped by user", "interrupted"})
_SIGNAL_HINT = (
    " (nbsweep ran this function on a background thread, where Python allows no signal "
    "handlers; run the agent with background=False to call it on the main thread)"
)


def in_kernel() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Notebook, VS Code, Colab)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


@dataclass(frozen=True)
class RunError:
    """A run whose function raised.

    Attributes
    ----------
    run_id
        The failed run.
    type, message
        The exception's class name and message.
    traceback
        The formatted traceback.
    """

    run_id: str
    type: str
    message: str
    traceback: str

    def __str__(self) -> str:
        return f"run {self.run_id}: {self.type}: {self.message}"


@dataclass(frozen=True)
class AgentProgress:
    """Counts of what an agent did so far.

    Attributes
    ----------
    state
        ``running``, ``finished`` (no more runs to do), ``stopped`` (asked to stop) or
        ``failed`` (too many failures in a row).
    message
        Why the agent ended, once it has.
    """

    state: str
    started: int
    finished: int
    failed: int
    stopped: int
    count: int | None
    current_run: str | None
    message: str = ""
    best_value: float | None = None
    best_run: str | None = None

    def __str__(self) -> str:
        total = f"/{self.count}" if self.count is not None else ""
        text = (
            f"{self.state}: {self.started}{total} runs started, {self.finished} finished, "
            f"{self.failed} failed, {self.stopped} stopped"
        )
        return f"{text}. {self.message}" if self.message else text


@dataclass
class _Counters:
    started: int = 0
    finished: int = 0
    failed: int = 0
    stopped: int = 0
    failures_in_a_row: int = 0
    current: str | None = None
    best_value: float | None = None
    best_run: str | None = None
    run_ids: list[str] = field(default_factory=list)


# Live agents of this process by sweep, so a second one on the same sweep is never silent.
_live: dict[str, list[AgentHandle]] = {}
_live_lock = threading.Lock()


class AgentHandle:
    """A running (or finished) agent.

    Returned by :func:`nbsweep.agent`. In a notebook the agent runs in the background: use
    :meth:`wait` to block until it ends, :meth:`stop` to stop it, and :attr:`progress` and
    :attr:`errors` to see how it went.

    Examples
    --------
    >>> import tempfile, os, nbsweep
    >>> store = os.path.join(tempfile.mkdtemp(), "a.db")
    >>> sweep_id = nbsweep.sweep({"method": "grid", "parameters": {"x": {"values": [1, 2]}}},
    ...                          store=store)
    >>> def train():
    ...     run = nbsweep.init()
    ...     run.log({"y": run.config.x * 2})
    >>> handle = nbsweep.agent(sweep_id, function=train, store=store, background=False,
    ...                        verbose=False)
    >>> handle.progress.finished, handle.progress.state
    (2, 'finished')
    """

    def __init__(
        self,
        store: SQLiteStore,
        sweep_id: str,
        function: Callable[[], Any],
        *,
        count: int | None,
        max_consecutive_failures: int | None,
        background: bool,
        verbose: bool,
    ) -> None:
        self.id = new_id()
        self.sweep_id = sweep_id
        self.store = store
        self._function = function
        self._count = count
        self._max_failures = max_consecutive_failures
        self._background = background
        self._verbose = verbose
        self._stop = threading.Event()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._counters = _Counters()
        self._state = "running"
        self._message = ""
        self._errors: list[RunError] = []
        self._notices: list[str] = []
        self._listeners: list[Callable[[AgentHandle], None]] = []
        self._thread: threading.Thread | None = None
        self._interrupted = False
        self._warned_metric = False
        self._output_tail: collections.deque[str] = collections.deque(maxlen=4 * _TAIL_LINES)
        self._output_run: str | None = None
        record = store.get_sweep(sweep_id)
        config, _ = sweep_space(store, record)
        self._metric_name = config.metric_name
        self._goal = config.goal
        self._early_terminate = config.early_terminate
        self._displayed_at: int | None = None
        self.view: Any = None

    # Public surface ----------------------------------------------------------------------

    @property
    def progress(self) -> AgentProgress:
        """How many runs were started, finished, failed and stopped, and the agent's state."""
        with self._lock:
            c = self._counters
            return AgentProgress(
                state=self._state,
                started=c.started,
                finished=c.finished,
                failed=c.failed,
                stopped=c.stopped,
                count=self._count,
                current_run=c.current,
                message=self._message,
                best_value=c.best_value,
                best_run=c.best_run,
            )

    @property
    def errors(self) -> list[RunError]:
        """Every run whose function raised, oldest first."""
        with self._lock:
            return list(self._errors)

    @property
    def notices(self) -> list[str]:
        """Things the agent wants the user to know (a metric never logged, a second agent)."""
        with self._lock:
            return list(self._notices)

    @property
    def output(self) -> tuple[str | None, str]:
        """The id of the latest run and the last lines it printed (all of it is stored)."""
        with self._lock:
            text = "".join(self._output_tail)
        return self._output_run, "\n".join(text.splitlines()[-_TAIL_LINES:])

    @property
    def run_ids(self) -> list[str]:
        """Ids of the runs this agent started, in order."""
        with self._lock:
            return list(self._counters.run_ids)

    @property
    def state(self) -> str:
        """``running``, ``finished``, ``stopped`` or ``failed``."""
        return self._state

    def is_alive(self) -> bool:
        """True while the agent may still start or finish runs."""
        return not self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the agent ends; True if it did within ``timeout`` seconds."""
        return self._done.wait(timeout)

    def stop(self, wait: bool = False, timeout: float | None = None) -> bool:
        """Ask the agent to stop: the current run ends as ``stopped`` at its next ``run.log``.

        No new run starts. With ``wait=True`` block until the agent has ended.
        """
        self._stop.set()
        if wait:
            return self.wait(timeout)
        return not self.is_alive()

    def subscribe(self, listener: Callable[[AgentHandle], None]) -> None:
        """Call ``listener(handle)`` from the agent's thread whenever something changes."""
        self._listeners.append(listener)

    def __repr__(self) -> str:
        return f"<nbsweep.AgentHandle {self.id} sweep={self.sweep_id} {self.progress}>"

    def _ipython_display_(self) -> None:
        from IPython.display import display

        ipython = sys.modules["IPython"].get_ipython()
        count = getattr(ipython, "execution_count", None)
        if self.view is not None and self._displayed_at == count:
            return  # already shown under this cell when the agent started
        if self.view is None:
            display(repr(self))  # type: ignore[no-untyped-call]
        else:
            display(self.view)  # type: ignore[no-untyped-call]

    # The loop ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the loop: on a thread when in the background, else here until it ends."""
        with _live_lock:
            others = [h for h in _live.get(self.sweep_id, []) if h.is_alive()]
            _live[self.sweep_id] = [*others, self]
        if others:
            note = (
                f"another agent ({others[0].id}) is already running sweep {self.sweep_id} in "
                "this kernel; both will claim runs. Stop it with its handle's stop() if that "
                "is not what you want."
            )
            self._notices.append(note)
            warnings.warn(note, AgentWarning, stacklevel=3)
        self.store.register_agent(self.id, self.sweep_id, "function")
        if self._background:
            self._thread = threading.Thread(
                target=self._loop, name=f"nbsweep-agent-{self.id}", daemon=True
            )
            self._thread.start()
        else:
            self._run_foreground()

    def _run_foreground(self) -> None:
        on_main = threading.current_thread() is threading.main_thread()
        previous = None
        if on_main:
            previous = signal.getsignal(signal.SIGINT)

            def on_interrupt(signum: int, frame: Any) -> None:
                # The KeyboardInterrupt reaches the function, which may handle it itself;
                # either way the agent starts no new run after this one.
                self._interrupted = True
                if callable(previous):
                    previous(signum, frame)
                else:
                    raise KeyboardInterrupt

            signal.signal(signal.SIGINT, on_interrupt)
        try:
            self._loop()
        finally:
            if on_main:
                signal.signal(signal.SIGINT, previous)

    def _loop(self) -> None:
        try:
            while True:
                reason = self._why_stop_before_claim()
                if reason:
                    self._end(*reason)
                    return
                claim = claim_next_run(self.store, self.sweep_id, agent_id=self.id)
                if claim.status == "paused":
                    self._publish()
                    self._stop.wait(_PAUSE_POLL_S)
                    continue
                if claim.run is None:
                    self._end("finished", f"The sweep needs no more runs: {claim.reason}.")
                    return
                self._execute(claim.run)
                if self._too_many_failures():
                    return
        except BaseException as err:  # the agent itself broke: say so, never hang
            logger.exception("agent %s failed", self.id)
            self._end("failed", f"The agent stopped on an internal error: {err!r}")
            if not self._background:
                raise
        finally:
            try:
                self.store.end_agent(self.id, self._state)
            except Exception:
                logger.exception("could not record the end of agent %s", self.id)
            self._publish()
            self._done.set()

    def _why_stop_before_claim(self) -> tuple[str, str] | None:
        if self._interrupted:
            return ("stopped", "The agent was interrupted.")
        if self._stop.is_set():
            return ("stopped", "The agent was asked to stop.")
        if self._count is not None and self._counters.started >= self._count:
            return ("finished", f"The agent ran its count of {self._count} runs.")
        return None

    def _too_many_failures(self) -> bool:
        limit = self._max_failures
        if limit is None or self._counters.failures_in_a_row < limit:
            return False
        last = self._errors[-1] if self._errors else None
        cause = f" The last one raised {last.type}: {last.message}" if last else ""
        runs = "run" if limit == 1 else "runs"
        self._end("failed", f"The agent stopped after {limit} failed {runs} in a row.{cause}")
        return True

    def _end(self, state: str, message: str) -> None:
        with self._lock:
            self._state = state
            self._message = message
        logger.info("agent %s %s: %s", self.id, state, message)
        if self._verbose and not self._background:
            print(f"nbsweep: {message}", file=sys.stderr)
            if state == "failed" and self._errors:
                print(self._errors[-1].traceback, file=sys.stderr)

    def _execute(self, record: RunRecord) -> None:
        run = Run(
            self.store,
            record,
            metric_name=self._metric_name,
            goal=self._goal,
            locked=record.config,
            stop_event=self._stop,
            early_terminate=self._early_terminate,
        )
        with self._lock:
            self._counters.started += 1
            self._counters.current = run.id
            self._counters.run_ids.append(run.id)
        self._publish()
        state, error, reason = self._call(run)
        if not run.finished:
            run.finish(state=state, error=error, reason=reason)
        if run.state == "stopped" and run.stop_reason in _USER_STOPS:
            # A person stopped it, not the search: the next agent runs its grid point again.
            self.store.free_grid_points(self.sweep_id, [run.id])
        self._record(run, error)

    def _call(self, run: Run) -> tuple[str, str | None, str | None]:
        """Run the function; return the run's state, error text and stop reason."""
        with self._lock:
            self._output_tail.clear()
            self._output_run = run.id

        def sink(text: str) -> None:
            run.write_output(text)
            with self._lock:
                self._output_tail.append(text)
            self._publish()

        try:
            with using_agent_run(run), capture_output(sink, echo=not self._background):
                returned = self._function()
                self._log_returned(run, returned)
        except StopRun as stop:
            return "stopped", None, str(stop) or "stopped by user"
        except KeyboardInterrupt:
            self._interrupted = True
            return "stopped", None, "interrupted"
        except (Exception, SystemExit) as exc:
            error = _format_error(exc, skip=1)  # drop the agent's own frame
            if isinstance(exc, SystemExit):
                first, _, rest = error.partition("\n")
                error = f"{first}{_EXIT_HINT}\n{rest}"
            if isinstance(exc, ValueError) and "signal only works in main thread" in str(exc):
                first, _, rest = error.partition("\n")
                error = f"{first}{_SIGNAL_HINT}\n{rest}"
            return "failed", error, None
        if self._stop.is_set():
            return "stopped", None, "stopped by user"
        # An interrupt the function caught and handled itself ends its run normally; the
        # agent still stops after it.
        return "finished", None, None

    def _log_returned(self, run: Run, returned: Any) -> None:
        """Log what the function returned as the metric, if it returned one and never logged it.

        Optuna's objective functions return their value; such a function works as is.
        """
        name = self._metric_name
        if name is None or run.finished or run._metric_count or returned is None:
            return
        if isinstance(returned, Mapping):
            values = {name: returned[name]} if name in returned else None
        else:
            values = {name: returned}
        if values is None or isinstance(values[name], bool | str):
            return
        try:
            run.log(values)
        except TypeError:  # not a number (a model, say): it was never meant as the metric
            return

    def _record(self, run: Run, error: str | None) -> None:
        state = run.state
        with self._lock:
            c = self._counters
            c.current = None
            if state == "failed":
                c.failed += 1
                c.failures_in_a_row += 1
                if error:
                    head, _, tb = error.partition("\n")
                    kind, _, message = head.partition(": ")
                    self._errors.append(RunError(run.id, kind, message, tb))
            else:
                c.failures_in_a_row = 0
                if state == "stopped":
                    c.stopped += 1
                else:
                    c.finished += 1
            value = run._metric_best
            if value is not None and state in ("finished", "stopped"):
                better = c.best_value is None or (
                    value < c.best_value if self._goal == "minimize" else value > c.best_value
                )
                if better:
                    c.best_value, c.best_run = value, run.id
        self._check_metric_logged(run)
        if self._verbose and not self._background:
            self._print_run(run, error)
        self._publish()

    def _check_metric_logged(self, run: Run) -> None:
        name = self._metric_name
        if name is None or run.state != "finished" or run._metric_count or self._warned_metric:
            return
        self._warned_metric = True
        note = metric_never_logged(name, run.id, run.logged_keys)
        with self._lock:
            self._notices.append(note)
        if self._background:
            logger.warning(note)
        else:
            warnings.warn(note, MetricWarning, stacklevel=2)

    def _print_run(self, run: Run, error: str | None) -> None:
        c = self._counters
        total = f"/{self._count}" if self._count is not None else ""
        value = ""
        if self._metric_name and run._metric_best is not None:
            value = f" {self._metric_name}={run._metric_best:.6g}"
        print(
            f"nbsweep: run {run.id} {run.state} ({c.started}{total}){value}",
            file=sys.stderr,
        )
        if error:
            print(error.partition("\n")[2], file=sys.stderr)

    def _publish(self) -> None:
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception:
                logger.exception("an agent view failed to update")


def _check_takes_no_arguments(function: Callable[..., Any]) -> None:
    """Refuse a function that needs arguments before any run is spent on it."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # builtins and some callables have none: let them run
        return
    required = [
        p.name
        for p in signature.parameters.values()
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if required:
        name = getattr(function, "__name__", repr(function))
        raise TypeError(
            f"{name}() must take no arguments: the agent calls it as {name}(), and it reads "
            f"its values with run = nbsweep.init(); run.config (it requires {', '.join(required)})"
        )


def start_agent(
    store: SQLiteStore,
    sweep_id: str,
    function: Callable[[], Any],
    *,
    count: int | None,
    background: bool | None,
    max_consecutive_failures: int | None,
    verbose: bool | None,
    view: Callable[[AgentHandle], Any] | None,
) -> AgentHandle:
    """Build an agent and its view; ``handle.start()`` starts it (see :func:`nbsweep.agent`)."""
    if not callable(function):
        hint = ""
        if function is None or isinstance(function, int | float | str):
            hint = "; pass the function itself: function=train, without parentheses"
        raise TypeError(f"function must be callable, got {function!r}{hint}")
    _check_takes_no_arguments(function)
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise ValueError(f"count must be a whole number >= 1, got {count!r}")
    limit = max_consecutive_failures
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(
            f"max_consecutive_failures must be a whole number >= 1 or None, got {limit!r}"
        )
    kernel = in_kernel()
    background = kernel if background is None else background
    verbose = not kernel if verbose is None else verbose
    stray = standalone_run()
    if stray is not None:
        warnings.warn(
            f"finished the open run {stray.id} before starting the agent, so no sweep values "
            "are logged into it",
            AgentWarning,
            stacklevel=3,
        )
        stray.finish()
        set_standalone(None)
    handle = AgentHandle(
        store,
        sweep_id,
        function,
        count=count,
        max_consecutive_failures=max_consecutive_failures,
        background=background,
        verbose=verbose,
    )
    if view is not None:
        try:
            handle.view = view(handle)
        except Exception:  # a view that cannot be drawn must not keep the sweep from running
            logger.exception("could not build the agent's view; running without it")
    return handle
