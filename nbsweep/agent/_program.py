"""The program agent: run each claimed run of a sweep as a separate process.

This is what ``nbsweep agent SWEEP_ID`` runs. For each run it claims, it expands the sweep's
``command`` template (see :mod:`nbsweep.agent._command`) into an argv and starts it with
``subprocess.Popen`` (never through a shell, so a value with spaces, quotes or ``$HOME``
arrives as one argument, untouched). The process gets ``NBSWEEP_RUN_ID``,
``NBSWEEP_SWEEP_ID`` and ``NBSWEEP_STORE`` in its environment, so ``nbsweep.init()`` in the
program returns the claimed run with its config.

What the program prints is echoed to the console and stored as the run's output. When it
exits, a run it left ``running`` (it never called ``nbsweep.init()``, or was killed before it
finished) becomes ``finished`` on exit code 0 and ``failed`` otherwise, with the exit code and
the last lines of its stderr as the error. A non-zero exit counts as a failure for
``max_consecutive_failures``, as in W&B's agent.

Heartbeats: the claimed run is stored with the agent's process id, so the agent touches the
heartbeat of its runs (every few seconds, while it waits for the program) and the run is
never taken for crashed while the agent lives, whether or not the program calls
``nbsweep.init()``. The program's own writer flushes what it logs but does not heartbeat the
run, since the run carries the agent's process id, not the program's.

Stopping: Ctrl-C or SIGTERM to the agent marks the current run ``stopped``, sends SIGTERM to
the program (its whole process group on POSIX) and SIGKILL after ``kill_delay_s`` seconds
(at once on a second Ctrl-C); then the agent ends. A run stopped from elsewhere (its sweep
canceled) has its program terminated the same way.

The program runs in the agent's working directory with the agent's environment, plus
``PYTHONUNBUFFERED=1`` (unless set) so that its prints show up as they happen, and with stdin
closed (it runs in its own session on POSIX, away from the terminal).
"""

from __future__ import annotations

import codecs
import contextlib
import itertools
import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import IO, Any

from nbsweep.agent._agent import AgentProgress
from nbsweep.agent._command import DEFAULT_COMMAND, expand_command, uses_macro
from nbsweep.agent._notes import metric_never_logged
from nbsweep.controller import claim_next_run, crash_grace_s, sweep_space
from nbsweep.run._current import RUN_ID_ENV, SWEEP_ID_ENV
from nbsweep.store import STORE_ENV, RunRecord, SQLiteStore, new_id, open_store

__all__ = ["ProgramAgentError", "run_program_agent"]

logger = logging.getLogger(__name__)


_POSIX = os.name == "posix"
_POLL_S = 0.1
_OUTPUT_FLUSH_S = 0.5
_STATE_CHECK_S = 1.0
_PAUSE_POLL_S = 1.0
_STDERR_TAIL_LINES = 20
_STDERR_TAIL_CHARS = 16_384
_READER_JOIN_S = 2.0
_PARTIAL_WAIT_S = 1.0
# Limitation: a run stores at most this much of its program's output (the console still
# shows all of it); the store keeps output in one column, appended to on each flush.
_MAX_STORED_OUTPUT = 8_000_000
_TRUNCATED = "\n[nbsweep: output truncated here; the console had all of it]\n"

StoreArg = str | os.PathLike[str] | SQLiteStore | None


class ProgramAgentError(ValueError):
    """The sweep cannot be run as a program (no ``program``, or it is not there)."""


class _Stream:
    """Reads one pipe of the program: echoes it and hands it to the output buffer."""

    def __init__(
        self,
        pipe: IO[bytes],
        echo: IO[str] | None,
        sink: Callable[[str], None],
    ) -> None:
        self._pipe = pipe
        self._echo = echo
        self._sink = sink
        self.tail = ""
        self.thread = threading.Thread(target=self._loop, name="nbsweep-program-io", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        read = getattr(self._pipe, "read1", self._pipe.read)
        try:
            while True:
                chunk = read(65536)
                text = decoder.decode(chunk, final=not chunk)
                if text:
                    self._handle(text)
                if not chunk:
                    return
        except (OSError, ValueError):  # the pipe was closed under us at shutdown
            return
        finally:
            with contextlib.suppress(OSError):
                self._pipe.close()

    def _handle(self, text: str) -> None:
        if self._echo is not None:
            try:
                self._echo.write(text)
                self._echo.flush()
            except (OSError, ValueError):
                logger.debug("could not echo the program's output")
        self._sink(text)
        self.tail = (self.tail + text)[-_STDERR_TAIL_CHARS:]


class _RunOutput:
    """What one run's program printed, waiting to be appended to the run in the store.

    Each stream's text is passed on a whole line at a time, so an unbuffered program's
    ``print`` (which writes its pieces separately) is not cut by the other stream's lines; a
    line without its end yet is passed on once it has waited ``_PARTIAL_WAIT_S`` (a prompt, a
    progress bar) or when the program ends.

    Limitation: stdout and stderr are read by two threads, so lines of the two streams
    written at nearly the same moment may be stored in either order.
    """

    def __init__(self, store: SQLiteStore, run_id: str) -> None:
        self._store = store
        self._run_id = run_id
        self._pending: list[str] = []
        self._partial: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._stored = 0
        self._truncated = False

    def collect(self, stream: str, text: str) -> None:
        with self._lock:
            held, since = self._partial.pop(stream, ("", time.monotonic()))
            text = held + text
            cut = max(text.rfind("\n"), text.rfind("\r")) + 1
            if cut:
                self._pending.append(text[:cut])
            if cut < len(text):
                started = since if held and not cut else time.monotonic()
                self._partial[stream] = (text[cut:], started)

    def flush(self, *, final: bool = False) -> None:
        with self._lock:
            now = time.monotonic()
            for stream, (held, since) in list(self._partial.items()):
                if final or now - since >= _PARTIAL_WAIT_S:
                    self._pending.append(held)
                    del self._partial[stream]
            text = "".join(self._pending)
            self._pending.clear()
            if not text or self._truncated:
                return
            room = _MAX_STORED_OUTPUT - self._stored
            if len(text) > room:
                text = text[:room] + _TRUNCATED
                self._truncated = True
            self._stored += len(text)
            self._store.write_progress(self._run_id, output=text)


class _ProgramAgent:
    def __init__(
        self,
        store: SQLiteStore,
        sweep_id: str,
        *,
        count: int | None,
        max_consecutive_failures: int | None,
        kill_delay_s: float,
        interpreter: str | None,
        files_dir: str | os.PathLike[str] | None,
        stop: threading.Event | None,
        echo: bool,
        verbose: bool,
        handle_signals: bool,
    ) -> None:
        self.id = new_id()
        self.store = store
        self.sweep_id = sweep_id
        record = store.get_sweep(sweep_id)  # a wrong id fails here, naming close ones
        config, _ = sweep_space(store, record)
        self.command: list[str] | None = config.get("command")
        self.program: str | None = config.get("program")
        self.metric_name = config.metric_name
        self._warned_metric = False
        self.count = count
        self.max_failures = max_consecutive_failures
        self.kill_delay_s = kill_delay_s
        self.interpreter = interpreter
        default_dir = store.path.parent / "nbsweep-files" / f"sweep-{sweep_id}"
        self.files_dir = Path(files_dir) if files_dir is not None else default_dir
        self.stop = stop if stop is not None else threading.Event()
        self.echo = echo
        self.verbose = verbose
        self.handle_signals = handle_signals
        self.signals = 0
        self.signal_name = ""
        self.started = self.finished = self.failed = self.stopped = 0
        self.failures_in_a_row = 0
        self.current: str | None = None
        self.state = "running"
        self.message = ""
        self.last_error = ""
        self._heartbeat_s = max(0.5, min(5.0, crash_grace_s() / 3))

    # Checks and messages ---------------------------------------------------------------

    def preflight(self) -> None:
        """Refuse, before any run starts, a sweep whose program cannot be run."""
        if uses_macro(self.command, "program") and not self.program:
            raise ProgramAgentError(
                f"sweep {self.sweep_id} has no 'program' in its config, but its command "
                f"{self._command_text()} needs one; add `program: train.py` (the script to "
                "run) to the sweep config, or give a command that names it"
            )
        items = list(DEFAULT_COMMAND if self.command is None else self.command)
        runs_file = any(
            a == "${interpreter}" and b == "${program}" for a, b in itertools.pairwise(items)
        )
        if runs_file and self.program and not Path(self.program).is_file():
            raise ProgramAgentError(
                f"the sweep's program {self.program!r} is not a file in {Path.cwd()}; start "
                "the agent in the folder that holds it"
            )

    def _command_text(self) -> str:
        items = self.command if self.command is not None else ["(default)"]
        return "[" + ", ".join(items) + "]"

    def say(self, text: str) -> None:
        logger.info("agent %s: %s", self.id, text)
        if self.verbose:
            print(f"nbsweep: {text}", file=sys.stderr, flush=True)

    def progress(self) -> AgentProgress:
        return AgentProgress(
            state=self.state,
            started=self.started,
            finished=self.finished,
            failed=self.failed,
            stopped=self.stopped,
            count=self.count,
            current_run=self.current,
            message=self.message,
        )

    def end(self, state: str, message: str) -> None:
        self.state, self.message = state, message
        self.say(message)

    # Signals ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def signals_handled(self) -> Iterator[None]:
        if not self.handle_signals or threading.current_thread() is not threading.main_thread():
            yield
            return
        wanted = [signal.SIGINT, signal.SIGTERM]
        previous = {sig: signal.getsignal(sig) for sig in wanted}

        def on_signal(signum: int, frame: Any) -> None:
            self.signals += 1
            self.signal_name = self.signal_name or signal.Signals(signum).name
            self.stop.set()

        for sig in wanted:
            signal.signal(sig, on_signal)
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    # The loop --------------------------------------------------------------------------

    def run(self) -> AgentProgress:
        self.preflight()
        self.store.register_agent(self.id, self.sweep_id, "program")
        waiting = False
        try:
            with self.signals_handled():
                while True:
                    if self.stop.is_set():
                        how = f"by {self.signal_name}" if self.signal_name else "by request"
                        self.end("stopped", f"The agent was stopped {how}.")
                        break
                    if self.count is not None and self.started >= self.count:
                        self.end("finished", f"The agent ran its count of {self.count} runs.")
                        break
                    claim = claim_next_run(self.store, self.sweep_id, agent_id=self.id)
                    if claim.status == "paused":
                        if not waiting:
                            self.say(f"sweep {self.sweep_id} is paused; waiting for resume")
                            waiting = True
                        self.store.heartbeat(os.getpid())
                        self.stop.wait(_PAUSE_POLL_S)
                        continue
                    waiting = False
                    if claim.run is None:
                        self.end("finished", f"The sweep needs no more runs: {claim.reason}.")
                        break
                    self.execute(claim.run)
                    if self.too_many_failures():
                        break
        except BaseException as err:
            logger.exception("program agent %s failed", self.id)
            self.state, self.message = "failed", f"The agent stopped on an internal error: {err!r}"
            raise
        finally:
            try:
                self.store.end_agent(self.id, self.state)
            except Exception:
                logger.exception("could not record the end of agent %s", self.id)
        return self.progress()

    def too_many_failures(self) -> bool:
        limit = self.max_failures
        if limit is None or self.failures_in_a_row < limit:
            return False
        cause = f" The last one: {self.last_error}" if self.last_error else ""
        self.end("failed", f"The agent stopped after {limit} failed runs in a row.{cause}")
        return True

    # One run ---------------------------------------------------------------------------

    def execute(self, record: RunRecord) -> None:
        self.started += 1
        self.current = record.id
        total = f"/{self.count}" if self.count is not None else ""
        try:
            argv = expand_command(
                self.command,
                record.config,
                program=self.program,
                interpreter=self.interpreter,
                run_id=record.id,
                sweep_id=self.sweep_id,
                json_file_dir=self.files_dir,
            )
            if not argv:
                raise ValueError(f"the command {self._command_text()} expands to nothing")
        except (ValueError, OSError) as exc:
            self.conclude(record.id, None, "", error=f"CommandError: {exc}")
            return
        self.say(f"run {record.id} ({self.started}{total}): {shlex.join(argv)}")
        env = dict(os.environ)
        env[RUN_ID_ENV] = record.id
        env[SWEEP_ID_ENV] = self.sweep_id
        env[STORE_ENV] = str(self.store.path)
        # Without this a Python program's prints reach the agent in blocks, minutes late.
        env.setdefault("PYTHONUNBUFFERED", "1")
        try:
            proc = _start(argv, env)
        except OSError as exc:
            self.conclude(
                record.id, None, "", error=f"CommandError: could not start {argv[0]!r}: {exc}"
            )
            return
        assert proc.stdout is not None  # both are pipes (see _start)
        assert proc.stderr is not None
        output = _RunOutput(self.store, record.id)
        try:
            out = _Stream(
                proc.stdout, sys.stdout if self.echo else None, partial(output.collect, "out")
            )
            err = _Stream(
                proc.stderr, sys.stderr if self.echo else None, partial(output.collect, "err")
            )
            stop_reason = self.supervise(proc, record.id, output)
        finally:
            if proc.poll() is None:  # the agent itself is going down: take the program along
                _kill(proc)
                proc.wait()
        for stream in (out, err):
            stream.thread.join(_READER_JOIN_S)
            # Limitation: a grandchild that keeps the program's stdout open after the program
            # exits (a daemon it started) outlives this wait; its later output is not stored.
        self._safely(output.flush, final=True)
        self.conclude(record.id, proc.returncode, err.tail, stopped=stop_reason)

    def supervise(
        self, proc: subprocess.Popen[bytes], run_id: str, output: _RunOutput
    ) -> str | None:
        """Wait for the program, keeping heartbeats, output and stop requests going.

        Returns why the agent stopped the program, or None when it ended by itself.
        """
        now = time.monotonic()
        next_flush = now + _OUTPUT_FLUSH_S
        next_beat = now
        next_check = now + _STATE_CHECK_S
        stop_reason: str | None = None
        kill_at: float | None = None
        killed = False
        while proc.poll() is None:
            now = time.monotonic()
            if now >= next_beat:
                next_beat = now + self._heartbeat_s
                self._safely(self.store.heartbeat, os.getpid())
            if now >= next_flush:
                next_flush = now + _OUTPUT_FLUSH_S
                self._safely(output.flush)
            if stop_reason is None and self.stop.is_set():
                stop_reason = self._stop_reason()
                self._safely(
                    self.store.set_run_state,
                    run_id,
                    "stopped",
                    reason=stop_reason,
                    only_if=("running", "crashed"),
                )
                kill_at = self._terminate(proc, run_id, stop_reason)
            elif stop_reason is None and now >= next_check:
                next_check = now + _STATE_CHECK_S
                state = self._safely(self._run_state, run_id)
                if state == "stopped":
                    stop_reason = "stopped in the store"
                    kill_at = self._terminate(proc, run_id, "it was stopped (sweep canceled?)")
            if kill_at is not None and not killed and (now >= kill_at or self.signals > 1):
                self.say(f"killing run {run_id}'s program (pid {proc.pid})")
                _kill(proc)
                killed = True
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(_POLL_S)
        return stop_reason

    def _stop_reason(self) -> str:
        if self.signal_name:
            return f"agent received {self.signal_name}"
        return "agent stopped"

    def _terminate(self, proc: subprocess.Popen[bytes], run_id: str, why: str) -> float:
        hint = " (Ctrl-C again to kill it now)" if self.handle_signals else ""
        self.say(
            f"stopping run {run_id}: {why}; sending SIGTERM to its program, SIGKILL in "
            f"{self.kill_delay_s:g} s{hint}"
        )
        _terminate(proc)
        return time.monotonic() + self.kill_delay_s

    def _run_state(self, run_id: str) -> str:
        return self.store.get_run(run_id, with_output=False).state

    def _safely(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        # The store may be busy for a moment; the next round retries. The program goes on.
        try:
            return fn(*args, **kwargs)
        except Exception:
            logger.exception("program agent %s: %s failed", self.id, getattr(fn, "__name__", fn))
            return None

    # The end of a run ------------------------------------------------------------------

    def conclude(
        self,
        run_id: str,
        returncode: int | None,
        stderr_tail: str,
        *,
        error: str | None = None,
        stopped: str | None = None,
    ) -> None:
        """Finish the run if the program left it running, and count the outcome."""
        self.current = None
        if error is None and returncode not in (None, 0) and stopped is None:
            error = _exit_error(returncode, stderr_tail)
        if stopped is not None:
            finish = {"state": "stopped", "stop_reason": stopped}
        elif error is not None:
            finish = {"state": "failed", "error": error}
        else:
            finish = {"state": "finished"}
        # The store has the last word: a run stopped there (its sweep canceled) counts as
        # stopped even when its program then exited non-zero, and one the program finished
        # before a stop reached it counts as finished.
        state = self._safely(self._finish_if_running, run_id, finish) or finish["state"]
        if state == "stopped" or (stopped is not None and state != "finished"):
            self.stopped += 1
            self.failures_in_a_row = 0
            outcome = "stopped"
        elif error is not None or state == "failed":
            self.failed += 1
            self.failures_in_a_row += 1
            self.last_error = (error or "").partition("\n")[0] or f"run {run_id} failed"
            outcome = f"failed ({self.last_error})"
        else:
            self.finished += 1
            self.failures_in_a_row = 0
            outcome = state
        self.say(f"run {run_id} {outcome}")
        if outcome == "finished":
            self._check_metric_logged(run_id)

    def _check_metric_logged(self, run_id: str) -> None:
        name = self.metric_name
        if name is None or self._warned_metric:
            return
        record = self._safely(self.store.get_run, run_id, with_output=False)
        if record is None or record.metric_count:
            return
        self._warned_metric = True
        keys = self._safely(self.store.logged_keys, [run_id]) or set()
        logged = set(keys) | set(record.summary)
        self.say(f"warning: {metric_never_logged(name, run_id, logged)}")

    def _finish_if_running(self, run_id: str, finish: dict[str, Any]) -> str:
        _, state, _ = self.store.write_progress(run_id, finish=finish)
        return state


def _exit_error(returncode: int, stderr_tail: str) -> str:
    if returncode < 0 and _POSIX:
        try:
            how = f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            how = f"was killed by signal {-returncode}"
    else:
        how = f"exited with code {returncode}"
    lines = [line for line in stderr_tail.splitlines() if line.strip()]
    tail = lines[-_STDERR_TAIL_LINES:]
    head = f"ProgramError: the program {how}"
    if tail:
        head += f": {tail[-1].strip()}"
        return head + "\nlast lines of its stderr:\n" + "\n".join(tail)
    return head


def _start(argv: Sequence[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    # Its own session on POSIX: a Ctrl-C in the terminal reaches only the agent, which then
    # stops the program in order, and the program's children can be signalled as a group.
    # Limitation: an agent killed with SIGKILL cannot stop its program, which then runs on
    # by itself; its run is marked crashed once the agent's process is gone.
    if _POSIX:
        return subprocess.Popen(
            list(argv),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    # Limitation: on Windows the program gets no SIGTERM (terminate() there is a hard kill)
    # and its own children are not stopped with it.
    return subprocess.Popen(
        list(argv),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        creationflags=getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0),
    )


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    except PermissionError:
        proc.send_signal(sig)


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if _POSIX:
        _signal_group(proc, signal.SIGTERM)
    else:
        proc.terminate()


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if _POSIX:
        _signal_group(proc, signal.SIGKILL)
    else:
        proc.kill()


def run_program_agent(
    store: StoreArg,
    sweep_id: str,
    *,
    count: int | None = None,
    max_consecutive_failures: int | None = 5,
    kill_delay_s: float = 30.0,
    interpreter: str | None = None,
    files_dir: str | os.PathLike[str] | None = None,
    stop: threading.Event | None = None,
    echo: bool = True,
    verbose: bool = True,
    handle_signals: bool = True,
) -> AgentProgress:
    """Run a sweep's ``program`` once per claimed run, until the sweep or ``count`` is done.

    Parameters
    ----------
    store
        The store (or its path; None for ``$NBSWEEP_STORE`` or ``./nbsweep.db``).
    sweep_id
        The sweep to work on.
    count
        The most runs this agent starts; None for as many as the sweep makes.
    max_consecutive_failures
        Stop after this many failed runs in a row (None: never). A run fails when its
        program exits with a non-zero code.
    kill_delay_s
        Seconds between SIGTERM and SIGKILL when the agent stops a program.
    interpreter
        What ``${interpreter}`` becomes; None for the Python running the agent.
    files_dir
        Folder for the ``${args_json_file}`` files; by default ``nbsweep-files/sweep-<id>``
        next to the store.
    stop
        Set this event (from another thread) to stop the agent as Ctrl-C would.
    echo
        Copy the program's stdout and stderr to this process's.
    verbose
        Print a line per run (its argv and how it ended) to stderr.
    handle_signals
        On the main thread, stop on SIGINT and SIGTERM as described above.

    Returns
    -------
    AgentProgress
        What the agent did; ``state`` is ``finished``, ``stopped`` or ``failed``.

    Raises
    ------
    ProgramAgentError
        Before any run starts, when the command needs a ``program`` the config lacks or the
        program is not a file.
    nbsweep.SweepNotFoundError
        For an unknown sweep id.

    Examples
    --------
    >>> import os, sys, tempfile, nbsweep
    >>> folder = tempfile.mkdtemp()
    >>> with open(os.path.join(folder, "show.py"), "w") as f:
    ...     _ = f.write("import sys; print(sys.argv[1:])")
    >>> store = os.path.join(folder, "p.db")
    >>> sweep_id = nbsweep.sweep({"method": "grid", "program": os.path.join(folder, "show.py"),
    ...                           "parameters": {"x": {"values": [1, 2]}}}, store=store)
    >>> progress = run_program_agent(store, sweep_id, echo=False, verbose=False)
    >>> progress.state, progress.finished
    ('finished', 2)
    """
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise ValueError(f"count must be a whole number >= 1, got {count!r}")
    if max_consecutive_failures is not None and max_consecutive_failures < 1:
        raise ValueError(
            f"max_consecutive_failures must be >= 1 or None, got {max_consecutive_failures!r}"
        )
    if kill_delay_s < 0:
        raise ValueError(f"kill_delay_s must be >= 0, got {kill_delay_s!r}")
    agent = _ProgramAgent(
        open_store(store),
        sweep_id,
        count=count,
        max_consecutive_failures=max_consecutive_failures,
        kill_delay_s=kill_delay_s,
        interpreter=interpreter,
        files_dir=files_dir,
        stop=stop,
        echo=echo,
        verbose=verbose,
        handle_signals=handle_signals,
    )
    return agent.run()
