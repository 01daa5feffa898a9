"""The command template of a sweep, expanded into the argv of one run's program.

A sweep config's ``command`` is a list of strings. Items that are exactly one macro,
``${name}``, are replaced by a list of tokens (possibly none); every other item is passed as
it is, except that ``${envvar:NAME}`` is replaced wherever it appears. This follows W&B's
agent, so an existing ``sweep.yaml`` gives the same argv:

* ``${env}``: ``/usr/bin/env`` (nothing on Windows)
* ``${interpreter}``: the Python running the agent (``sys.executable``)
* ``${program}``: the config's ``program``
* ``${args}``: ``--name=value`` for each parameter
* ``${args_no_hyphens}``: ``name=value``
* ``${args_no_boolean_flags}``: ``--name`` for True, nothing for False, else ``--name=value``
* ``${args_no_equals}``: ``--name`` and ``value`` as two tokens
* ``${args_json}``: one token, the parameters as a JSON object
* ``${args_json_file}``: the path of a JSON file holding that object
* ``${args_append_hydra}`` / ``${args_override_hydra}``: ``+name=value`` / ``++name=value``
* ``${args_dict}``: the parameter names only (as W&B gives them)

Values are written with Python's ``str()`` (``True``, ``None``, ``[1, 2]``, ``{'k': 1}``,
``1e-05``), and a nested parameter appears as its top-level key with the dict's repr. Whole
items that name no known macro are dropped; ``--lr=${lr}`` stays literal.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_COMMAND", "args_json_path", "expand_command", "uses_macro"]

DEFAULT_COMMAND: tuple[str, ...] = ("${env}", "${interpreter}", "${program}", "${args}")

_ENV_PATH = "/usr/bin/env"
_WINDOWS = os.name == "nt"
_WHOLE_MACRO = re.compile(r"^\$\{([^{}]*)\}$")
_ENVVAR = re.compile(r"\$\{envvar:([A-Z0-9_]*)\}")


def _no_hyphens(args: Mapping[str, Any]) -> list[str]:
    return [f"{name}={value}" for name, value in args.items()]


def _hyphens(args: Mapping[str, Any]) -> list[str]:
    return [f"--{name}={value}" for name, value in args.items()]


def _boolean_flags(args: Mapping[str, Any]) -> list[str]:
    tokens = []
    for name, value in args.items():
        if value is True:
            tokens.append(f"--{name}")
        elif value is not False:
            tokens.append(f"--{name}={value}")
    return tokens


def _no_equals(args: Mapping[str, Any]) -> list[str]:
    tokens = []
    for name, value in args.items():
        tokens += [f"--{name}", str(value)]
    return tokens


def _hydra(prefix: str) -> Callable[[Mapping[str, Any]], list[str]]:
    def tokens(args: Mapping[str, Any]) -> list[str]:
        return [f"{prefix}{name}={value}" for name, value in args.items()]

    return tokens


_ARGS_FORMS: dict[str, Callable[[Mapping[str, Any]], list[str]]] = {
    "args": _hyphens,
    "args_no_hyphens": _no_hyphens,
    "args_no_boolean_flags": _boolean_flags,
    "args_no_equals": _no_equals,
    "args_json": lambda args: [json.dumps(dict(args))],
    "args_append_hydra": _hydra("+"),
    "args_override_hydra": _hydra("++"),
    "args_dict": lambda args: [str(name) for name in args],
}


def uses_macro(command: Sequence[str] | None, name: str) -> bool:
    """Tell whether ``command`` (None: the default one) has ``${name}`` as a whole item.

    Examples
    --------
    >>> uses_macro(None, "program"), uses_macro(["python", "t.py", "${args}"], "program")
    (True, False)
    """
    items = DEFAULT_COMMAND if command is None else command
    return f"${{{name}}}" in items


def args_json_path(json_file_dir: str | os.PathLike[str], run_id: str) -> Path:
    """Where ``${args_json_file}`` puts the parameters of run ``run_id``.

    Examples
    --------
    >>> args_json_path("/tmp/nbsweep/sweep-abc", "r1").name
    'config-r1.json'
    """
    return Path(json_file_dir) / f"config-{run_id}.json"


def _envvars(item: str) -> str:
    # An unset variable gives its own name, as W&B's agent does.
    return _ENVVAR.sub(lambda m: os.environ.get(m.group(1), m.group(1)), item)


def expand_command(
    command: Sequence[str] | None,
    args: Mapping[str, Any],
    *,
    program: str | None = None,
    interpreter: str | None = None,
    run_id: str | None = None,
    sweep_id: str | None = None,
    json_file_dir: str | os.PathLike[str] | None = None,
) -> list[str]:
    """Expand a sweep's command template into the argv of one run.

    Parameters
    ----------
    command
        The config's ``command`` list; None for the default
        ``["${env}", "${interpreter}", "${program}", "${args}"]``.
    args
        The run's top-level config, ``{name: value}``, in the order the tokens should take.
    program
        The config's ``program``; needed only when the command uses ``${program}``.
    interpreter
        What ``${interpreter}`` becomes; None for the current Python, ``sys.executable``.
        W&B writes ``python`` (whichever is first on ``PATH``); nbsweep uses the Python that
        runs the agent, which is the one where nbsweep is installed.
    run_id, sweep_id
        The run and its sweep; ``run_id`` names the file of ``${args_json_file}``.
    json_file_dir
        Folder for the ``${args_json_file}`` file, which is written (folders included) only
        when the command uses that macro.

    Returns
    -------
    list of str
        The argv, ready for ``subprocess.Popen`` (never for a shell).

    Raises
    ------
    ValueError
        When the command uses ``${program}`` without a ``program``, or ``${args_json_file}``
        without ``run_id`` and ``json_file_dir``.

    Examples
    --------
    >>> expand_command(None, {"lr": 0.001, "bn": True}, program="train.py",
    ...                interpreter="python")[1:]
    ['python', 'train.py', '--lr=0.001', '--bn=True']
    >>> expand_command(["${program}", "${args_no_boolean_flags}", "--tag", "x"],
    ...                {"aug": True, "ema": False}, program="t.py")
    ['t.py', '--aug', '--tag', 'x']
    """
    items = DEFAULT_COMMAND if command is None else tuple(command)
    argv: list[str] = []
    for item in items:
        match = _WHOLE_MACRO.match(item)
        if match is None or match.group(1).startswith("envvar:"):
            argv.append(_envvars(item))
            continue
        name = match.group(1)
        if name == "env":
            if not _WINDOWS:
                argv.append(_ENV_PATH)
        elif name == "interpreter":
            argv.append(interpreter if interpreter is not None else sys.executable)
        elif name == "program":
            if program is None:
                raise ValueError(
                    "the sweep's command uses ${program} but its config has no 'program'; "
                    "add `program: train.py` (your script) to the sweep config"
                )
            argv.append(str(program))
        elif name == "args_json_file":
            argv.append(str(_write_args_json(args, run_id, json_file_dir)))
        elif name in _ARGS_FORMS:
            argv += _ARGS_FORMS[name](args)
        # Limitation: any other whole-item macro is dropped silently, as W&B drops it; the
        # config validator is where a typo such as ${arg} can be reported.
    return argv


def _write_args_json(
    args: Mapping[str, Any], run_id: str | None, json_file_dir: str | os.PathLike[str] | None
) -> Path:
    if run_id is None or json_file_dir is None:
        raise ValueError("${args_json_file} needs a run_id and a json_file_dir to write to")
    path = args_json_path(json_file_dir, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(args)), encoding="utf-8")
    return path
