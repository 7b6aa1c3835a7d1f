"""``python -m services.evaluator``: run the evaluator (HTTP API, consumer and outbox relay in one process)."""

from services.evaluator.config import EvaluatorSettings
from services.evaluator.main import create_app
from shared.app import serve

if __name__ == "__main__":
    s = EvaluatorSettings()
    serve(lambda: create_app(s), host=s.host, port=s.port, name="evaluator")
