"""``python -m services.ingest``: run the ingest service."""

from services.ingest.config import IngestSettings
from services.ingest.main import create_app
from shared.app import run

if __name__ == "__main__":
    run(IngestSettings, create_app, name="ingest")
