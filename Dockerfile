# syntax=docker/dockerfile:1
# Greenlight: a multi-stage build. The build stage installs the bot and its dependencies into a
# virtualenv; the run stage copies only that virtualenv onto a clean slim image, so no pip
# cache, build tool or source tree ends up in the image. Nothing secret is baked in: the
# Discord token and the database password come from the environment at run time.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/greenlight
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
COPY migrations ./migrations
# A path install (not a name from an index), so there is no version to pin here: pyproject.toml
# bounds the dependencies.
RUN /opt/greenlight/bin/pip install --no-cache-dir ".[postgres]" \
 && /opt/greenlight/bin/python -m compileall -q /opt/greenlight


FROM python:3.11-slim-bookworm AS run
ENV PATH=/opt/greenlight/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GREENLIGHT_CONFIG=/etc/greenlight/greenlight.toml \
    GREENLIGHT_DATABASE_URL=sqlite+aiosqlite:////data/greenlight.db
# A fixed numeric uid/gid, so volume ownership and `USER` do not depend on /etc/passwd.
RUN groupadd --system --gid 10001 greenlight \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin greenlight \
 && mkdir -p /data /etc/greenlight \
 && chown 10001:10001 /data
# The default config only turns on the health endpoint (loopback inside the container, for
# HEALTHCHECK). Mount your own at /etc/greenlight/greenlight.toml, keeping its [health] section.
RUN printf '%s\n' \
      '# Mount your own config here; keep [health] so the container health check works.' \
      '[health]' 'host = "127.0.0.1"' 'port = 8080' \
      > /etc/greenlight/greenlight.toml
COPY --from=build /opt/greenlight /opt/greenlight
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
# Every command opens the core through Greenlight.open, which runs the Alembic migrations
# (upgrade to head) before anything else, so the schema is current on every start.
HEALTHCHECK --interval=60s --timeout=10s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request as r; r.urlopen('http://127.0.0.1:8080/healthz', timeout=8)"]
ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
