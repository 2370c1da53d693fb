"""docker-compose.yml (no Docker engine runs here, so it is checked, not started): every image
pinned, every service health-checked, every file it mounts present, and the workers on the
Kafka bus as one group with the stores on their servers."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GENERATED = {"./inbox": None, "./ops/kafka/secrets": "ops/kafka/make-certs.sh"}  # made on the host, not kept


def compose_cli() -> list[str]:
    """Compose v2 (no engine needed for `config`): .ci/run fetches Debian's build into .cache/tools."""
    local = ROOT / ".cache" / "tools" / "docker-compose"
    if local.exists():
        return [str(local)]
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    msg = "docker compose v2 not found: .ci/run fetches it into .cache/tools (or install the docker compose plugin)"
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_image_is_pinned_and_every_service_health_checked() -> None:
    services = compose()["services"]
    assert {"kafka", "schema-registry", "neo4j", "opensearch", "opensearch-dashboards", "prometheus", "grafana"} <= set(
        services
    )
    for name, svc in services.items():
        image = svc.get("image", "")
        tag = image.rsplit(":", 1)[-1] if ":" in image else ""
        assert tag and tag != "latest" and any(c.isdigit() for c in tag), f"{name}: image {image!r} is not pinned"
        assert "healthcheck" in svc, f"{name} has no healthcheck"


def test_mounted_files_exist_and_prometheus_scrapes_every_worker() -> None:
    services = compose()["services"]
    for name, svc in services.items():
        for vol in svc.get("volumes", []):
            src = vol.split(":")[0]
            if src in GENERATED:
                assert GENERATED[src] is None or (ROOT / GENERATED[src]).exists()
            elif src.startswith("./"):
                assert (ROOT / src).exists(), f"{name} mounts {src}, which is not in the repository"
    workers = sorted(n for n in services if n.startswith("worker-"))
    assert len(workers) >= 2
    prom = yaml.safe_load((ROOT / "ops" / "prometheus.compose.yml").read_text())
    targets = {t for sc in prom["scrape_configs"] for c in sc["static_configs"] for t in c["targets"]}
    assert targets == {f"{w}:9464" for w in workers}
    for w in workers:
        env = services[w]["environment"]
        assert env["ARGUS_BUS"].startswith("kafka://kafka:9092")
        assert env["ARGUS_GRAPH"].startswith("bolt://") and env["ARGUS_SEARCH"].startswith("http://opensearch")
        assert env["ARGUS_STIX"].startswith("http://opensearch") and env["ARGUS_FEEDS"].startswith("http://opensearch")
        for shared in ("ARGUS_AUDIT", "ARGUS_IDENTITY", "ARGUS_TAXII"):  # the API on several hosts
            assert env[shared].startswith("http://opensearch"), shared
        assert "--instance" in services[w]["command"]


def test_grafana_is_provisioned_with_the_dashboards_from_ops() -> None:
    ds = yaml.safe_load((ROOT / "ops/grafana/provisioning/datasources/prometheus.yml").read_text())
    uid = ds["datasources"][0]["uid"]
    dash = (ROOT / "ops/grafana/argus-pipeline.json").read_text()
    assert f'"uid": "{uid}"' in dash


def test_the_registry_is_the_release_the_tests_run() -> None:
    """The compose stack's Apicurio is the one tests/servers/apicurio fetches and the registry
    tests run against, and the workers frame records through its Confluent-compatible API."""
    import xml.etree.ElementTree as ET

    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    item = ET.parse(ROOT / "tests/servers/apicurio/pom.xml").find(".//m:artifactItem", ns)
    assert item is not None and item.findtext("m:artifactId", namespaces=ns) == "apicurio-registry-app"
    services = compose()["services"]
    image = services["schema-registry"]["image"]
    assert image == f"apicurio/apicurio-registry:{item.findtext('m:version', namespaces=ns)}"
    for w in (n for n in services if n.startswith("worker-")):
        assert "registry=http://schema-registry:8080/apis/ccompat/v7" in services[w]["environment"]["ARGUS_BUS"]


def test_no_store_ui_is_published_and_the_workers_can_be_scraped() -> None:
    """Store consoles read every record around the policy: none is published; one kept for
    administrators is off by default (a profile) and bound to this host's loopback."""
    services = compose()["services"]
    for name, svc in services.items():
        for port in svc.get("ports", []):
            published = str(port).split(":")
            target = published[-1]
            if target in ("5601", "7474", "9200", "7687", "8080") and name != "api":
                assert published[0] == "127.0.0.1", f"{name} publishes {port} beyond loopback"
    assert "ports" not in services["neo4j"] and "ports" not in services["opensearch"]
    assert services["opensearch-dashboards"]["profiles"] == ["breakglass"]
    env = services["worker-1"]["environment"]
    assert env["ARGUS_METRICS_HOST"] == "0.0.0.0"  # Prometheus scrapes from its own container
    assert env["ARGUS_AUDIT_KEY"].startswith("${ARGUS_AUDIT_KEY:?")


def test_compose_accepts_the_file_with_the_example_env(tmp_path: Path) -> None:
    cli = compose_cli()
    ok = subprocess.run([*cli, "--env-file", ".env.example", "config", "-q"], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    lines = (ROOT / ".env.example").read_text().splitlines()
    partial = tmp_path / "partial.env"
    partial.write_text("\n".join(x for x in lines if not x.startswith("KAFKA_EXTERNAL_HOST=")))
    bad = subprocess.run([*cli, "--env-file", str(partial), "config", "-q"], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode != 0 and "KAFKA_EXTERNAL_HOST" in bad.stderr


def test_kafka_publishes_only_the_integrator_listener_with_tls_scram_and_acls(tmp_path: Path) -> None:
    kafka = compose()["services"]["kafka"]
    env = kafka["environment"]
    assert kafka["ports"] == ["${KAFKA_EXTERNAL_PORT:-9094}:9094"]  # not the internal PLAINTEXT 9092
    protocols = dict(p.split(":") for p in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert protocols["INTEGRATORS"] == "SASL_SSL" and "INTEGRATORS://:9094" in env["KAFKA_LISTENERS"]
    assert env["KAFKA_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    assert env["KAFKA_AUTHORIZER_CLASS_NAME"].endswith("StandardAuthorizer")
    assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert "./ops/kafka/secrets:/etc/kafka/secrets:ro" in kafka["volumes"]
    if shutil.which("openssl") is None:
        pytest.skip("openssl not found")
    subprocess.run([str(ROOT / "ops/kafka/make-certs.sh"), "kafka.example.org", str(tmp_path)], check=True)
    keys = ("KAFKA_SSL_KEYSTORE_FILENAME", "KAFKA_SSL_KEYSTORE_CREDENTIALS", "KAFKA_SSL_KEY_CREDENTIALS")
    named = [env[k] for k in keys]
    jaas = env["KAFKA_OPTS"].split("=", 1)[1].removeprefix("/etc/kafka/secrets/")
    for f in (*named, jaas):
        assert (tmp_path / f).exists(), f"the compose file names {f}, which make-certs.sh does not write"
