"""Adversarial tests: the nbsweep command line gives one error line, never a traceback,
for user mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbsweep.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::nbsweep.NbsweepWarning")


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)  # a traceback here would be an exception escaping main()
    err = capsys.readouterr().err
    return code, err


def test_validate_non_utf8_file(tmp_path: Path, capsys) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_bytes(
        b'method: random\nparameters:\n  x: {values: [1, 2]}\ndescription: "caf\xe9"\n'
    )
    code, err = _run(["validate", str(path)], capsys)
    assert code == 2 and err.startswith("nbsweep: error:")


def test_validate_distribution_list(tmp_path: Path, capsys) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text(
        "method: random\nparameters:\n  x: {distribution: [uniform], min: 0.0, max: 1.0}\n"
    )
    code, err = _run(["validate", str(path)], capsys)
    assert code == 2 and "parameters.x.distribution" in err


@pytest.mark.parametrize("line", ["apiVersion: 2024-01-01", "kind: !!set {a, b}"])
def test_sweep_with_non_json_top_level_value(tmp_path: Path, capsys, line: str) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text(f"method: random\n{line}\nparameters:\n  x: {{min: 0.0, max: 1.0}}\n")
    code, err = _run(["sweep", str(path), "--store", str(tmp_path / "s.db")], capsys)
    assert code == 2 and err.startswith("nbsweep: error:")


def test_sweep_with_huge_run_cap(tmp_path: Path, capsys) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text(
        "method: random\nrun_cap: 99999999999999999999\nparameters:\n  x: {values: [1, 2]}\n"
    )
    code, err = _run(["sweep", str(path), "--store", str(tmp_path / "s.db")], capsys)
    assert code in (1, 2) and err.startswith("nbsweep: error:")


def test_sweep_with_huge_seed(tmp_path: Path, capsys) -> None:
    path = tmp_path / "sweep.yaml"
    path.write_text("method: grid\nparameters:\n  x: {values: [1, 2]}\n")
    argv = ["sweep", str(path), "--store", str(tmp_path / "s.db"), "--seed", str(2**70)]
    code, err = _run(argv, capsys)
    assert code == 2
    assert "error: argument --seed: expected a number from 0 to 2**63 - 1" in err
