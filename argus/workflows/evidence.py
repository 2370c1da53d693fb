"""A case's files and their chain of custody. An upload is checked before it is kept: its size,
its type (the bytes must be what the declared type says: PDF, PNG, JPEG, GIF, plain text, CSV or
JSON), and the virus-scan hook (the EICAR test signature always; the site's scanner, such as
`clamdscan -`, through ARGUS_SCAN_COMMAND, which gets the bytes on stdin and refuses the file by
exiting non-zero). The bytes are kept content-addressed (argus/stores/evidence.py); every read
re-computes their SHA-256 against the name they were kept under, and every addition, view,
download and export is a custody entry (who, when, why, whether the hash held) and an audit entry.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import subprocess
from collections.abc import Callable
from datetime import datetime

import orjson

from argus.records import utcnow
from argus.security.audit import AuditTrail
from argus.security.policy import Marking
from argus.stores.cases import CaseStore
from argus.stores.evidence import EvidenceStore, MissingObject, digest
from argus.workflows.case_model import Case, Custody, EvidenceFile, new_id
from argus.workflows.cases import CaseRefused
from argus.workflows.sar_review import Actor

MAX_BYTES = 25 * 1024 * 1024
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
MAGIC = {
    "application/pdf": b"%PDF-",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
    "image/gif": b"GIF8",
}
TEXT = ("text/plain", "text/csv", "application/json")
TYPES = (*MAGIC, *TEXT)
ACTIONS = ("viewed", "downloaded", "exported")
Scanner = Callable[[bytes], str | None]  # the finding, or None when clean


def scan(data: bytes) -> str | None:
    """The virus-scan hook: EICAR always, then the site's scanner if one is configured."""
    if EICAR in data:
        return "EICAR-Test-Signature"
    cmd = os.environ.get("ARGUS_SCAN_COMMAND")
    if not cmd:
        return None
    done = subprocess.run(shlex.split(cmd), input=data, capture_output=True, timeout=120, check=False)
    return (
        None
        if done.returncode == 0
        else (done.stdout.decode(errors="replace").strip()[:200] or "refused by the scanner")
    )


def check_type(data: bytes, content_type: str) -> None:
    """The bytes are what the declared type says (a PNG named .pdf is refused)."""
    if content_type not in TYPES:
        raise CaseRefused(415, "content_type", f"one of {', '.join(TYPES)}")
    if content_type in MAGIC:
        if not data.startswith(MAGIC[content_type]):
            raise CaseRefused(415, "content_type", f"the bytes are not {content_type}")
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CaseRefused(415, "content_type", f"{content_type} must be UTF-8 text") from None
    if "\x00" in text:
        raise CaseRefused(415, "content_type", f"{content_type} must not hold NUL bytes")
    if content_type == "application/json":
        try:
            orjson.loads(data)
        except orjson.JSONDecodeError:
            raise CaseRefused(415, "content_type", "the bytes are not JSON") from None


@dataclasses.dataclass
class Evidence:
    store: CaseStore
    objects: EvidenceStore
    audit: AuditTrail
    scanner: Scanner = scan
    clock: Callable[[], datetime] = utcnow
    max_bytes: int = MAX_BYTES

    def add(
        self, case: Case, actor: Actor, name: str, content_type: str, data: bytes, marking: Marking, reason: str
    ) -> EvidenceFile:
        if len(data) > self.max_bytes:
            raise CaseRefused(413, "file", f"larger than {self.max_bytes // (1024 * 1024)} MiB")
        if not data:
            raise CaseRefused(422, "file", "empty")
        check_type(data, content_type)
        found = self.scanner(data)
        if found:
            self.audit.record(
                "write",
                actor=actor.subject,
                agency=actor.agency,
                object=case.id,
                outcome="denied",
                source=actor.source,
                reason=f"file refused by the virus scan: {found}",
            )
            raise CaseRefused(422, "file", f"refused by the virus scan ({found})")
        sha = self.objects.put(data)
        f = EvidenceFile(
            new_id("FILE"),
            case.id,
            sha,
            name,
            content_type,
            len(data),
            marking,
            actor.subject,
            self.clock().isoformat(),
            reason,
        )
        self.store.add_file(f)
        self._custody(f, actor, "added", reason, True)
        return f

    def read(self, f: EvidenceFile, actor: Actor, action: str, reason: str) -> bytes:
        """The file's bytes, checked against their SHA-256; the access is in the chain of custody."""
        if action not in ACTIONS:
            raise CaseRefused(422, "action", f"one of {', '.join(ACTIONS)}")
        try:
            data = self.objects.get(f.sha256)
        except MissingObject:
            self._custody(f, actor, action, reason, False)
            raise CaseRefused(410, "file", "the stored bytes are missing; the custody log records it") from None
        ok = digest(data) == f.sha256
        self._custody(f, actor, action, reason, ok)
        if not ok:
            raise CaseRefused(409, "file", "the stored bytes no longer match their SHA-256; the custody log records it")
        return data

    def _custody(self, f: EvidenceFile, actor: Actor, action: str, reason: str, ok: bool) -> None:
        self.store.add_custody(Custody(f.id, action, actor.subject, actor.agency, self.clock().isoformat(), reason, ok))
        self.audit.record(
            "export" if action == "exported" else "write" if action == "added" else "read",
            actor=actor.subject,
            agency=actor.agency,
            object=f.id,
            source=actor.source,
            outcome="ok" if ok else "denied",
            reason=f"file {action}: {reason}"[:500],
            detail={"case": f.case_id, "sha256": f.sha256, "hash_ok": ok},
        )
