"""Command-template expansion: W&B's vectors C01-C12 and the edges around them."""

from __future__ import annotations

import json
import sys

import pytest

from nbsweep.agent import _command
from nbsweep.agent._command import DEFAULT_COMMAND, args_json_path, expand_command, uses_macro

# The expand_command vectors of the W&B reference (verified against wandb 0.31.0). Args are
# in the order given; program train.py; Unix; run id RUNID, sweep id SWEEPID; W&B writes
# `python` for ${interpreter}, so these pass interpreter="python".
_ARGS5 = {"lr": 0.001, "batch_size": 32, "use_bn": True, "dropout_off": False, "opt": "adam"}
VECTORS = [
    {
        "id": "C01",
        "command": None,
        "args": _ARGS5,
        "expected": [
            "/usr/bin/env", "python", "train.py", "--lr=0.001", "--batch_size=32",
            "--use_bn=True", "--dropout_off=False", "--opt=adam",
        ],
    },
    {
        "id": "C02",
        "command": ["${env}", "${interpreter}", "${program}", "${args_no_hyphens}"],
        "args": _ARGS5,
        "expected": [
            "/usr/bin/env", "python", "train.py", "lr=0.001", "batch_size=32", "use_bn=True",
            "dropout_off=False", "opt=adam",
        ],
    },
    {
        "id": "C04",
        "command": ["${program}", "${args_json}"],
        "args": _ARGS5,
        "expected": [
            "train.py",
            '{"lr": 0.001, "batch_size": 32, "use_bn": true, "dropout_off": false, '
            '"opt": "adam"}',
        ],
    },
    {
        "id": "C07",
        "command": ["${program}", "${args_append_hydra}", "${args_override_hydra}"],
        "args": {"a": 1},
        "expected": ["train.py", "+a=1", "++a=1"],
    },
    {
        "id": "C08",
        "env": {"MY_GPU": "3"},
        "command": ["CUDA=${envvar:MY_GPU}", "${program}", "${envvar:NOT_SET_VAR}"],
        "args": {"a": 1},
        "expected": ["CUDA=3", "train.py", "NOT_SET_VAR"],
    },
    {
        "id": "C09",
        "command": ["${program}", "--lr=${lr}", "${unknown_macro}", "python3"],
        "args": {"lr": 0.1},
        "expected": ["train.py", "--lr=${lr}", "python3"],
    },
    {
        "id": "C10",
        "command": ["${args}"],
        "args": {"none": None, "lst": [1, 2], "d": {"k": 1}, "small": 1e-5, "big": 1e20,
                 "s": "a b"},
        "expected": ["--none=None", "--lst=[1, 2]", "--d={'k': 1}", "--small=1e-05",
                     "--big=1e+20", "--s=a b"],
    },
    {
        "id": "C11",
        "command": ["${args}"],
        "args": {"opt": {"lr": 0.1, "name": "adam"}, "bs": 16},
        "expected": ["--opt={'lr': 0.1, 'name': 'adam'}", "--bs=16"],
    },
    {
        "id": "C12",
        "command": ["${args_dict}"],
        "args": {"a": 1, "b": 2},
        "expected": ["a", "b"],
    },
]  # fmt: skip


@pytest.fixture(autouse=True)
def _posix(monkeypatch: pytest.MonkeyPatch) -> None:
    """The vectors are for Unix; Windows is tested on purpose below."""
    monkeypatch.setattr(_command, "_WINDOWS", False)
    monkeypatch.delenv("NOT_SET_VAR", raising=False)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_wandb_vectors(vector, monkeypatch, tmp_path):
    for name, value in vector.get("env", {}).items():
        monkeypatch.setenv(name, value)
    argv = expand_command(
        vector["command"],
        vector["args"],
        program="train.py",
        interpreter="python",
        run_id="RUNID",
        sweep_id="SWEEPID",
        json_file_dir=tmp_path,
    )
    assert argv == vector["expected"]


def test_the_default_command_is_wandbs():
    assert list(DEFAULT_COMMAND) == ["${env}", "${interpreter}", "${program}", "${args}"]
    assert expand_command(None, {}, program="t.py", interpreter="py") == [
        "/usr/bin/env",
        "py",
        "t.py",
    ]


def test_interpreter_is_the_current_python_by_default():
    assert expand_command(["${interpreter}"], {}) == [sys.executable]


def test_env_is_dropped_on_windows(monkeypatch):
    monkeypatch.setattr(_command, "_WINDOWS", True)
    argv = expand_command(None, {"a": 1}, program="t.py", interpreter="python")
    assert argv == ["python", "t.py", "--a=1"]


def test_the_other_args_forms():
    args = {"lr": 0.001, "use_bn": True, "off": False, "opt": "adam"}
    assert expand_command(["${args_no_boolean_flags}"], args) == [
        "--lr=0.001",
        "--use_bn",
        "--opt=adam",
    ]
    assert expand_command(["${args_no_equals}"], args) == [
        "--lr", "0.001", "--use_bn", "True", "--off", "False", "--opt", "adam",
    ]  # fmt: skip


def test_boolean_flags_only_for_real_booleans():
    # 1 and "true" are not booleans: they keep their value.
    args = {"one": 1, "zero": 0, "text": "true", "none": None}
    assert expand_command(["${args_no_boolean_flags}"], args) == [
        "--one=1",
        "--zero=0",
        "--text=true",
        "--none=None",
    ]


def test_a_value_with_spaces_quotes_and_dollars_stays_one_token():
    note = "two words; $HOME 'q' \"dq\""
    assert expand_command(["${args}"], {"note": note}) == [f"--note={note}"]
    assert expand_command(["${args_no_equals}"], {"note": note}) == ["--note", note]


def test_no_args_gives_no_tokens():
    assert expand_command(["run", "${args}", "${args_json}", "end"], {}) == ["run", "{}", "end"]


def test_envvar_inside_items_and_several_per_item(monkeypatch):
    monkeypatch.setenv("A_1", "x")
    monkeypatch.setenv("B", "")
    assert expand_command(["${envvar:A_1}-${envvar:B}-${envvar:A_1}"], {}) == ["x--x"]


def test_envvar_values_are_not_expanded_again(monkeypatch):
    monkeypatch.setenv("SNEAKY", "${args}")
    assert expand_command(["${envvar:SNEAKY}"], {"a": 1}) == ["${args}"]


def test_only_whole_items_are_macros():
    argv = expand_command(["x${args}", "${args}y", "${ args }", "$args"], {"a": 1})
    assert argv == ["x${args}", "${args}y", "$args"]  # "${ args }" is an unknown macro


def test_args_json_file_is_written_only_when_used(tmp_path):
    args = {"lr": 0.1, "flag": True, "nested": {"k": [1, 2]}}
    folder = tmp_path / "sweep-S"
    argv = expand_command(
        ["${program}", "${args_json}"], args, program="t.py", run_id="R", json_file_dir=folder
    )
    assert not folder.exists()
    argv = expand_command(
        ["${program}", "${args_json_file}"],
        args,
        program="t.py",
        run_id="R",
        sweep_id="S",
        json_file_dir=folder,
    )
    path = args_json_path(folder, "R")
    assert argv == ["t.py", str(path)]
    assert path.name == "config-R.json"
    assert json.loads(path.read_text()) == args
    assert path.read_text() == json.dumps(args)


def test_args_json_file_needs_a_place(tmp_path):
    with pytest.raises(ValueError, match="json_file_dir"):
        expand_command(["${args_json_file}"], {"a": 1}, run_id="R")


def test_program_macro_without_a_program_is_a_clear_error():
    with pytest.raises(ValueError, match="no 'program'"):
        expand_command(None, {"a": 1})
    # a command that does not use ${program} needs none
    assert expand_command(["tool", "${args}"], {"a": 1}) == ["tool", "--a=1"]


def test_expansion_keeps_the_args_order():
    args = {"z": 1, "a": 2, "m": 3}
    assert expand_command(["${args_no_hyphens}"], args) == ["z=1", "a=2", "m=3"]


def test_uses_macro():
    assert uses_macro(None, "program")
    assert uses_macro(["${env}", "${program}"], "env")
    assert not uses_macro(["python", "t.py", "--x=${program}"], "program")
