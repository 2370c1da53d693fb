"""medallion, the OASIS TAXII 2.1 reference server (PyPI), run as a real process on 127.0.0.1.

Its memory backend is seeded from a JSON file we write: objects with the date_added values we
choose (several objects per timestamp, as a server stamps one POST), so a restart of the server
serves exactly the same collection and forgets only its paging sessions.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from tests.servers import free_port, stop, wait_for_port

API_ROOT = "api1"
COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
USER, PASSWORD = "argus", "partner-secret"
STIX_MEDIA = "application/stix+json;version=2.1"


def indicators(n: int, per_stamp: int, start: datetime | None = None) -> list[tuple[dict[str, Any], str]]:
    """n indicators, each with the date_added the server will report; `per_stamp` share one."""
    t0 = start or datetime(2026, 11, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        when = (t0 + timedelta(seconds=i // per_stamp)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        created = (t0 - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        obj = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, f'argus-test-{i}')}",
            "created": created,
            "modified": created,
            "name": f"Robbery-series burner handset {i}",
            "pattern": f"[ipv4-addr:value = '198.51.{i // 250}.{i % 250}']",
            "pattern_type": "stix",
            "valid_from": created,
            "indicator_types": ["malicious-activity"],
        }
        out.append((obj, when))
    return out


class Medallion:
    def __init__(self, workdir: Path, objects: list[tuple[dict[str, Any], str]], page_size: int) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/{API_ROOT}/"
        self.objects = objects
        self.page_size = page_size
        self.proc: subprocess.Popen | None = None
        self.log = workdir / "medallion.log"
        self._write()

    def _write(self) -> None:
        data = {
            "/discovery": {
                "title": "Partner TAXII",
                "default": self.url,
                "api_roots": [self.url],
            },
            API_ROOT: {
                "information": {
                    "title": "Partner fusion centre",
                    "versions": ["application/taxii+json;version=2.1"],
                    "max_content_length": 100_000_000,
                },
                "status": [],
                "collections": [
                    {
                        "id": COLLECTION,
                        "title": "Shared indicators",
                        "can_read": True,
                        "can_write": True,
                        "media_types": [STIX_MEDIA],
                        "objects": [o for o, _ in self.objects],
                        "manifest": [
                            {"id": o["id"], "date_added": when, "version": o["modified"], "media_type": STIX_MEDIA}
                            for o, when in self.objects
                        ],
                    }
                ],
            },
        }
        (self.workdir / "data.json").write_bytes(orjson.dumps(data))
        config = {
            "backend": {
                "module": "medallion.backends.memory_backend",
                "module_class": "MemoryBackend",
                "filename": str(self.workdir / "data.json"),
            },
            "users": {USER: PASSWORD},
            "taxii": {"max_page_size": self.page_size},
        }
        (self.workdir / "config.json").write_bytes(orjson.dumps(config))

    def start(self) -> Medallion:
        cmd = [sys.executable, "-m", "medallion.scripts.run", "--port", str(self.port)]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [*cmd, str(self.workdir / "config.json")], stdout=log, stderr=subprocess.STDOUT
            )
        wait_for_port(self.port, self.proc, 30, self.log)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()
