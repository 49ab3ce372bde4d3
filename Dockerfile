# Inkling as a container image: one node (`inkling serve`) per container.
# compose.yaml runs two behind nginx on one PostgreSQL; deploy/README.md says more.
#   docker build -t inkling .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . && rm -rf /build

# The node runs as a user of its own; its data dir is a volume only it can read.
RUN useradd --system --uid 10001 --home-dir /var/lib/inkling --shell /usr/sbin/nologin inkling \
    && install -d -m 0700 -o inkling -g inkling /var/lib/inkling
COPY deploy/docker/inkling-node /usr/local/bin/inkling-node

USER inkling
# Not the data dir: settings are read from ./inkling.toml when INKLING_CONFIG names none.
WORKDIR /
ENV INKLING_DATA_DIR=/var/lib/inkling \
    INKLING_HOST=0.0.0.0 \
    INKLING_PORT=8080
VOLUME ["/var/lib/inkling"]
EXPOSE 8080

# /healthz answers while the process runs; a balancer asks /readyz (can this node record
# hits?) instead, which deploy/haproxy/haproxy.cfg does.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('INKLING_PORT', '8080'), timeout=2)"]

# SIGTERM (docker stop) makes the node answer what is in flight, write its journal and
# load it for up to 10 s: give it time (docker stop -t 60; compose.yaml sets
# stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["inkling-node"]
CMD ["serve"]
