"""Who may ask: agencies, subjects (users and systems), their roles and memberships, and how
they prove who they are (API keys for systems, OIDC/JWT bearer tokens for users).

The directory is one SQLite file beside the bus (`<data_dir>/identity.db`), shared by every API
worker and managed with `argus admin`. Roles and memberships always come from the directory, never
from a token's claims: an identity provider proves *who* a user is, the fusion centre decides
what that user may see. A subject resolves to a `Recipient`, the only thing the policy reads.

API keys are `argus_<key id>_<secret>`; only the SHA-256 of the 32-byte random secret is kept
(a high-entropy secret needs no slow hash), compared in constant time. JWTs are verified
against the public key configured for their issuer (RS256/ES256/EdDSA, never `none` or a
shared secret), with `exp`, `iss` and `aud` required.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import orjson

from argus.records import ORI_RE, utcnow
from argus.security.policy import NON_LAW_ENFORCEMENT, ROLES, AgencyRules, Recipient
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
ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA")
MEMBERSHIPS = ("case", "list")


class IdentityError(ValueError):
    """A directory change that cannot be made (unknown agency, bad role...): message says why."""


class AuthError(Exception):
    """Authentication failed; `reason` is for the audit trail, never for the caller."""

    def __init__(self, reason: str, subject: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.subject = subject


@dataclass(frozen=True)
class Identity:
    subject: str
    method: str  # api_key | jwt
    recipient: Recipient


class Directory:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = connect(self.path)
        self._db.executescript(_DDL)
        self._lock = threading.Lock()
        self._rules: dict[str, AgencyRules] | None = None
        self._rules_version = -1

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> Directory:
        return cls(data_dir / "identity.db")

    def _write(self, sql: str, args: tuple[Any, ...] = ()) -> int:
        with self._lock:
            n = self._db.execute(sql, args).rowcount
            self._rules = None
            return n

    # --- agencies -------------------------------------------------------------------------------
    def add_agency(self, ori: str, name: str, *, law_enforcement: bool = True, community: str | None = None) -> None:
        if not ORI_RE.match(ori):
            raise IdentityError(f"agency: {ori!r} is not a 9-character ORI such as CA0190000")
        self._write(
            "INSERT INTO agencies(ori, name, law_enforcement, community) VALUES(?,?,?,?) ON CONFLICT(ori) DO UPDATE "
            "SET name=excluded.name, law_enforcement=excluded.law_enforcement, community=excluded.community",
            (ori, name, int(law_enforcement), community),
        )

    def set_barred(self, ori: str, barred: list[str]) -> None:
        """The agencies `ori` refuses to share anything beyond TLP:CLEAR with."""
        self._agency(ori)
        bad = [b for b in barred if not ORI_RE.match(b)]
        if bad:
            raise IdentityError(f"barred: {bad[0]!r} is not an ORI")
        self._write("UPDATE agencies SET barred=? WHERE ori=?", (orjson.dumps(sorted(set(barred))), ori))

    def _agency(self, ori: str) -> tuple[str, str, int, str | None, bytes]:
        row = self._db.execute("SELECT ori, name, law_enforcement, community, barred FROM agencies WHERE ori=?", (ori,))
        found = row.fetchone()
        if found is None:
            raise IdentityError(f"unknown agency {ori!r}; add it with `argus admin agency add`")
        return found  # type: ignore[no-any-return]

    def agencies(self) -> list[dict[str, Any]]:
        return [
            {"ori": r[0], "name": r[1], "law_enforcement": bool(r[2]), "community": r[3], "barred": orjson.loads(r[4])}
            for r in self._db.execute("SELECT ori, name, law_enforcement, community, barred FROM agencies ORDER BY ori")
        ]

    def rules(self, ori: str) -> AgencyRules:
        """The originating agency's dissemination rules (an agency not in the directory has none)."""
        version = self._db.execute("PRAGMA data_version").fetchone()[0]  # `argus admin` in another process
        table = self._rules if version == self._rules_version else None
        if table is None:
            self._rules_version = version
            table = {
                a["ori"]: AgencyRules(barred=frozenset(a["barred"]), community=a["community"]) for a in self.agencies()
            }
            self._rules = table
        return table.get(ori, AgencyRules())

    def barring(self, who: Recipient) -> tuple[str, ...]:
        """Agencies whose non-CLEAR records `who` may not see at all (for a store's pre-filter)."""
        self.rules("")
        assert self._rules is not None
        return tuple(
            sorted(
                ori
                for ori, r in self._rules.items()
                if ori != who.agency and (who.agency in r.barred or (r.community and r.community != who.community))
            )
        )

    # --- subjects -------------------------------------------------------------------------------
    def add_subject(
        self,
        subject_id: str,
        agency: str,
        roles: list[str],
        *,
        kind: str = "user",
        name: str | None = None,
        unit: str | None = None,
    ) -> None:
        self._agency(agency)
        if kind not in ("user", "system"):
            raise IdentityError("kind: user or system")
        if not roles:
            raise IdentityError("a subject needs at least one role")
        self._check_roles(roles)
        if not subject_id or len(subject_id) > 64 or not subject_id.replace("-", "").replace(".", "").isalnum():
            raise IdentityError(f"subject id {subject_id!r}: 1-64 letters, digits, '-' or '.'")
        self._write(
            "INSERT INTO subjects(id, kind, agency, name, roles, unit, created) VALUES(?,?,?,?,?,?,?) "
            "ON CONFLICT(id) DO UPDATE SET kind=excluded.kind, agency=excluded.agency, name=excluded.name, "
            "roles=excluded.roles, unit=excluded.unit, disabled=0",
            (
                subject_id,
                kind,
                agency,
                name or subject_id,
                orjson.dumps(sorted(set(roles))),
                unit,
                utcnow().isoformat(),
            ),
        )

    @staticmethod
    def _check_roles(roles: list[str]) -> None:
        bad = [r for r in roles if r not in ROLES]
        if bad:
            raise IdentityError(f"unknown role {bad[0]!r}; one of {', '.join(sorted(ROLES))}")

    def set_roles(self, subject_id: str, roles: list[str]) -> None:
        self._check_roles(roles)
        if not roles:
            raise IdentityError("a subject needs at least one role")
        if not self._write("UPDATE subjects SET roles=? WHERE id=?", (orjson.dumps(sorted(set(roles))), subject_id)):
            raise IdentityError(f"unknown subject {subject_id!r}")

    def disable(self, subject_id: str) -> None:
        if not self._write("UPDATE subjects SET disabled=1 WHERE id=?", (subject_id,)):
            raise IdentityError(f"unknown subject {subject_id!r}")

    def add_member(self, subject_id: str, kind: str, name: str) -> None:
        if kind not in MEMBERSHIPS:
            raise IdentityError("membership kind: case or list")
        self.subject(subject_id)
        self._write("INSERT OR IGNORE INTO memberships(subject, kind, name) VALUES(?,?,?)", (subject_id, kind, name))

    def remove_member(self, subject_id: str, kind: str, name: str) -> None:
        self._write("DELETE FROM memberships WHERE subject=? AND kind=? AND name=?", (subject_id, kind, name))

    def subject(self, subject_id: str) -> dict[str, Any]:
        r = self._db.execute(
            "SELECT id, kind, agency, name, roles, unit, disabled FROM subjects WHERE id=?", (subject_id,)
        ).fetchone()
        if r is None:
            raise IdentityError(f"unknown subject {subject_id!r}")
        members = self._db.execute("SELECT kind, name FROM memberships WHERE subject=? ORDER BY kind, name", (r[0],))
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
        for kind, name in members:
            out["cases" if kind == "case" else "lists"].append(name)
        return out

    def subjects(self) -> list[dict[str, Any]]:
        return [self.subject(r[0]) for r in self._db.execute("SELECT id FROM subjects ORDER BY id").fetchall()]

    def recipient(self, subject_id: str, role: str | None = None) -> Recipient:
        """The subject as the policy sees it, acting in `role` (default: its first role)."""
        s = self.subject(subject_id)
        if s["disabled"]:
            raise AuthError("subject disabled", subject_id)
        if role is not None and role not in s["roles"]:
            raise AuthError(f"subject does not hold role {role}", subject_id)
        acting = role or s["roles"][0]
        agency = self._agency(s["agency"])
        return Recipient(
            agency=s["agency"],
            role=acting,
            law_enforcement=bool(agency[2]) and acting not in NON_LAW_ENFORCEMENT,
            unit=s["unit"],
            officer=s["id"],
            cases=frozenset(s["cases"]),
            lists=frozenset(s["lists"]),
            community=agency[3],
        )

    # --- API keys -------------------------------------------------------------------------------
    def create_key(self, subject_id: str) -> str:
        """A new key for a subject; the secret is shown once and never stored."""
        self.subject(subject_id)
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        self._write(
            "INSERT INTO api_keys(key_id, subject, secret_sha256, created) VALUES(?,?,?,?)",
            (key_id, subject_id, hashlib.sha256(secret.encode()).hexdigest(), utcnow().isoformat()),
        )
        return f"argus_{key_id}_{secret}"

    def revoke_key(self, key_id: str) -> None:
        if not self._write("UPDATE api_keys SET revoked=? WHERE key_id=?", (utcnow().isoformat(), key_id)):
            raise IdentityError(f"unknown key {key_id!r}")

    def keys(self, subject_id: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT key_id, subject, created, revoked FROM api_keys"
        rows = self._db.execute(
            sql + (" WHERE subject=?" if subject_id else "") + " ORDER BY created",
            ((subject_id,) if subject_id else ()),
        )
        return [{"key_id": r[0], "subject": r[1], "created": r[2], "revoked": r[3]} for r in rows]

    def authenticate_key(self, token: str, role: str | None = None) -> Identity:
        parts = token.split("_")
        if len(parts) < 3 or parts[0] != "argus":
            raise AuthError("malformed API key")
        key_id, secret = parts[1], "_".join(parts[2:])
        row = self._db.execute(
            "SELECT subject, secret_sha256, revoked FROM api_keys WHERE key_id=?", (key_id,)
        ).fetchone()
        digest = hashlib.sha256(secret.encode()).hexdigest()
        if row is None or not hmac.compare_digest(row[1], digest):
            raise AuthError("unknown API key or wrong secret")
        if row[2]:
            raise AuthError("revoked API key", row[0])
        return Identity(row[0], "api_key", self.recipient(row[0], role))

    # --- OIDC / JWT -----------------------------------------------------------------------------
    def add_issuer(self, issuer: str, audience: str, public_key_pem: str, algorithms: list[str]) -> None:
        bad = [a for a in algorithms if a not in ALGORITHMS]
        if bad or not algorithms:
            raise IdentityError(f"algorithms: asymmetric only, from {', '.join(ALGORITHMS)}")
        try:
            jwt.algorithms.get_default_algorithms()[algorithms[0]].prepare_key(public_key_pem)  # type: ignore[attr-defined]
        except Exception as exc:
            raise IdentityError(f"public key: not a PEM public key for {algorithms[0]} ({exc})") from None
        self._write(
            "INSERT INTO issuers(issuer, audience, public_key, algorithms) VALUES(?,?,?,?) ON CONFLICT(issuer) "
            "DO UPDATE SET audience=excluded.audience, public_key=excluded.public_key, algorithms=excluded.algorithms",
            (issuer, audience, public_key_pem, orjson.dumps(algorithms)),
        )

    def authenticate_jwt(self, token: str, role: str | None = None) -> Identity:
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError as exc:
            raise AuthError(f"malformed token: {exc}") from None
        row = self._db.execute(
            "SELECT audience, public_key, algorithms FROM issuers WHERE issuer=?", (str(issuer),)
        ).fetchone()
        if row is None:
            raise AuthError(f"token from an unconfigured issuer {issuer!r}")
        try:
            claims = jwt.decode(
                token,
                row[1],
                algorithms=orjson.loads(row[2]),
                audience=row[0],
                issuer=issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
                leeway=30,
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"token rejected: {exc}") from None
        sub = str(claims["sub"])
        try:
            return Identity(sub, "jwt", self.recipient(sub, role))
        except IdentityError:
            raise AuthError("token subject is not in the directory", sub) from None

    def close(self) -> None:
        self._db.close()
