"""docker-compose.yml (no Docker engine runs here, so it is checked, not started): every image
pinned, every service health-checked, every file it mounts present, and the workers on the
Kafka bus as one group with the stores on their servers."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


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
            if src.startswith("./") and src != "./inbox":
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
