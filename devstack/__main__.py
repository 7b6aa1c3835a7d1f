"""``./dev run``: the whole system on this machine, no Docker: Tansu, SQLite files in ./var, three services.

Stops everything on Ctrl-C. State in SQLite survives a restart; the broker keeps nothing (it is memory-only),
and the services re-create their topics when it comes back.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import time
from pathlib import Path

from devstack.monitoring import Monitoring
from devstack.stack import ENV_PREFIX, REPO, Stack


def main() -> None:
    parser = argparse.ArgumentParser(prog="./dev run", description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("WUXI_DATA_DIR", REPO / "var")))
    parser.add_argument("--broker-port", type=int, default=int(os.environ.get("WUXI_BROKER_PORT", "9092")))
    parser.add_argument("--ingest-port", type=int, default=8001)
    parser.add_argument("--evaluator-port", type=int, default=8002)
    parser.add_argument("--alerts-port", type=int, default=8003)
    parser.add_argument("--evaluator-replicas", type=int, default=1, help="evaluator processes in one group")
    parser.add_argument("--prometheus-port", type=int, default=9090)
    parser.add_argument("--alertmanager-port", type=int, default=9093)
    parser.add_argument("--no-monitoring", action="store_true",
                        help="do not start Prometheus and Alertmanager even when they are installed")
    args = parser.parse_args()

    secret_file = args.data_dir / "webhook-secret"
    args.data_dir.mkdir(parents=True, exist_ok=True)
    if not secret_file.exists():  # a development secret, made once and kept with the data
        secret_file.write_text(secrets.token_hex(32))
        secret_file.chmod(0o600)
    link_file = args.data_dir / "link-secret"
    if not link_file.exists():  # the acknowledgement links' own key, independent of the webhook secret
        link_file.write_text(secrets.token_hex(32))
        link_file.chmod(0o600)
    admin_file = args.data_dir / "ingest-admin-token"
    if not admin_file.exists():  # the operator's token of ingest's /admin endpoints, made once
        admin_file.write_text(secrets.token_urlsafe(32))
        admin_file.chmod(0o600)
    alerts_env = {
        "ALERTS_WEBHOOK_SECRET": os.environ.get("ALERTS_WEBHOOK_SECRET", secret_file.read_text().strip()),
        "ALERTS_PUBLIC_URL": os.environ.get("ALERTS_PUBLIC_URL", f"http://127.0.0.1:{args.alerts_port}"),
        "ALERTS_LINK_SECRET": os.environ.get("ALERTS_LINK_SECRET", link_file.read_text().strip()),
    }
    # Settings exported in the shell (ALERTS_WEBHOOK_URLS=… ./dev run) reach their service; ports come from
    # the flags above, so the printed URLs stay true.
    passed = {name: {k: v for k, v in os.environ.items() if k.startswith(prefix) and k != f"{prefix}PORT"}
              for name, prefix in ENV_PREFIX.items()}
    passed["alerts"] = {**alerts_env, **passed["alerts"]}
    stack = Stack(
        data_dir=args.data_dir,
        broker_port=args.broker_port,
        ports={"ingest": args.ingest_port, "evaluator": args.evaluator_port, "alerts": args.alerts_port},
        extra_env=passed,
        ingest_admin_token=os.environ.get("INGEST_ADMIN_TOKEN", admin_file.read_text().strip()),
        replicas={"evaluator": args.evaluator_replicas},
    )
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    print(f"starting the broker on {stack.broker.bootstrap if stack.broker else '?'} and three services; "
          f"data in {args.data_dir}, logs in {args.data_dir / 'logs'}", flush=True)
    monitoring = Monitoring(args.data_dir, args.prometheus_port, args.alertmanager_port,
                            enabled=not args.no_monitoring)
    try:
        stack.start()
        monitoring.start(stack)
        print("ready:", flush=True)
        for svc in stack.processes:
            name = svc.name if svc.replica == 1 else f"{svc.name}-{svc.replica}"
            print(f"  {name:<11} {svc.url}   (API docs {svc.url}/docs, metrics {svc.url}/metrics)", flush=True)
        print(f"  kafka      {stack.broker.bootstrap if stack.broker else ''}", flush=True)
        for line in monitoring.describe():
            print(f"  {line}", flush=True)
        key_file = _development_key(stack, args.data_dir)
        print(f"  ingest API key for development (every indicator and region) in {key_file}; admin token in "
              f"{admin_file}", flush=True)
        if not os.environ.get("ALERTS_WEBHOOK_URLS") and not os.environ.get("ALERTS_DEFAULT_WEBHOOK_URL"):
            print("  no webhook configured: set ALERTS_DEFAULT_WEBHOOK_URL or ALERTS_WEBHOOK_URLS to receive "
                  "notifications", flush=True)
        print("Ctrl-C stops everything.", flush=True)
        while not stopping:
            monitoring.report_alerts()
            for svc in stack.processes:
                if svc.proc is not None and svc.proc.poll() is not None:
                    print(f"{svc.name} exited ({svc.proc.returncode}); see {svc.log_path}", flush=True)
                    stopping = True
            time.sleep(0.5)
    finally:
        print("stopping…", flush=True)
        monitoring.stop()
        stack.stop()
        print("stopped.", flush=True)


def _development_key(stack: Stack, data_dir: Path) -> Path:
    """Keep one ingest API key in the data directory, issuing it when missing or no longer accepted."""
    import httpx

    key_file = data_dir / "ingest-dev-key"
    if key_file.exists():
        r = httpx.get(f"{stack.url('ingest')}/v1/keys/me", timeout=5,
                      headers={"Authorization": f"Bearer {key_file.read_text().strip()}"})
        if r.status_code == 200:
            return key_file
    key_file.write_text(stack.issue_ingest_key("开发测试 (./dev run)"))
    key_file.chmod(0o600)
    return key_file


if __name__ == "__main__":
    main()
