# The Argus image: workers (`argus run`) and the API (`argus api`) for docker-compose.yml.
# Python dependencies are installed from requirements.lock (exact versions and hashes), then
# Argus itself without resolving anything more.
FROM python:3.11.11-slim-bookworm
RUN useradd --system --uid 10001 --home /srv/argus argus \
 && mkdir -p /srv/argus/var \
 && chown -R argus:argus /srv/argus
WORKDIR /opt/argus
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY argus argus
COPY connectors connectors
COPY processors processors
COPY sinks sinks
COPY pipelines pipelines
COPY topology.yaml ./
RUN pip install --no-cache-dir --no-deps . && python -c "import argus.schemas as s; s.default_schemas()"
USER argus
WORKDIR /srv/argus
# A named volume mounted here starts as this directory: owned by the image's user, so writable.
VOLUME ["/srv/argus/var"]
ENTRYPOINT ["argus"]
