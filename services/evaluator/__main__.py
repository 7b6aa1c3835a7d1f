"""``python -m services.evaluator``: run the evaluator (HTTP API, consumer and outbox relay in one process)."""

from services.evaluator.config import EvaluatorSettings
from services.evaluator.main import create_app
from shared.app import run

if __name__ == "__main__":
    run(EvaluatorSettings, create_app, name="evaluator")
