"""``python -m services.alerts``: run the alerts service (HTTP API, consumer and dispatcher in one process)."""

from services.alerts.config import AlertsSettings
from services.alerts.main import create_app
from shared.app import serve

if __name__ == "__main__":
    s = AlertsSettings()
    serve(lambda: create_app(s), host=s.host, port=s.port, name="alerts")
