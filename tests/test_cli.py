"""The ``nbsweep`` command line, in-process through ``main`` and once as ``python -m nbsweep``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

import nbsweep
from nbsweep.cli import main
from nbsweep.store import open_store

REPO = Path(nbsweep.__file__).resolve().parents[1]

GRID = """\
    method: grid
    name: demo
    program: train.py
    metric: {name: loss, goal: minimize}
    parameters:
      x: {values: [1, 2, 3]}
      opt:
        parameters:
          lr: {value: 0.1}
"""

TRAIN = """\
    import sys
    import nbsweep
    run = nbsweep.init()
    print("training with", sys.argv[1:])
    run.log({"loss": float(run.config["x"]) * 2})
"""


@pytest.fixture(autouse=True)
def _workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", f"{REPO}{os.pathsep}{path}" if path else str(REPO))


def write(path: Path, text: str) -> str:
    path.write_text(textwrap.dedent(text))
    return str(path)


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.fixture
def config(tmp_path: Path) -> str:
    return write(tmp_path / "sweep.yaml", GRID)


@pytest.fixture
def sweep_id(capsys, config, store_path) -> str:
    code, out, _ = cli(capsys, "sweep", config, "--store", str(store_path), "--seed", "7")
    assert code == 0
    return out.strip()


# sweep ---------------------------------------------------------------------------------


def test_sweep_prints_the_id_and_the_agent_command(capsys, config, store_path):
    code, out, err = cli(capsys, "sweep", config, "--store", str(store_path), "--seed", "5")
    assert code == 0
    sweep_id = out.strip()
    assert len(out.splitlines()) == 1
    assert len(sweep_id) == 8
    assert f"nbsweep agent {sweep_id} --store {store_path}" in err
    record = open_store(store_path).get_sweep(sweep_id)
    assert (record.seed, record.name, record.method) == (5, "demo", "grid")


def test_sweep_name_flag_overrides_and_default_store_is_used(capsys, config, store_path):
    # no --store: $NBSWEEP_STORE (set to this test's store by the conftest)
    code, out, err = cli(capsys, "sweep", config, "--name", "other")
    assert code == 0
    assert open_store(store_path).get_sweep(out.strip()).name == "other"
    assert "--store" not in err


def test_sweep_with_a_bad_config_exits_2_and_stores_nothing(capsys, tmp_path, store_path):
    bad = write(tmp_path / "bad.yaml", "method: grid\nparameters:\n  x: {vales: [1]}\n")
    code, out, err = cli(capsys, "sweep", bad, "--store", str(store_path))
    assert code == 2
    assert out == ""
    assert err.startswith("nbsweep: error: ")
    assert "parameters.x.vales" in err
    assert "did you mean 'values'?" in err
    assert open_store(store_path).list_sweeps() == []


def test_sweep_with_a_macro_only_command_shows_the_validation_error(capsys, tmp_path, store_path):
    path = write(
        tmp_path / "macro.yaml",
        """\
        method: grid
        program: train.py
        command: ["${args_no_boolean_flags}"]
        parameters:
          use_aug: {values: [true, false]}
        """,
    )
    code, out, err = cli(capsys, "sweep", path, "--store", str(store_path))
    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        "nbsweep: error: command: starts with ${args_no_boolean_flags}, so the first argument "
        "would run as the program; put ${env} ${interpreter} ${program} (or your executable) "
        "before it"
    ]
    assert open_store(store_path).list_sweeps() == []


def test_sweep_of_a_missing_file(capsys, store_path):
    code, _, err = cli(capsys, "sweep", "nothere.yaml", "--store", str(store_path))
    assert code == 2
    assert err == "nbsweep: error: no sweep config file at 'nothere.yaml'\n"


def test_config_warnings_are_printed_not_raised(capsys, tmp_path, store_path):
    path = write(
        tmp_path / "noargs.yaml",
        """\
        method: grid
        program: train.py
        command: ["${env}", "${interpreter}", "${program}"]
        parameters:
          x: {values: [1]}
        """,
    )
    code, out, err = cli(capsys, "sweep", path, "--store", str(store_path))
    assert code == 0
    assert out.strip()
    assert "nbsweep: warning: command: has no ${args...} macro" in err


# validate ------------------------------------------------------------------------------


def test_validate_prints_the_normalised_yaml(capsys, config):
    code, out, err = cli(capsys, "validate", config)
    assert code == 0
    assert err == ""
    assert yaml.safe_load(out) == nbsweep.validate(Path(config)).to_dict()
    assert "distribution: categorical" in out


def test_validate_a_bad_config_exits_2(capsys, tmp_path):
    bad = write(tmp_path / "bad.yaml", "method: grid\nparameters:\n  x: {min: 0.0, max: 1.0}\n")
    code, out, err = cli(capsys, "validate", bad)
    assert code == 2
    assert out == ""
    assert err.startswith("nbsweep: error: parameters.x: grid cannot enumerate")
    assert len(err.splitlines()) == 1


def test_validate_unparsable_yaml(capsys, tmp_path):
    bad = write(tmp_path / "broken.yaml", "method: [grid\n")
    code, _, err = cli(capsys, "validate", bad)
    assert code == 2
    assert err.startswith("nbsweep: error: cannot parse")


# ls and show ---------------------------------------------------------------------------


def test_ls_and_show_on_a_run_sweep(capsys, tmp_path, store_path, sweep_id):
    write(tmp_path / "train.py", TRAIN)
    code, out, err = cli(capsys, "agent", sweep_id, "--store", str(store_path), "--count", "2")
    assert code == 0
    assert "'--x=1']" in out
    assert "'--x=2']" in out
    assert "nbsweep: The agent ran its count of 2 runs." in err

    code, out, _ = cli(capsys, "ls", "--store", str(store_path))
    assert code == 0
    header, row = out.splitlines()
    assert header.split() == ["ID", "NAME", "METHOD", "STATE", "RUNS"]
    assert row.split() == [sweep_id, "demo", "grid", "RUNNING", "2", "(2", "finished)"]

    code, out, _ = cli(capsys, "show", sweep_id, "--store", str(store_path))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"sweep {sweep_id} (demo)"
    assert "  method:   grid, 3 grid points" in lines
    assert "  metric:   loss (minimize)" in lines
    assert "  seed:     7" in lines
    assert "  program:  train.py" in lines
    assert "    x: categorical [1, 2, 3]" in lines
    assert "      lr: constant 0.1" in lines
    assert "runs: 2 (2 finished)" in lines
    table = lines[lines.index("runs: 2 (2 finished)") + 1 :]
    assert table[0].split() == ["id", "state", "loss", "opt.lr", "x", "duration", "error"]
    assert table[1].split()[1:5] == ["finished", "2.0", "0.1", "1"]
    assert table[2].split()[1:5] == ["finished", "4.0", "0.1", "2"]
    best = next(line for line in lines if line.startswith("best run: "))
    first_id = table[1].split()[0]
    assert best == f'best run: {first_id}  loss=2.0  config={{"opt": {{"lr": 0.1}}, "x": 1}}'


def test_ls_with_no_sweeps_and_show_without_runs_or_metric(capsys, tmp_path, store_path):
    open_store(store_path)
    code, out, _ = cli(capsys, "ls", "--store", str(store_path))
    assert (code, out) == (0, f"no sweeps in {store_path}\n")
    plain = write(tmp_path / "plain.yaml", "method: random\nparameters:\n  a: {min: 0, max: 9}\n")
    _, sweep_id, _ = cli(capsys, "sweep", plain, "--store", str(store_path))
    code, out, _ = cli(capsys, "show", sweep_id.strip(), "--store", str(store_path))
    assert code == 0
    assert "  metric:   none" in out
    assert "    a: int_uniform(min=0, max=9)" in out
    assert "runs: 0" in out
    assert "best run: none (the sweep has no metric)" in out


def test_show_lists_failed_runs_with_their_error(capsys, tmp_path, store_path, sweep_id):
    write(tmp_path / "train.py", "import sys\nprint('ValueError: nope', file=sys.stderr)\n"
                                 "sys.exit(4)\n")  # fmt: skip
    code, _, _ = cli(capsys, "agent", sweep_id, "--store", str(store_path), "--count", "1")
    assert code == 0
    code, out, _ = cli(capsys, "show", sweep_id, "--store", str(store_path))
    assert "runs: 1 (1 failed)" in out
    assert "ProgramError: the program exited with code 4: ValueError: nope" in out
    assert "best run: none yet (no finished run logged 'loss')" in out


# bad ids and stores --------------------------------------------------------------------


@pytest.mark.parametrize("command", ["show", "agent", "pause", "resume", "stop", "cancel"])
def test_a_bad_id_is_one_line_with_a_did_you_mean(capsys, store_path, sweep_id, command):
    wrong = sweep_id[:-1] + ("x" if sweep_id[-1] != "x" else "y")
    code, out, err = cli(capsys, command, wrong, "--store", str(store_path))
    assert code == 1
    assert out == ""
    assert err == (
        f"nbsweep: error: no sweep '{wrong}' in the store {store_path}; "
        f"did you mean '{sweep_id}'?\n"
    )


def test_a_missing_store_is_an_error_not_a_new_file(capsys, tmp_path):
    path = tmp_path / "none.db"
    code, _, err = cli(capsys, "ls", "--store", str(path))
    assert code == 1
    assert err.startswith(f"nbsweep: error: no nbsweep store at {path}")
    assert not path.exists()


def test_usage_errors_exit_2(capsys):
    assert main([]) == 2
    assert main(["agent"]) == 2
    assert main(["agent", "abc", "--count", "0"]) == 2
    assert main(["frobnicate"]) == 2
    assert main(["--help"]) == 0
    assert "usage: nbsweep" in capsys.readouterr().out


# state changes -------------------------------------------------------------------------


def test_pause_resume_stop_cancel(capsys, store_path, sweep_id):
    store = ["--store", str(store_path)]

    def state():
        return open_store(store_path).get_sweep(sweep_id).state

    assert cli(capsys, "pause", sweep_id, *store)[:2] == (
        0,
        f"sweep {sweep_id} paused (running runs go on; no new runs until resume)\n",
    )
    assert state() == "PAUSED"
    assert cli(capsys, "resume", sweep_id, *store)[0] == 0
    assert state() == "RUNNING"
    assert cli(capsys, "stop", sweep_id, *store)[0] == 0
    assert state() == "FINISHED"
    assert cli(capsys, "pause", sweep_id, *store) == (
        1,
        "",
        "nbsweep: error: Cannot pause finished sweep.\n",
    )
    assert cli(capsys, "stop", sweep_id, *store)[2] == "nbsweep: error: Sweep already finished.\n"
    assert cli(capsys, "resume", sweep_id, *store)[0] == 0
    assert cli(capsys, "cancel", sweep_id, *store)[0] == 0
    assert state() == "CANCELED"
    assert cli(capsys, "cancel", sweep_id, *store)[:2] == (1, "")


# agent ---------------------------------------------------------------------------------


def test_agent_runs_the_whole_grid(capsys, tmp_path, store_path, sweep_id):
    write(tmp_path / "train.py", TRAIN)
    code, out, err = cli(capsys, "agent", sweep_id, "--store", str(store_path))
    assert code == 0
    assert out.count("training with") == 3  # the program's stdout, echoed
    assert "The sweep needs no more runs" in err
    runs = nbsweep.Sweep(sweep_id, store=store_path).runs
    assert [r.state for r in runs] == ["finished"] * 3
    assert all("training with" in r.reload().output for r in runs)


def test_agent_exits_1_after_too_many_failures(capsys, tmp_path, store_path):
    write(tmp_path / "train.py", "raise SystemExit(1)\n")
    path = write(
        tmp_path / "r.yaml",
        "method: random\nprogram: train.py\nparameters:\n  x: {min: 0.0, max: 1.0}\n",
    )
    _, sweep_id, _ = cli(capsys, "sweep", path, "--store", str(store_path))
    code, _, err = cli(
        capsys, "agent", sweep_id.strip(), "--store", str(store_path), "--max-failures", "2"
    )
    assert code == 1
    assert "The agent stopped after 2 failed runs in a row." in err


def test_agent_without_a_program_is_one_clear_error(capsys, tmp_path, store_path):
    path = write(tmp_path / "np.yaml", "method: grid\nparameters:\n  x: {values: [1]}\n")
    _, sweep_id, _ = cli(capsys, "sweep", path, "--store", str(store_path))
    code, _out, err = cli(capsys, "agent", sweep_id.strip(), "--store", str(store_path))
    assert code == 1
    assert len(err.splitlines()) == 1
    assert err.startswith(f"nbsweep: error: sweep {sweep_id.strip()} has no 'program'")
    assert open_store(store_path).sweep_runs(sweep_id.strip()) == []


# python -m nbsweep ---------------------------------------------------------------------


def test_python_dash_m_nbsweep(tmp_path, store_path, config):
    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "nbsweep", *argv],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    write(tmp_path / "train.py", TRAIN)
    made = run("sweep", config, "--store", str(store_path))
    assert made.returncode == 0, made.stderr
    sweep_id = made.stdout.strip()
    ran = run("agent", sweep_id, "--store", str(store_path), "--count", "1")
    assert ran.returncode == 0, ran.stderr
    assert "training with" in ran.stdout
    shown = run("show", sweep_id, "--store", str(store_path))
    assert shown.returncode == 0
    assert "runs: 1 (1 finished)" in shown.stdout
    bad = run("show", "nope", "--store", str(store_path))
    assert bad.returncode == 1
    assert bad.stderr.startswith("nbsweep: error: no sweep 'nope'")
    assert "Traceback" not in bad.stderr
    invalid = run("validate", str(tmp_path / "missing.yaml"))
    assert invalid.returncode == 2
    assert "Traceback" not in invalid.stderr
