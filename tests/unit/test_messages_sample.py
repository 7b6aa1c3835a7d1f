"""docs/messages-sample.md is what scripts/messages_sample.py writes (generated, never edited by hand)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from shared.catalogue import load_catalogue

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "messages_sample.py"


def test_the_sample_is_the_scripts_output_and_has_twenty_messages() -> None:
    spec = importlib.util.spec_from_file_location("messages_sample", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = module.render(load_catalogue())
    assert module.OUT.read_text(encoding="utf-8") == text, "run python scripts/messages_sample.py"
    messages = [line for line in text.splitlines() if line.startswith("> ")]
    assert len(messages) == 20
    for line in text.splitlines():
        if line.startswith("- 期间："):
            period = line.removeprefix("- 期间：")
            assert any(f"（{period}，" in m for m in messages), period  # the alert's 期间 is the 研判's label
