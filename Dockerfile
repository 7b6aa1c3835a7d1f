# One image for the three services: the command picks the service (python -m services.<name>).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY devstack ./devstack
RUN pip install --no-cache-dir --no-deps . && useradd --system --uid 10001 app
USER app
EXPOSE 8000
CMD ["python", "-m", "services.ingest", "--host", "0.0.0.0", "--port", "8000"]
