"""``python -m services.ingest``: run the ingest service."""

from services.ingest.config import IngestSettings
from services.ingest.main import create_app
from shared.app import serve

if __name__ == "__main__":
    s = IngestSettings()
    serve(lambda: create_app(s), host=s.host, port=s.port, name="ingest")
