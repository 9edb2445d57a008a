# The bot as one image: `docker build -t civicbot .` then see compose.yaml or the README.
FROM python:3.11-slim

# No .pyc files in the image, logs straight to the container's output.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    CIVICBOT_DB=/data/civicbot.sqlite3 CIVICBOT_HTTP_PORT=8080

WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY handlers ./handlers
COPY content ./content
COPY quiz ./quiz
COPY complaints ./complaints
COPY storage ./storage
COPY barometer ./barometer
COPY campaigns ./campaigns
COPY reports ./reports
RUN pip install --no-cache-dir . \
    && useradd --system --home-dir /data --shell /usr/sbin/nologin civicbot \
    && mkdir -p /data && chown civicbot /data

# The bot never needs root; its only writable place is the data volume.
USER civicbot
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"
CMD ["civicbot", "run"]
