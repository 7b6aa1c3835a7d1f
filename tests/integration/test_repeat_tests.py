"""scripts/repeat_tests.py names a test that passes in some runs and fails in others, and only that one."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import repeat_tests


def test_a_test_failing_in_one_run_of_three_is_flaky(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    counter = tmp_path / "count"
    (tmp_path / "test_sample.py").write_text(
        "from pathlib import Path\n"
        f"COUNT = Path({str(counter)!r})\n"
        "def test_steady():\n    assert COUNT.parent.is_dir()  # the same in every run\n"
        "def test_flips():\n"
        "    n = int(COUNT.read_text()) if COUNT.exists() else 0\n"
        "    COUNT.write_text(str(n + 1))\n"
        "    assert n != 1  # fails in the second run only\n", encoding="utf-8")
    status = repeat_tests.main(["--runs", "3", str(tmp_path / "test_sample.py"), "-p", "no:randomly"])
    out = capsys.readouterr().out
    assert status == 1
    assert "flaky (2/3 passed): " in out and "test_flips" in out
    assert "test_steady" not in out.split("run 3/3")[1]
    assert out.strip().splitlines()[-1] == "flaky: 1 of 2 tests (2 tests, 3 runs)"


def test_steady_tests_report_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "test_ok.py").write_text(
        f"from pathlib import Path\ndef test_ok():\n    assert Path({str(tmp_path)!r}).is_dir()\n", encoding="utf-8")
    assert repeat_tests.main(["--runs", "2", str(tmp_path / "test_ok.py")]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "flaky: none (1 tests, 2 runs)"
