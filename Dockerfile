# The Argus image: workers (`argus run`) and the API (`argus api`) for docker-compose.yml.
FROM python:3.11.11-slim-bookworm
RUN useradd --system --uid 10001 --home /srv/argus argus && mkdir -p /srv/argus && chown argus /srv/argus
WORKDIR /opt/argus
COPY pyproject.toml README.md ./
COPY argus argus
COPY connectors connectors
COPY processors processors
COPY sinks sinks
COPY pipelines pipelines
COPY schemas schemas
COPY topology.yaml ./
RUN pip install --no-cache-dir '.[kafka,neo4j,opensearch]'
USER argus
WORKDIR /srv/argus
ENTRYPOINT ["argus"]
