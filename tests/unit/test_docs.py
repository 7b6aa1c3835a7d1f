"""The README documents every setting the services read."""

from pathlib import Path

import pytest

from services.alerts.config import AlertsSettings
from services.evaluator.config import EvaluatorSettings
from services.ingest.config import IngestSettings
from shared.settings import ServiceSettings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("cls", [IngestSettings, EvaluatorSettings, AlertsSettings])
def test_every_setting_is_in_the_readme(cls: type[ServiceSettings]) -> None:
    prefix = cls.model_config["env_prefix"]
    missing = []
    for name in cls.model_fields:
        env = f"{prefix}{name.upper()}"
        common = name in ServiceSettings.model_fields and f"`<P>{name.upper()}`" in README
        if f"`{env}`" not in README and not common:
            missing.append(env)
    assert not missing, f"settings missing from README.md: {missing}"
