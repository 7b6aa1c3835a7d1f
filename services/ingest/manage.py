"""``python -m services.ingest.manage issue|list|revoke``: the operator manages the bureaus' API keys.

(The same over HTTP is the /admin router, services/ingest/api/admin.py.) Works on ingest's database directly.

Uses INGEST_DATABASE_URL like the service (migrating it first). A running service refuses a revoked key
within INGEST_API_KEY_CACHE_TTL_S seconds. The key itself is printed once, by ``issue``, and never stored.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from services.ingest.adapters.store import IngestStore
from services.ingest.adapters.tables import outbox
from services.ingest.config import IngestSettings
from services.ingest.domain.keys import ApiKey
from shared.catalogue import load_catalogue
from shared.clock import utc_now
from shared.db import make_engine, run_migrations
from shared.outbox import Outbox
from shared.regions import REGIONS

MIGRATIONS = Path(__file__).with_name("migrations")


def _ids(raw: str | None) -> list[str] | None:
    if raw is None or raw.strip() in ("", "*"):
        return None
    return [x.strip() for x in raw.split(",") if x.strip()]


def _describe(k: ApiKey) -> dict[str, object]:
    return {
        "id": k.id, "organisation": k.organisation, "description": k.description, "key_prefix": k.key_prefix,
        "indicators": None if k.indicators is None else sorted(k.indicators),
        "regions": None if k.regions is None else sorted(k.regions),
        "created_at": k.created_at.isoformat(), "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the admin command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m services.ingest.manage", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_issue = sub.add_parser("issue", help="issue a key for an organisation; prints the key once")
    p_issue.add_argument("--organisation", "--org", required=True, help="e.g. 江阴市统计局 (shown as submitted_by)")
    p_issue.add_argument("--indicators", default="*", help="comma-separated indicator ids, or * for all (default)")
    p_issue.add_argument("--regions", default="*", help="comma-separated region ids, or * for all (default)")
    p_issue.add_argument("--description", default=None)
    p_list = sub.add_parser("list", help="list keys (never the keys themselves)")
    p_list.add_argument("--active", action="store_true", help="leave out revoked keys")
    p_list.add_argument("--json", action="store_true", help="one JSON object per line")
    p_revoke = sub.add_parser("revoke", help="revoke a key by its id (key_…)")
    p_revoke.add_argument("key_id")
    args = parser.parse_args(argv)

    settings = IngestSettings()
    run_migrations(settings.database_url, MIGRATIONS)
    engine = make_engine(settings.database_url, pool_size=1, busy_timeout_s=settings.sqlite_busy_timeout_s)
    store = IngestStore(engine, Outbox(outbox, source="/wuxi-targets/ingest/manage",
                                       topic_prefix=settings.topic_prefix))
    try:
        if args.command == "issue":
            indicators, regions = _ids(args.indicators), _ids(args.regions)
            catalogue = load_catalogue()
            unknown = [f"indicator {i!r}" for i in indicators or [] if i not in catalogue.indicators]
            unknown += [f"region {r!r}" for r in regions or [] if r not in REGIONS]
            if unknown:
                print(f"unknown {', '.join(unknown)}; nothing issued", file=sys.stderr)
                return 2
            with store.transaction() as tx:
                key, secret = tx.keys.issue(organisation=args.organisation, indicators=indicators,
                                            regions=regions, description=args.description, now=utc_now())
            print(f"issued {key.id} for {key.organisation}", file=sys.stderr)
            print("the key is shown this once; store it in the bureau's system now:", file=sys.stderr)
            print(secret)
        elif args.command == "list":
            with store.reading() as reads:
                keys = reads.keys.list(include_revoked=not args.active)
            for k in keys:
                if args.json:
                    print(json.dumps(_describe(k), ensure_ascii=False))
                else:
                    scope_i = "all indicators" if k.indicators is None else ",".join(sorted(k.indicators))
                    scope_r = "all regions" if k.regions is None else ",".join(sorted(k.regions))
                    state = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "active"
                    print(f"{k.id}  {k.key_prefix}…  {k.organisation}  [{scope_i}] [{scope_r}]  {state}")
        else:
            with store.transaction() as tx:
                revoked = tx.keys.revoke(args.key_id, utc_now())
            if revoked is None:
                print(f"no key {args.key_id!r}", file=sys.stderr)
                return 1
            print(f"revoked {revoked.id} of {revoked.organisation} at {revoked.revoked_at:%Y-%m-%d %H:%M:%S} UTC")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
