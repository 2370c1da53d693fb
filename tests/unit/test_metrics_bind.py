"""/metrics listens where it is told: loopback by default, another address when configured
(the compose stack's 0.0.0.0, so Prometheus in its own container can scrape the workers)."""

from __future__ import annotations

import urllib.request

import pytest

from argus import metrics
from tests.servers import free_port


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200 and b"argus_" in r.read()
    except OSError:
        return False


def _listening(port: int) -> set[str]:
    """Local addresses listening on `port`, from /proc/net/tcp (IPv4)."""
    out = set()
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        addr, p = local.split(":")
        if state == "0A" and int(p, 16) == port:
            out.add(".".join(str(int(addr[i : i + 2], 16)) for i in (6, 4, 2, 0)))
    return out


def test_metrics_answer_on_the_configured_address_only() -> None:
    port = free_port()
    metrics.serve(port, "127.0.0.2")  # another address than the default loopback one
    assert _answers(f"http://127.0.0.2:{port}/metrics")
    assert not _answers(f"http://127.0.0.1:{port}/metrics")


def test_metrics_on_every_interface_when_asked() -> None:
    port = free_port()
    metrics.serve(port, "0.0.0.0")
    assert _listening(port) == {"0.0.0.0"}
    assert _answers(f"http://127.0.0.1:{port}/metrics")


def test_the_default_is_loopback() -> None:
    port = free_port()
    metrics.serve(port)
    assert _listening(port) == {"127.0.0.1"}
    if not _answers(f"http://127.0.0.1:{port}/metrics"):
        pytest.fail("metrics did not answer on loopback")
