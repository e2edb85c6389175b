# syntax=docker/dockerfile:1
# Build stage: a wheel of Greenlight and its dependencies, compiled where needed.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
COPY bot ./bot
COPY cogs ./cogs
COPY migrations ./migrations
RUN pip install --no-cache-dir --upgrade pip==25.3 \
 && pip wheel --no-cache-dir --wheel-dir /wheels ".[postgres]"

# Run stage: slim, no compilers, no secrets, an unprivileged user.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GREENLIGHT_DATABASE_URL=sqlite+aiosqlite:////data/greenlight.db
RUN useradd --create-home --uid 10001 greenlight \
 && mkdir /data && chown greenlight /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels greenlight[postgres] \
 && rm -rf /wheels
USER greenlight
WORKDIR /data
VOLUME ["/data"]
# The bot upgrades the database itself on start (python -m bot run migrates first).
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s --retries=3 \
  CMD ["python", "-m", "bot", "check-config"]
ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
