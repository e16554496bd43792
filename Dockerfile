# Cinema API, worker and scheduler image (one image, three commands).
#   docker build -t cinema .
#   docker run --env-file .env -p 8000:8000 cinema                # API
#   docker run --env-file .env cinema cinema worker               # taskiq worker
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first (cached while only the code changes), pinned by constraints.txt.
COPY pyproject.toml constraints.txt README.md ./
COPY cinema ./cinema
COPY cli ./cli
COPY piccolo_migrations ./piccolo_migrations
RUN pip install -c constraints.txt .

# An unprivileged user owns only the writable state folder.
RUN groupadd --system cinema \
    && useradd --system --gid cinema --home-dir /app --shell /usr/sbin/nologin cinema \
    && mkdir -p /app/var \
    && chown cinema:cinema /app/var
USER cinema

EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status != 200)"

CMD ["cinema", "serve", "--host", "0.0.0.0", "--port", "8000"]
