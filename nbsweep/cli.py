"""The ``nbsweep`` command: create, run, list, inspect and control sweeps from a shell.

``nbsweep sweep sweep.yaml`` prints the new sweep's id; ``nbsweep agent ID`` runs the sweep's
``program`` once per run, as W&B's ``wandb agent`` does. Every command takes ``--store PATH``
(default: ``$NBSWEEP_STORE``, else ``./nbsweep.db``). Errors are one ``nbsweep: error: ...``
line on stderr and a non-zero exit code: 2 for a bad config or bad usage, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sqlite3
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

__all__ = ["main"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_STOPPED = 130

_ERROR_WIDTH = 80


class _UserError(Exception):
    """A mistake of the user's that ends the command with one line on stderr."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


# Output helpers ------------------------------------------------------------------------


def _out(text: str = "") -> None:
    print(text)


def _err(text: str) -> None:
    print(text, file=sys.stderr)


@contextlib.contextmanager
def _warnings_to_stderr() -> Iterator[None]:
    """Show nbsweep's warnings as one line each, when they happen."""

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        _err(f"nbsweep: warning: {message}")

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = show
        yield


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "") -> list[str]:
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=True)]
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


# Store and sweep lookup ----------------------------------------------------------------


def _open_store(path: str | os.PathLike[str] | None) -> Any:
    from nbsweep.store import open_store, resolve_store_path

    resolved = resolve_store_path(path)
    try:
        return open_store(resolved)
    except (sqlite3.DatabaseError, OSError) as err:
        raise _UserError(f"cannot use {resolved} as an nbsweep store: {err}") from None


def _existing_store(path: str | None) -> Any:
    from nbsweep.store import resolve_store_path

    resolved = resolve_store_path(path)
    if not resolved.is_file():
        raise _UserError(
            f"no nbsweep store at {resolved}; create a sweep with `nbsweep sweep CONFIG.yaml`, "
            "or point --store (or NBSWEEP_STORE) at an existing store"
        )
    return _open_store(resolved)


def _sweep(args: argparse.Namespace) -> Any:
    from nbsweep import Sweep

    return Sweep(args.sweep_id, store=_existing_store(args.store))


def _run_counts(states: Sequence[str]) -> str:
    from nbsweep.store import RUN_STATES

    parts = [f"{states.count(s)} {s}" for s in RUN_STATES if states.count(s)]
    return f"{len(states)} ({', '.join(parts)})" if parts else "0"


# Commands ------------------------------------------------------------------------------


def _cmd_validate(args: argparse.Namespace) -> int:
    import yaml

    import nbsweep

    with _warnings_to_stderr():
        config = nbsweep.validate(Path(args.config))
    sys.stdout.write(yaml.safe_dump(config.to_dict(), sort_keys=False, allow_unicode=True))
    return EXIT_OK


def _seed(text: str) -> int:
    """Parse --seed: a whole number from 0 to 2**63 - 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 2**63 - 1, got {text}")
    return value


def _cmd_sweep(args: argparse.Namespace) -> int:
    import nbsweep

    with _warnings_to_stderr():
        config = nbsweep.validate(Path(args.config))
        sweep_id = nbsweep.sweep(
            config, store=_open_store(args.store), seed=args.seed, name=args.name
        )
    _out(sweep_id)
    store = f" --store {shlex.quote(args.store)}" if args.store else ""
    _err(f"nbsweep: created sweep {sweep_id}; run an agent with: nbsweep agent {sweep_id}{store}")
    return EXIT_OK


def _cmd_agent(args: argparse.Namespace) -> int:
    from nbsweep.agent._program import run_program_agent

    store = _existing_store(args.store)
    store.get_sweep(args.sweep_id)  # an unknown id fails here, with the closest one
    failures = args.max_failures if args.max_failures > 0 else None
    with _warnings_to_stderr():
        progress = run_program_agent(
            store,
            args.sweep_id,
            count=args.count,
            max_consecutive_failures=failures,
            kill_delay_s=args.kill_delay,
        )
    if progress.state == "failed":
        return EXIT_ERROR
    if progress.state == "stopped":
        return EXIT_STOPPED
    return EXIT_OK


def _cmd_ls(args: argparse.Namespace) -> int:
    from nbsweep import Sweep

    store = _existing_store(args.store)
    records = store.list_sweeps()
    if not records:
        _out(f"no sweeps in {store.path}")
        return EXIT_OK
    rows = []
    for record in records:
        runs = Sweep(record.id, store=store).runs
        rows.append(
            [
                record.id,
                record.name or "-",
                record.method,
                record.state,
                _run_counts([r.state for r in runs]),
            ]
        )
    for line in _table(["ID", "NAME", "METHOD", "STATE", "RUNS"], rows):
        _out(line)
    return EXIT_OK


def _describe_param(spec: Mapping[str, Any]) -> str:
    from nbsweep.analysis import format_value

    kind = spec.get("distribution", "")
    if "value" in spec:
        return f"constant {format_value(spec['value'])}"
    if "values" in spec:
        shown = ", ".join(format_value(v) for v in spec["values"])
        return f"{kind} [{shown}]"
    bounds = [
        f"{k}={format_value(spec[k])}" for k in ("min", "max", "mu", "sigma", "q") if k in spec
    ]
    return f"{kind}({', '.join(bounds)})"


def _param_lines(parameters: Mapping[str, Any], indent: str) -> list[str]:
    lines = []
    for name, spec in parameters.items():
        if "parameters" in spec:
            lines.append(f"{indent}{name}:")
            lines += _param_lines(spec["parameters"], indent + "  ")
        else:
            lines.append(f"{indent}{name}: {_describe_param(spec)}")
    return lines


def _cmd_show(args: argparse.Namespace) -> int:
    from nbsweep.analysis import format_value, runs_table

    sweep = _sweep(args)
    record = sweep.record
    config = sweep.config
    title = f"sweep {sweep.id}" + (f" ({record.name})" if record.name else "")
    _out(title)
    reason = f" ({record.state_reason})" if record.state_reason else ""
    _out(f"  state:    {record.state}{reason}")
    method = config.method
    if method == "grid":
        method += f", {sweep.space.grid_size()} grid points"
    _out(f"  method:   {method}")
    if config.metric_name:
        target = f", target {config.target:g}" if config.target is not None else ""
        _out(f"  metric:   {config.metric_name} ({config.goal}{target})")
    else:
        _out("  metric:   none")
    if config.run_cap is not None:
        _out(f"  run_cap:  {config.run_cap}")
    if config.get("early_terminate"):
        _out(f"  early_terminate: {format_value(config['early_terminate'])}")
    _out(f"  seed:     {record.seed}")
    if config.get("program"):
        _out(f"  program:  {config['program']}")
    if config.get("command"):
        _out(f"  command:  {' '.join(config['command'])}")
    _out("  parameters:")
    for line in _param_lines(config["parameters"], "    "):
        _out(line)

    records = [run.record for run in sweep.runs]
    _out()
    _out(f"runs: {_run_counts([r.state for r in records])}")
    if records:
        metric = config.metric_name
        table = runs_table(records, sweep.space, metric)
        _out(table.to_text(indent="  ", error_width=_ERROR_WIDTH))

    _out()
    if not config.metric_name:
        _out("best run: none (the sweep has no metric)")
    else:
        best = sweep.best_run
        if best is None:
            _out(f"best run: none yet (no finished run logged {config.metric_name!r})")
        else:
            _out(
                f"best run: {best.id}  {config.metric_name}={format_value(best.metric_value)}  "
                f"config={format_value(best.config)}"
            )
    return EXIT_OK


_STATE_DONE = {
    "pause": "paused (running runs go on; no new runs until resume)",
    "resume": "resumed",
    "stop": "stopped (running runs finish; no new runs)",
    "cancel": "canceled (running runs are stopped)",
}


def _cmd_state(args: argparse.Namespace) -> int:
    sweep = _sweep(args)
    getattr(sweep, args.command)()
    _out(f"sweep {sweep.id} {_STATE_DONE[args.command]}")
    return EXIT_OK


# Parser --------------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    from nbsweep import __version__

    parser = argparse.ArgumentParser(
        prog="nbsweep",
        description="Hyperparameter sweeps with W&B sweep configs and a local store.",
    )
    parser.add_argument("--version", action="version", version=f"nbsweep {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--store",
        metavar="PATH",
        help="the store file (default: $NBSWEEP_STORE, else ./nbsweep.db)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = commands.add_parser(
        "sweep", parents=[common], help="create a sweep from a config file; print its id"
    )
    p.add_argument("config", metavar="CONFIG.yaml")
    p.add_argument("--seed", type=_seed, help="seed of random and bayes search")
    p.add_argument("--name", help="the sweep's name (overrides the config's name)")
    p.set_defaults(handler=_cmd_sweep)

    p = commands.add_parser(
        "agent",
        parents=[common],
        help="run the sweep's program once per run",
        description=(
            "Claim runs of the sweep and run its program for each, with the config's command "
            "template. Ctrl-C or SIGTERM stops the current run (SIGTERM to the program, "
            "SIGKILL after --kill-delay seconds). Exit code 0 when the sweep or --count is "
            "done, 1 after too many failed runs in a row, 130 when stopped."
        ),
    )
    p.add_argument("sweep_id", metavar="SWEEP_ID")
    p.add_argument("--count", type=_positive_int, help="run at most this many runs")
    p.add_argument(
        "--max-failures",
        type=int,
        default=5,
        metavar="N",
        help="stop after N failed runs in a row (default 5; 0 never stops)",
    )
    p.add_argument(
        "--kill-delay",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="seconds between SIGTERM and SIGKILL when stopping a program (default 30)",
    )
    p.set_defaults(handler=_cmd_agent)

    p = commands.add_parser("ls", parents=[common], help="list the sweeps in the store")
    p.set_defaults(handler=_cmd_ls)

    p = commands.add_parser("show", parents=[common], help="a sweep's config, runs and best run")
    p.add_argument("sweep_id", metavar="SWEEP_ID")
    p.set_defaults(handler=_cmd_show)

    helps = {
        "pause": "start no new runs until resume (running runs go on)",
        "resume": "start new runs again",
        "stop": "end the sweep; running runs finish",
        "cancel": "end the sweep and stop its running runs",
    }
    for action, text in helps.items():
        p = commands.add_parser(action, parents=[common], help=text)
        p.add_argument("sweep_id", metavar="SWEEP_ID")
        p.set_defaults(handler=_cmd_state)

    p = commands.add_parser(
        "validate", help="check a config; print it normalised (exit code 2 if it is bad)"
    )
    p.add_argument("config", metavar="CONFIG.yaml")
    p.set_defaults(handler=_cmd_validate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    r"""Run the ``nbsweep`` command line and return its exit code.

    Parameters
    ----------
    argv
        The arguments after ``nbsweep``; None for ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 1 on an error, 2 for a bad config or bad usage, 130 for an agent
        stopped by Ctrl-C or SIGTERM.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "sweep.yaml")
    >>> with open(path, "w") as f:
    ...     _ = f.write("method: grid\nparameters:\n  x: {values: [1, 2]}\n")
    >>> main(["validate", path])
    method: grid
    parameters:
      x:
        values:
        - 1
        - 2
        distribution: categorical
    0
    """
    from nbsweep import ConfigError, SweepNotFoundError, SweepStateError
    from nbsweep.agent._program import ProgramAgentError
    from nbsweep.store import RunNotFoundError, StoreBusyError

    parser = _parser()
    try:
        args = parser.parse_args(None if argv is None else list(argv))
    except SystemExit as stop:  # argparse: --help, --version, or bad usage
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    try:
        return int(args.handler(args))
    except ConfigError as err:
        _err(f"nbsweep: error: {err}")
        return EXIT_USAGE
    except _UserError as err:
        _err(f"nbsweep: error: {err}")
        return err.code
    except (
        SweepNotFoundError,
        RunNotFoundError,
        SweepStateError,
        ProgramAgentError,
        StoreBusyError,
        NotImplementedError,
    ) as err:
        _err(f"nbsweep: error: {err}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        _err("nbsweep: interrupted")
        return EXIT_STOPPED
    except BrokenPipeError:  # `nbsweep ls | head`: the reader left; say nothing more
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
