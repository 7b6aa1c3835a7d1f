"""``python -m services.ingest.manage``: issue, list and revoke keys in ingest's database."""

from __future__ import annotations

import pytest

from devstack.broker import TansuBroker
from services.ingest import manage
from tests.integration.ingest_app import running_ingest


def test_issue_list_revoke(database_url: str, broker: TansuBroker, topic_prefix: str,
                           monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("INGEST_DATABASE_URL", database_url)
    assert manage.main(["issue", "--organisation", "江阴市统计局", "--indicators", "gdp,retail_sales",
                       "--regions", "jiangyin"]) == 0
    out = capsys.readouterr()
    key = out.out.strip()
    assert key.startswith("wxk_") and "\n" not in key
    key_id = out.err.split()[1]
    assert key_id.startswith("key_")

    assert manage.main(["issue", "--organisation", "宜兴市统计局", "--indicators", "gpd"]) == 2
    assert "unknown indicator 'gpd'" in capsys.readouterr().err

    assert manage.main(["list"]) == 0
    listing = capsys.readouterr().out
    assert key_id in listing and "江阴市统计局" in listing and "[gdp,retail_sales] [jiangyin]" in listing
    assert key not in listing and key[10:] not in listing  # never the key itself

    with running_ingest(database_url, broker.bootstrap, topic_prefix, api_key_cache_ttl_s=0) as ingest:
        auth = {"Authorization": f"Bearer {key}"}
        assert ingest.client.get("/v1/keys/me", headers=auth).json()["regions"] == ["jiangyin"]
        assert manage.main(["revoke", key_id]) == 0
        assert "revoked" in capsys.readouterr().out
        r = ingest.client.get("/v1/keys/me", headers=auth)
        assert r.status_code == 401 and r.json()["errors"][0]["type"] == "revoked_api_key"
    assert manage.main(["revoke", "key_000000000000"]) == 1
    assert manage.main(["list", "--active"]) == 0
    assert key_id not in capsys.readouterr().out
