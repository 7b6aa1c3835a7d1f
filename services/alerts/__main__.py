"""``python -m services.alerts``: run the alerts service (HTTP API, consumer and dispatcher in one process)."""

from services.alerts.config import AlertsSettings
from services.alerts.main import create_app
from shared.app import run

if __name__ == "__main__":
    run(AlertsSettings, create_app, name="alerts")
