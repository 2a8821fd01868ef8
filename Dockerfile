# syntax=docker/dockerfile:1
# Build stage: a wheel-only virtualenv, no compilers in the final image.
FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
# Exactly the locked, hash-checked dependencies (requirements.lock: the runtime half of the
# requirements-dev.lock that `make test` uses), in their own layer so a source change does not
# reinstall them.
COPY requirements.lock ./
RUN /opt/venv/bin/pip install --upgrade pip \
    && /opt/venv/bin/pip install --require-hashes -r requirements.lock
# Then the project alone: no dependency is resolved here.
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/venv/bin/pip install --no-deps . && /opt/venv/bin/pip check

# Runtime stage: non-root, only the venv, migrations and alembic.ini.
FROM python:3.12-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    TICARET_ENVIRONMENT=production
# /data/attachments: a named volume mounted there starts with this owner (attachments).
RUN groupadd --system ticaret && useradd --system --gid ticaret --home /app ticaret \
    && mkdir -p /data/attachments && chown ticaret:ticaret /data/attachments
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY alembic.ini ./
COPY migrations ./migrations
USER ticaret
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status == 200 else 1)"
CMD ["ticaret", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "auto"]
