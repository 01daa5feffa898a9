"""The program agent: one process per run, argv from the command template, exit codes, stops."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from testdata import case

import nbsweep
from nbsweep.agent._program import ProgramAgentError, run_program_agent
from nbsweep.store import open_store

REPO = Path(nbsweep.__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the tests' programs use POSIX signals")


@pytest.fixture(autouse=True)
def _workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in tmp_path, with nbsweep importable by the programs the agent starts."""
    monkeypatch.chdir(tmp_path)
    path = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", f"{REPO}{os.pathsep}{path}" if path else str(REPO))
    monkeypatch.setenv("RECORD_DIR", str(tmp_path / "records"))
    (tmp_path / "records").mkdir()
    return tmp_path


def write(path: Path, source: str) -> Path:
    path.write_text(textwrap.dedent(source))
    return path


def records(tmp_path: Path) -> dict[str, dict]:
    """What each program run wrote to RECORD_DIR, by run id."""
    return {p.stem: json.loads(p.read_text()) for p in (tmp_path / "records").glob("*.json")}


def runs_of(sweep_id: str, store) -> list:
    return nbsweep.Sweep(sweep_id, store=store).runs


def agent(store, sweep_id, **kwargs):
    kwargs.setdefault("echo", False)
    kwargs.setdefault("verbose", False)
    kwargs.setdefault("kill_delay_s", 5.0)
    return run_program_agent(store, sweep_id, **kwargs)


# BR-10: the argv each program receives ------------------------------------------------

RECORD_ARGV = """\
    import json, os, sys
    import nbsweep
    run = nbsweep.init()
    files = {a: open(a).read() for a in sys.argv[1:] if a.endswith(".json") and os.path.isfile(a)}
    record = {
        "argv": sys.argv[1:],
        "executable": sys.executable,
        "config": run.config.as_dict(),
        "files": files,
        "env": {k: os.environ.get(k) for k in
                ("NBSWEEP_RUN_ID", "NBSWEEP_SWEEP_ID", "NBSWEEP_STORE")},
    }
    with open(os.path.join(os.environ["RECORD_DIR"], run.id + ".json"), "w") as f:
        json.dump(record, f)
    run.log({"loss": 1.0})
"""

BR10 = case("BR-10")
NOTE = BR10["config"]["parameters"]["note"]["value"]


def _br10_sweep(store_path, command) -> str:
    config = dict(BR10["config"])
    config["command"] = command
    return nbsweep.sweep(config, store=store_path, seed=0)


def _expected_args(macro: str, config: dict) -> list[str]:
    # The run's args come in the engine's order: note, opt, use_aug.
    ordered = {"note": config["note"], "opt": config["opt"], "use_aug": config["use_aug"]}
    if macro == "args":
        return [f"--{k}={v}" for k, v in ordered.items()]
    if macro == "args_no_hyphens":
        return [f"{k}={v}" for k, v in ordered.items()]
    raise AssertionError(macro)


def test_br10_boolean_flags_literal_tokens_and_a_value_with_spaces(tmp_path, store_path):
    assert NOTE == "two words; $HOME 'q' \"dq\""
    write(tmp_path / "train.py", RECORD_ARGV)
    sweep_id = _br10_sweep(store_path, BR10["config"]["command"])
    progress = agent(store_path, sweep_id)
    assert (progress.state, progress.finished, progress.failed) == ("finished", 4, 0)

    seen = records(tmp_path)
    runs = runs_of(sweep_id, store_path)
    assert len(runs) == 4
    assert len(seen) == 4
    combos = set()
    for run in runs:
        assert run.state == "finished"
        got = seen[run.id]
        use_aug, opt = run.config["use_aug"], run.config["opt"]
        combos.add((use_aug, opt))
        flag = ["--use_aug"] if use_aug else []
        assert got["argv"] == [f"--note={NOTE}", f"--opt={opt}", *flag, "--tag", "fixed"]
        assert got["config"] == run.config
        assert got["executable"] == sys.executable  # ${interpreter}: the agent's Python
        assert got["env"] == {
            "NBSWEEP_RUN_ID": run.id,
            "NBSWEEP_SWEEP_ID": sweep_id,
            "NBSWEEP_STORE": str(store_path),
        }
        assert "--use_aug=False" not in got["argv"]
        assert "--use_aug=True" not in got["argv"]
    assert combos == {(True, "sgd"), (True, "adam"), (False, "sgd"), (False, "adam")}


@pytest.mark.slow
@pytest.mark.parametrize("macro", ["args", "args_no_hyphens"])
def test_br10_args_variants(tmp_path, store_path, macro):
    write(tmp_path / "train.py", RECORD_ARGV)
    sweep_id = _br10_sweep(store_path, ["${env}", "${interpreter}", "${program}", f"${{{macro}}}"])
    assert agent(store_path, sweep_id).finished == 4
    seen = records(tmp_path)
    for run in runs_of(sweep_id, store_path):
        assert seen[run.id]["argv"] == _expected_args(macro, run.config)
        prefix = "--" if macro == "args" else ""
        expected_flag = f"{prefix}use_aug={run.config['use_aug']}"
        assert expected_flag in seen[run.id]["argv"]  # use_aug=True / use_aug=False
        assert f"{prefix}note={NOTE}" in seen[run.id]["argv"]  # one element


@pytest.mark.slow
def test_br10_args_json_is_one_valid_json_element(tmp_path, store_path):
    write(tmp_path / "train.py", RECORD_ARGV)
    sweep_id = _br10_sweep(store_path, ["${env}", "${interpreter}", "${program}", "${args_json}"])
    assert agent(store_path, sweep_id).finished == 4
    seen = records(tmp_path)
    for run in runs_of(sweep_id, store_path):
        argv = seen[run.id]["argv"]
        assert len(argv) == 1
        assert json.loads(argv[0]) == run.config
        assert ("true" if run.config["use_aug"] else "false") in argv[0]


@pytest.mark.slow
def test_br10_args_json_file_is_a_readable_file_with_the_same_content(tmp_path, store_path):
    write(tmp_path / "train.py", RECORD_ARGV)
    sweep_id = _br10_sweep(
        store_path, ["${env}", "${interpreter}", "${program}", "${args_json_file}"]
    )
    assert agent(store_path, sweep_id, files_dir=tmp_path / "files").finished == 4
    seen = records(tmp_path)
    for run in runs_of(sweep_id, store_path):
        argv = seen[run.id]["argv"]
        assert argv == [str(tmp_path / "files" / f"config-{run.id}.json")]
        assert json.loads(seen[run.id]["files"][argv[0]]) == run.config


def test_br10_json_files_go_next_to_the_store_by_default(tmp_path, store_path):
    write(tmp_path / "train.py", RECORD_ARGV)
    sweep_id = _br10_sweep(
        store_path, ["${env}", "${interpreter}", "${program}", "${args_json_file}"]
    )
    agent(store_path, sweep_id, count=1)
    (run,) = runs_of(sweep_id, store_path)
    expected = store_path.parent / "nbsweep-files" / f"sweep-{sweep_id}" / f"config-{run.id}.json"
    assert records(tmp_path)[run.id]["argv"] == [str(expected)]


def test_br10_a_macro_only_command_is_refused_at_creation(store_path):
    config = dict(BR10["config"])
    config["command"] = ["${args_no_boolean_flags}"]
    with pytest.raises(nbsweep.ConfigError, match="first argument would run as the program"):
        nbsweep.sweep(config, store=store_path)
    assert open_store(store_path).list_sweeps() == []


# Exit codes, output, limits -----------------------------------------------------------


def test_a_failing_program_fails_its_run_with_the_exit_code(tmp_path, store_path):
    write(
        tmp_path / "fail.py",
        """\
        import sys
        print("working", flush=True)
        print("Traceback (most recent call last):", file=sys.stderr)
        print("ValueError: boom", file=sys.stderr)
        sys.exit(3)
        """,
    )
    sweep_id = nbsweep.sweep(
        {"method": "grid", "program": "fail.py", "parameters": {"x": {"values": [1]}}},
        store=store_path,
    )
    progress = agent(store_path, sweep_id)
    assert (progress.failed, progress.finished) == (1, 0)
    (run,) = runs_of(sweep_id, store_path)
    assert run.state == "failed"
    assert run.error_summary == "ProgramError: the program exited with code 3: ValueError: boom"
    assert "Traceback (most recent call last):" in run.error
    assert "working" in run.reload().output


def test_a_program_killed_by_a_signal_names_it(tmp_path, store_path):
    write(tmp_path / "die.py", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    sweep_id = nbsweep.sweep(
        {"method": "grid", "program": "die.py", "parameters": {"x": {"values": [1]}}},
        store=store_path,
    )
    agent(store_path, sweep_id)
    (run,) = runs_of(sweep_id, store_path)
    assert run.state == "failed"
    assert "killed by SIGKILL" in run.error


@pytest.mark.parametrize(
    ("ending", "summary"),
    [
        ("sys.exit(3)", "ProgramError: the program exited with code 3"),
        ("raise ValueError('boom')", "ValueError: boom"),
    ],
)
def test_a_program_that_called_init_and_then_failed_has_a_failed_run(
    tmp_path, store_path, ending, summary
):
    write(tmp_path / "fail.py", f"import sys, nbsweep\nrun = nbsweep.init()\n{ending}\n")
    sweep_id = nbsweep.sweep(
        {"method": "grid", "program": "fail.py", "parameters": {"x": {"values": [1]}}},
        store=store_path,
    )
    progress = agent(store_path, sweep_id)
    assert progress.failed == 1
    (run,) = runs_of(sweep_id, store_path)
    assert run.state == "failed"
    assert run.error_summary == summary


def test_a_program_without_init_finishes_by_its_exit_code(tmp_path, store_path, capfd):
    write(
        tmp_path / "plain.py",
        """\
        import sys
        print("out line", sys.argv[1:])
        print("err line", file=sys.stderr)
        sys.exit(0 if sys.argv[1] == "--x=1" else 1)
        """,
    )
    sweep_id = nbsweep.sweep(
        {"method": "grid", "program": "plain.py", "parameters": {"x": {"values": [1, 2]}}},
        store=store_path,
    )
    progress = agent(store_path, sweep_id, echo=True)
    assert (progress.finished, progress.failed) == (1, 1)
    first, second = runs_of(sweep_id, store_path)
    assert (first.state, second.state) == ("finished", "failed")
    assert second.error_summary == "ProgramError: the program exited with code 1: err line"
    assert first.finished_at is not None
    output = first.reload().output
    assert "out line ['--x=1']\n" in output
    assert "err line\n" in output
    shown = capfd.readouterr()
    assert "out line ['--x=1']" in shown.out
    assert "err line" in shown.err


def test_stored_output_keeps_each_streams_lines_whole(tmp_path, store_path):
    write(
        tmp_path / "mixed.py",
        """\
        import sys, time
        sys.stdout.write("half")
        sys.stdout.flush()
        time.sleep(0.2)
        sys.stderr.write("an error line\\n")
        sys.stderr.flush()
        time.sleep(0.2)
        sys.stdout.write(" and the rest\\n")
        sys.stdout.write("no newline at the end")
        """,
    )
    sweep_id = nbsweep.sweep(
        {"method": "grid", "program": "mixed.py", "parameters": {"x": {"values": [1]}}},
        store=store_path,
    )
    agent(store_path, sweep_id)
    output = runs_of(sweep_id, store_path)[0].reload().output
    assert sorted(output.splitlines()) == [
        "an error line",
        "half and the rest",
        "no newline at the end",
    ]
    assert output.endswith("no newline at the end")


def test_output_while_the_program_runs_is_stored_before_it_ends(tmp_path, store_path):
    write(
        tmp_path / "slow.py",
        """\
        import os, time
        print("early", flush=True)
        open(os.path.join(os.environ["RECORD_DIR"], "go"), "w").close()
        time.sleep(3)
        """,
    )
    sweep_id = nbsweep.sweep(
        {"method": "grid", "program": "slow.py", "parameters": {"x": {"values": [1]}}},
        store=store_path,
    )
    thread = threading.Thread(target=agent, args=(store_path, sweep_id))
    thread.start()
    try:
        _wait_for(lambda: (tmp_path / "records" / "go").exists())
        _wait_for(lambda: "early" in (_only_run(sweep_id, store_path).output or ""))
    finally:
        thread.join(30)


def test_count_is_honoured(tmp_path, store_path):
    write(tmp_path / "ok.py", "pass\n")
    sweep_id = nbsweep.sweep(
        {"method": "random", "program": "ok.py", "parameters": {"x": {"min": 0.0, "max": 1.0}}},
        store=store_path,
    )
    progress = agent(store_path, sweep_id, count=2)
    assert (progress.state, progress.started, progress.finished) == ("finished", 2, 2)
    assert "count of 2" in progress.message
    assert len(runs_of(sweep_id, store_path)) == 2


def test_run_cap_is_honoured(tmp_path, store_path):
    write(tmp_path / "ok.py", "pass\n")
    sweep_id = nbsweep.sweep(
        {
            "method": "random",
            "program": "ok.py",
            "run_cap": 3,
            "parameters": {"x": {"min": 0.0, "max": 1.0}},
        },
        store=store_path,
    )
    progress = agent(store_path, sweep_id)
    assert (progress.state, progress.finished) == ("finished", 3)
    assert "run_cap 3" in progress.message
    assert nbsweep.Sweep(sweep_id, store=store_path).state == "FINISHED"


def test_consecutive_failures_stop_the_agent(tmp_path, store_path):
    write(tmp_path / "bad.py", "import sys\nprint('nope', file=sys.stderr)\nsys.exit(2)\n")
    sweep_id = nbsweep.sweep(
        {"method": "random", "program": "bad.py", "parameters": {"x": {"min": 0.0, "max": 1.0}}},
        store=store_path,
    )
    progress = agent(store_path, sweep_id, max_consecutive_failures=3)
    assert (progress.state, progress.started, progress.failed) == ("failed", 3, 3)
    assert "3 failed runs in a row" in progress.message
    assert "exited with code 2" in progress.message


def test_an_executable_that_cannot_start_fails_its_runs(store_path):
    sweep_id = nbsweep.sweep(
        {
            "method": "random",
            "command": ["/nonexistent/nbsweep-tool", "${args}"],
            "parameters": {"x": {"min": 0.0, "max": 1.0}},
        },
        store=store_path,
    )
    progress = agent(store_path, sweep_id, max_consecutive_failures=2)
    assert (progress.state, progress.failed) == ("failed", 2)
    run = runs_of(sweep_id, store_path)[0]
    assert run.state == "failed"
    assert run.error_summary.startswith("CommandError: could not start '/nonexistent/")


def test_a_missing_program_key_is_refused_before_any_run(store_path):
    sweep_id = nbsweep.sweep(
        {"method": "grid", "parameters": {"x": {"values": [1, 2]}}}, store=store_path
    )
    with pytest.raises(ProgramAgentError, match="no 'program'"):
        agent(store_path, sweep_id)
    assert runs_of(sweep_id, store_path) == []


def test_a_program_that_is_not_there_is_refused_before_any_run(store_path):
    sweep_id = nbsweep.sweep(
        {"method": "grid", "program": "nothere.py", "parameters": {"x": {"values": [1]}}},
        store=store_path,
    )
    with pytest.raises(ProgramAgentError, match=r"'nothere\.py' is not a file"):
        agent(store_path, sweep_id)
    assert runs_of(sweep_id, store_path) == []


def test_an_unknown_sweep_names_the_closest(store_path):
    sweep_id = nbsweep.sweep(
        {"method": "grid", "parameters": {"x": {"values": [1]}}}, store=store_path
    )
    with pytest.raises(nbsweep.SweepNotFoundError, match=f"did you mean '{sweep_id}'"):
        agent(store_path, sweep_id[:-1] + ("x" if sweep_id[-1] != "x" else "y"))


# Heartbeats, pause, stop and cancel --------------------------------------------------


def _wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def _only_run(sweep_id, store_path):
    runs = open_store(store_path).sweep_runs(sweep_id)
    return open_store(store_path).get_run(runs[0].id) if runs else None


def test_the_agent_heartbeats_a_run_whose_program_is_silent(tmp_path, store_path, monkeypatch):
    monkeypatch.setenv("NBSWEEP_CRASH_GRACE_S", "1.5")
    write(tmp_path / "quiet.py", "import time\ntime.sleep(4)\n")
    sweep_id = nbsweep.sweep(
        {"method": "grid", "program": "quiet.py", "parameters": {"x": {"values": [1]}}},
        store=store_path,
    )
    thread = threading.Thread(target=agent, args=(store_path, sweep_id))
    thread.start()
    try:
        time.sleep(3)  # twice the grace, with no output and no nbsweep.init()
        (run,) = runs_of(sweep_id, store_path)  # this marks runs without a heartbeat crashed
        assert run.state == "running"
    finally:
        thread.join(30)
    assert runs_of(sweep_id, store_path)[0].state == "finished"


def test_a_paused_sweep_waits_for_resume(tmp_path, store_path):
    write(tmp_path / "ok.py", "pass\n")
    sweep_id = nbsweep.sweep(
        {"method": "grid", "program": "ok.py", "parameters": {"x": {"values": [1, 2]}}},
        store=store_path,
    )
    sweep = nbsweep.Sweep(sweep_id, store=store_path)
    sweep.pause()
    result = {}
    thread = threading.Thread(
        target=lambda: result.setdefault("p", agent(store_path, sweep_id, count=1))
    )
    thread.start()
    time.sleep(1.5)
    assert sweep.runs == []
    assert thread.is_alive()
    sweep.resume()
    thread.join(30)
    assert result["p"].finished == 1


LONG_RUN = """\
    import os, signal, sys, time
    import nbsweep
    if "--ignore_term=True" in sys.argv:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    run = nbsweep.init() if "--use_init=True" in sys.argv else None
    open(os.path.join(os.environ["RECORD_DIR"], "pid"), "w").write(str(os.getpid()))
    for i in range(600):
        if run is not None:
            run.log({"loss": float(i)})
        time.sleep(0.1)
"""


def _long_sweep(tmp_path, store_path, *, use_init=True, ignore_term=False) -> str:
    write(tmp_path / "long.py", LONG_RUN)
    return nbsweep.sweep(
        {
            "method": "grid",
            "program": "long.py",
            "parameters": {
                "use_init": {"value": use_init},
                "ignore_term": {"value": ignore_term},
            },
        },
        store=store_path,
    )


def _pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_sigterm_to_the_cli_agent_stops_the_running_run(tmp_path, store_path):
    sweep_id = _long_sweep(tmp_path, store_path)
    env = dict(os.environ)
    proc = subprocess.Popen(
        [sys.executable, "-m", "nbsweep", "agent", sweep_id, "--store", str(store_path),
         "--kill-delay", "10"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        pid_file = tmp_path / "records" / "pid"
        _wait_for(lambda: pid_file.exists() and pid_file.read_text())
        child = int(pid_file.read_text())
        _wait_for(lambda: (_only_run(sweep_id, store_path).last_step or 0) >= 2)
        os.kill(proc.pid, signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "stopped by SIGTERM" in err
    run = _only_run(sweep_id, store_path)
    assert run.state == "stopped"
    assert run.stop_reason == "agent received SIGTERM"
    assert run.summary["loss"] >= 2.0  # what it logged before the stop is kept
    assert _pid_gone(child)
    agents = open_store(store_path).read().execute("SELECT kind, state FROM agents").fetchall()
    assert agents == [("program", "stopped")]


def test_a_program_that_ignores_sigterm_is_killed_after_the_delay(tmp_path, store_path):
    sweep_id = _long_sweep(tmp_path, store_path, use_init=False, ignore_term=True)
    stop = threading.Event()
    result = {}

    def go():
        result["p"] = agent(
            store_path, sweep_id, stop=stop, kill_delay_s=0.5, handle_signals=False
        )

    thread = threading.Thread(target=go)
    thread.start()
    pid_file = tmp_path / "records" / "pid"
    _wait_for(lambda: pid_file.exists() and pid_file.read_text())
    started = time.monotonic()
    stop.set()
    thread.join(30)
    assert time.monotonic() - started < 10
    assert (result["p"].state, result["p"].stopped, result["p"].failed) == ("stopped", 1, 0)
    run = _only_run(sweep_id, store_path)
    assert (run.state, run.stop_reason) == ("stopped", "agent stopped")
    assert _pid_gone(int(pid_file.read_text()))


def test_canceling_the_sweep_terminates_a_program_that_never_calls_init(tmp_path, store_path):
    sweep_id = _long_sweep(tmp_path, store_path, use_init=False)
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("p", agent(store_path, sweep_id)))
    thread.start()
    pid_file = tmp_path / "records" / "pid"
    _wait_for(lambda: pid_file.exists() and pid_file.read_text())
    nbsweep.Sweep(sweep_id, store=store_path).cancel()
    thread.join(30)
    assert not thread.is_alive()
    assert (result["p"].state, result["p"].stopped) == ("finished", 1)
    run = _only_run(sweep_id, store_path)
    assert (run.state, run.stop_reason) == ("stopped", "sweep canceled")
    assert _pid_gone(int(pid_file.read_text()))


def test_a_second_ctrl_c_kills_the_program_at_once(tmp_path, store_path):
    sweep_id = _long_sweep(tmp_path, store_path, ignore_term=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "nbsweep", "agent", sweep_id, "--store", str(store_path),
         "--kill-delay", "120"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        pid_file = tmp_path / "records" / "pid"
        _wait_for(lambda: pid_file.exists() and pid_file.read_text())
        os.kill(proc.pid, signal.SIGINT)
        _wait_for(lambda: _only_run(sweep_id, store_path).state == "stopped")
        assert proc.poll() is None  # waiting out the kill delay for a program that ignores TERM
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    assert "Ctrl-C again to kill it now" in err
    assert "Traceback" not in err
    run = _only_run(sweep_id, store_path)
    assert run.stop_reason == "agent received SIGINT"
    assert _pid_gone(int(pid_file.read_text()))


def test_init_for_a_run_stopped_before_the_program_attached_gives_no_stray_run(
    tmp_path, store_path
):
    from nbsweep.controller import claim_next_run

    sweep_id = nbsweep.sweep(
        {"method": "grid", "program": "p.py", "parameters": {"x": {"values": [5]}}},
        store=store_path,
    )
    store = open_store(store_path)
    claimed = claim_next_run(store, sweep_id).run
    store.set_run_state(claimed.id, "stopped", reason="sweep canceled")
    write(
        tmp_path / "p.py",
        """\
        import nbsweep
        run = nbsweep.init(config={"x": 0})
        print(run.id, run.config["x"])
        """,
    )
    env = dict(os.environ, NBSWEEP_RUN_ID=claimed.id, NBSWEEP_STORE=str(store_path))
    done = subprocess.run(
        [sys.executable, "p.py"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    # Either init() refuses (the program ends) or it hands back the stopped run itself;
    # it must not train on x=0 in a run of its own.
    total = store.read().execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    assert total == 1, done.stdout
    assert done.returncode != 0 and "is stopped already: sweep canceled" in done.stderr


def test_program_agent_warns_once_about_a_metric_never_logged(tmp_path, store_path, capsys):
    write(
        tmp_path / "p.py",
        """\
        import nbsweep
        nbsweep.init().log({"los": 1.0})
        """,
    )
    sweep_id = nbsweep.sweep(
        {
            "method": "grid",
            "program": "p.py",
            "metric": {"name": "loss"},
            "parameters": {"x": {"values": [1, 2]}},
        },
        store=store_path,
    )
    monkey_cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        run_program_agent(open_store(store_path), sweep_id, handle_signals=False)
    finally:
        os.chdir(monkey_cwd)
    err = capsys.readouterr().err
    assert err.count("was never logged") == 1 and "Did you mean 'los'?" in err
