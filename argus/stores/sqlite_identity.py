"""The embedded identity directory: one SQLite file beside the bus (`<data_dir>/identity.db`),
shared by every API worker on its host (argus/security/identity.py says what a directory holds)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import orjson

from argus.security.identity import IdentityDirectory
from argus.sqlite import connect

_DDL = """
CREATE TABLE IF NOT EXISTS agencies(ori TEXT PRIMARY KEY, name TEXT NOT NULL, law_enforcement INTEGER NOT NULL,
  community TEXT, barred BLOB NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS subjects(id TEXT PRIMARY KEY, kind TEXT NOT NULL, agency TEXT NOT NULL REFERENCES agencies,
  name TEXT NOT NULL, roles BLOB NOT NULL, unit TEXT, disabled INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS memberships(subject TEXT NOT NULL REFERENCES subjects, kind TEXT NOT NULL,
  name TEXT NOT NULL, PRIMARY KEY(subject, kind, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS api_keys(key_id TEXT PRIMARY KEY, subject TEXT NOT NULL REFERENCES subjects,
  secret_sha256 TEXT NOT NULL, created TEXT NOT NULL, revoked TEXT);
CREATE TABLE IF NOT EXISTS issuers(issuer TEXT PRIMARY KEY, audience TEXT NOT NULL, public_key TEXT NOT NULL,
  algorithms BLOB NOT NULL);
"""


class Directory(IdentityDirectory):
    """The embedded directory (SQLite)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self._db = connect(self.path)
        self._db.executescript(_DDL)
        self._lock = threading.Lock()

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> Directory:
        return cls(data_dir / "identity.db")

    def _write(self, sql: str, args: tuple[Any, ...] = ()) -> int:
        with self._lock:
            return int(self._db.execute(sql, args).rowcount)

    def _put_agency(self, ori: str, name: str, law_enforcement: bool, community: str | None) -> None:
        self._write(
            "INSERT INTO agencies(ori, name, law_enforcement, community) VALUES(?,?,?,?) ON CONFLICT(ori) DO UPDATE "
            "SET name=excluded.name, law_enforcement=excluded.law_enforcement, community=excluded.community",
            (ori, name, int(law_enforcement), community),
        )

    def _put_barred(self, ori: str, barred: list[str]) -> None:
        self._write("UPDATE agencies SET barred=? WHERE ori=?", (orjson.dumps(barred), ori))

    _AGENCY = "SELECT ori, name, law_enforcement, community, barred FROM agencies"

    @staticmethod
    def _agency_dict(r: tuple[Any, ...]) -> dict[str, Any]:
        return {
            "ori": r[0],
            "name": r[1],
            "law_enforcement": bool(r[2]),
            "community": r[3],
            "barred": orjson.loads(r[4]),
        }

    def _agency_row(self, ori: str) -> dict[str, Any] | None:
        r = self._db.execute(self._AGENCY + " WHERE ori=?", (ori,)).fetchone()
        return None if r is None else self._agency_dict(r)

    def agencies(self) -> list[dict[str, Any]]:
        return [self._agency_dict(r) for r in self._db.execute(self._AGENCY + " ORDER BY ori")]

    def _agencies_version(self) -> object:
        # data_version moves when another connection commits; this handle's own writes are
        # seen by the change count of its connection
        return (self._db.execute("PRAGMA data_version").fetchone()[0], self._db.total_changes)

    def _put_subject(self, row: dict[str, Any]) -> None:
        self._write(
            "INSERT INTO subjects(id, kind, agency, name, roles, unit, created) VALUES(?,?,?,?,?,?,?) "
            "ON CONFLICT(id) DO UPDATE SET kind=excluded.kind, agency=excluded.agency, name=excluded.name, "
            "roles=excluded.roles, unit=excluded.unit, disabled=0",
            (
                row["id"],
                row["kind"],
                row["agency"],
                row["name"],
                orjson.dumps(row["roles"]),
                row["unit"],
                row["created"],
            ),
        )

    def _update_subject(self, subject_id: str, fields: dict[str, Any]) -> bool:
        cols = {"roles": lambda v: orjson.dumps(v), "disabled": int}
        sets = ", ".join(f"{k}=?" for k in fields)
        args = tuple(cols[k](v) for k, v in fields.items())  # type: ignore[no-untyped-call]
        return self._write(f"UPDATE subjects SET {sets} WHERE id=?", (*args, subject_id)) > 0

    def _subject_row(self, subject_id: str) -> dict[str, Any] | None:
        r = self._db.execute(
            "SELECT id, kind, agency, name, roles, unit, disabled FROM subjects WHERE id=?", (subject_id,)
        ).fetchone()
        if r is None:
            return None
        out: dict[str, Any] = {
            "id": r[0],
            "kind": r[1],
            "agency": r[2],
            "name": r[3],
            "roles": orjson.loads(r[4]),
            "unit": r[5],
            "disabled": bool(r[6]),
            "cases": [],
            "lists": [],
        }
        for kind, name in self._db.execute("SELECT kind, name FROM memberships WHERE subject=?", (r[0],)):
            out["cases" if kind == "case" else "lists"].append(name)
        return out

    def _subject_ids(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT id FROM subjects ORDER BY id").fetchall()]

    def _member(self, subject_id: str, kind: str, name: str, add: bool) -> None:
        if add:
            self._write(
                "INSERT OR IGNORE INTO memberships(subject, kind, name) VALUES(?,?,?)", (subject_id, kind, name)
            )
        else:
            self._write("DELETE FROM memberships WHERE subject=? AND kind=? AND name=?", (subject_id, kind, name))

    def _put_key(self, row: dict[str, Any]) -> None:
        self._write(
            "INSERT INTO api_keys(key_id, subject, secret_sha256, created) VALUES(?,?,?,?)",
            (row["key_id"], row["subject"], row["secret_sha256"], row["created"]),
        )

    def _revoke(self, key_id: str, when: str) -> bool:
        return self._write("UPDATE api_keys SET revoked=? WHERE key_id=?", (when, key_id)) > 0

    def _key_row(self, key_id: str) -> dict[str, Any] | None:
        r = self._db.execute(
            "SELECT subject, secret_sha256, revoked FROM api_keys WHERE key_id=?", (key_id,)
        ).fetchone()
        return None if r is None else {"subject": r[0], "secret_sha256": r[1], "revoked": r[2]}

    def keys(self, subject_id: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT key_id, subject, created, revoked FROM api_keys"
        rows = self._db.execute(
            sql + (" WHERE subject=?" if subject_id else "") + " ORDER BY created",
            ((subject_id,) if subject_id else ()),
        )
        return [{"key_id": r[0], "subject": r[1], "created": r[2], "revoked": r[3]} for r in rows]

    def _put_issuer(self, issuer: str, audience: str, public_key: str, algorithms: list[str]) -> None:
        self._write(
            "INSERT INTO issuers(issuer, audience, public_key, algorithms) VALUES(?,?,?,?) ON CONFLICT(issuer) "
            "DO UPDATE SET audience=excluded.audience, public_key=excluded.public_key, algorithms=excluded.algorithms",
            (issuer, audience, public_key, orjson.dumps(algorithms)),
        )

    def _issuer_row(self, issuer: str) -> dict[str, Any] | None:
        r = self._db.execute(
            "SELECT audience, public_key, algorithms FROM issuers WHERE issuer=?", (issuer,)
        ).fetchone()
        return None if r is None else {"audience": r[0], "public_key": r[1], "algorithms": orjson.loads(r[2])}

    def close(self) -> None:
        self._db.close()
