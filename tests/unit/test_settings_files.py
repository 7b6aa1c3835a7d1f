"""Settings from files (compose secrets) and database passwords with any character in them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from services.alerts.config import AlertsSettings
from services.ingest.config import IngestSettings


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith(("INGEST_", "ALERTS_")):
            monkeypatch.delenv(key)


@pytest.mark.parametrize("password", ["p@ss:w/rd#?%", "with space", "密码&=+", "';DROP ROLE x;--"])
def test_the_database_password_is_encoded_into_the_url(password: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pw").write_text(password + "\n")
    monkeypatch.setenv("INGEST_DATABASE_URL", "postgresql://ingest@postgres:5432/ingest")
    monkeypatch.setenv("INGEST_DATABASE_PASSWORD_FILE", str(tmp_path / "pw"))
    url = make_url(IngestSettings().database_url)
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "ingest", password, "postgres", 5432, "ingest")


def test_any_setting_can_come_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "secret").write_text("s3cret\n")
    (tmp_path / "urls").write_text('{"fgw": "https://hooks.example/fgw"}')
    (tmp_path / "empty").write_text("\n")
    monkeypatch.setenv("ALERTS_WEBHOOK_SECRET_FILE", str(tmp_path / "secret"))
    monkeypatch.setenv("ALERTS_WEBHOOK_URLS_FILE", str(tmp_path / "urls"))  # a JSON setting
    monkeypatch.setenv("ALERTS_SMTP_PASSWORD_FILE", str(tmp_path / "empty"))  # empty: unset
    s = AlertsSettings()  # type: ignore[call-arg]
    assert s.webhook_secret.get_secret_value() == "s3cret"
    assert s.webhook_urls == {"fgw": "https://hooks.example/fgw"}
    assert s.smtp_password is None


def test_a_setting_given_twice_or_an_unreadable_file_names_the_variable(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "secret").write_text("a")
    monkeypatch.setenv("ALERTS_WEBHOOK_SECRET", "b")
    monkeypatch.setenv("ALERTS_WEBHOOK_SECRET_FILE", str(tmp_path / "secret"))
    with pytest.raises(ValueError, match="ALERTS_WEBHOOK_SECRET or ALERTS_WEBHOOK_SECRET_FILE"):
        AlertsSettings()  # type: ignore[call-arg]
    monkeypatch.delenv("ALERTS_WEBHOOK_SECRET")
    monkeypatch.setenv("ALERTS_WEBHOOK_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="ALERTS_WEBHOOK_SECRET_FILE: cannot read"):
        AlertsSettings()  # type: ignore[call-arg]


def test_log_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGEST_LOG_FORMAT", "xml")
    with pytest.raises(ValidationError, match="log_format"):
        IngestSettings()
