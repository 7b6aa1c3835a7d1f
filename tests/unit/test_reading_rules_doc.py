"""docs/reading-rules.md and the README say the same thing, and the defaults they state are the code's."""

from __future__ import annotations

from pathlib import Path

from services.evaluator.domain import model

ROOT = Path(__file__).resolve().parents[2]
RULES = (ROOT / "docs" / "reading-rules.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _table(text: str, header: str) -> list[str]:
    start = text.index(header)
    end = text.find("\n\n", start)
    return text[start:end if end != -1 else len(text)].strip().splitlines()


def test_the_readme_table_is_the_rules_summary() -> None:
    header = "| kind | read as | statuses |"
    assert _table(README, header) == _table(RULES, header)


def test_the_stated_defaults_are_the_codes() -> None:
    defaults = _table(RULES, "| 参数 `params` | 默认 | 理由 |")
    row = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in defaults[2:]}
    assert row["`band_pp`"] == f"{model.DEFAULT_BAND_PP:g}"
    assert row["`tolerance_pp`"] == f"{model.DEFAULT_PROGRESS_TOLERANCE_PP:g}"
    assert row["`far_behind_pp`"] == f"{model.DEFAULT_FAR_BEHIND_PP:g}"
    assert row["`warn_margin_pp`"] == f"{model.DEFAULT_WARN_MARGIN_PP:g}"
    assert row["`hysteresis_pp`"].startswith(f"{model.DEFAULT_RATE_HYSTERESIS_PP:g}（")
    assert f"/ {model.DEFAULT_PROGRESS_HYSTERESIS_PP:g}（完成率）" in row["`hysteresis_pp`"]


def test_one_term_for_the_expected_progress() -> None:
    for text in (RULES, README):
        assert "时序进度" not in text
    deploy = ROOT / "deploy"
    said = [p.name for p in deploy.rglob("*") if p.is_file() and "时序进度" in p.read_text(errors="replace")]
    assert not said, f"the dashboards and rules say 时序进度 (officials say 序时进度): {said}"


def test_the_outlook_section_states_the_codes_thresholds() -> None:
    from services.evaluator.domain import outlook

    start = RULES.index("## 十二、年底预判")
    section = RULES[start:RULES.index("\n## ", start + 1)]
    assert "outlook.py" in section
    assert f"不足{outlook.MIN_RELEASES}期" in section
    assert f"不小于 +{outlook.DECIDED_AT:g} 为预计可完成" in section
    assert f"不大于 −{outlook.DECIDED_AT:g} 为难以完成" in section
    assert f"{outlook.RATE_STEP:g} 个百分点" in section
    assert f"完成率 {outlook.COMPLETION_STEP * 100:g} 个百分点" in section
    for verdict in outlook.VERDICT_ZH.values():
        assert verdict in section
