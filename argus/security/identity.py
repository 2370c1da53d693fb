"""Who may ask: agencies, subjects (users and systems), their roles and memberships, and how
they prove who they are (API keys for systems, OIDC/JWT bearer tokens for users).

The directory is one SQLite file beside the bus (`<data_dir>/identity.db`,
argus/stores/sqlite_identity.py), shared by every API worker on its host, or OpenSearch
(argus/stores/opensearch_identity.py, `ARGUS_IDENTITY`) for API processes on several hosts; both
behind `IdentityDirectory`, managed with `argus admin`.
Roles and memberships always come from the directory, never from a token's claims: an identity
provider proves *who* a user is, the fusion centre decides what that user may see. A subject
resolves to a `Recipient`, the only thing the policy reads.

API keys are `argus_<key id>_<secret>`; only the SHA-256 of the 32-byte random secret is kept
(a high-entropy secret needs no slow hash), compared in constant time. JWTs are verified
against the public key configured for their issuer (RS256/ES256/EdDSA, never `none` or a
shared secret), with `exp`, `iss` and `aud` required.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import jwt

from argus.records import ORI_RE, utcnow
from argus.security.policy import NON_LAW_ENFORCEMENT, ROLES, AgencyRules, Recipient

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


class IdentityDirectory(ABC):
    """What a subject may do and how it proves who it is; the storage is the backend's (rows as
    dicts: an agency's `ori, name, law_enforcement, community, barred`; a subject's `id, kind,
    agency, name, roles, unit, disabled, cases, lists`; a key's `key_id, subject, secret_sha256,
    created, revoked`; an issuer's `audience, public_key, algorithms`)."""

    def __init__(self) -> None:
        self._rules: dict[str, AgencyRules] | None = None
        self._rules_seen: object = None

    # --- storage, per backend -------------------------------------------------------------------
    @abstractmethod
    def _put_agency(self, ori: str, name: str, law_enforcement: bool, community: str | None) -> None:
        """Insert or update, keeping the agency's barred list."""

    @abstractmethod
    def _put_barred(self, ori: str, barred: list[str]) -> None: ...

    @abstractmethod
    def _agency_row(self, ori: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def agencies(self) -> list[dict[str, Any]]:
        """Every agency, by ORI."""

    @abstractmethod
    def _agencies_version(self) -> object:
        """Changes whenever any process changes an agency (so cached rules are rebuilt)."""

    @abstractmethod
    def _put_subject(self, row: dict[str, Any]) -> None:
        """Insert or update (enabled again), keeping its memberships and creation time."""

    @abstractmethod
    def _update_subject(self, subject_id: str, fields: dict[str, Any]) -> bool:
        """False: no such subject."""

    @abstractmethod
    def _subject_row(self, subject_id: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def _subject_ids(self) -> list[str]: ...

    @abstractmethod
    def _member(self, subject_id: str, kind: str, name: str, add: bool) -> None: ...

    @abstractmethod
    def _put_key(self, row: dict[str, Any]) -> None: ...

    @abstractmethod
    def _revoke(self, key_id: str, when: str) -> bool:
        """False: no such key."""

    @abstractmethod
    def _key_row(self, key_id: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def keys(self, subject_id: str | None = None) -> list[dict[str, Any]]:
        """Keys (never their secrets' hashes), oldest first."""

    @abstractmethod
    def _put_issuer(self, issuer: str, audience: str, public_key: str, algorithms: list[str]) -> None: ...

    @abstractmethod
    def _issuer_row(self, issuer: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def close(self) -> None: ...

    # --- agencies -------------------------------------------------------------------------------
    def add_agency(self, ori: str, name: str, *, law_enforcement: bool = True, community: str | None = None) -> None:
        if not ORI_RE.match(ori):
            raise IdentityError(f"agency: {ori!r} is not a 9-character ORI such as CA0190000")
        self._put_agency(ori, name, law_enforcement, community)
        self._rules = None

    def set_barred(self, ori: str, barred: list[str]) -> None:
        """The agencies `ori` refuses to share anything beyond TLP:CLEAR with."""
        self._agency(ori)
        bad = [b for b in barred if not ORI_RE.match(b)]
        if bad:
            raise IdentityError(f"barred: {bad[0]!r} is not an ORI")
        self._put_barred(ori, sorted(set(barred)))
        self._rules = None

    def _agency(self, ori: str) -> dict[str, Any]:
        found = self._agency_row(ori)
        if found is None:
            raise IdentityError(f"unknown agency {ori!r}; add it with `argus admin agency add`")
        return found

    def agency(self, ori: str) -> dict[str, Any] | None:
        """One agency by its ORI (a lookup by id, not a listing), or None."""
        return self._agency_row(ori)

    def rules(self, ori: str) -> AgencyRules:
        """The originating agency's dissemination rules (an agency not in the directory has none)."""
        version = self._agencies_version()  # `argus admin` in another process
        table = self._rules if version == self._rules_seen else None
        if table is None:
            self._rules_seen = version
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
        self._check_agency_roles(self._agency(agency), roles)
        if kind not in ("user", "system"):
            raise IdentityError("kind: user or system")
        if not roles:
            raise IdentityError("a subject needs at least one role")
        self._check_roles(roles)
        if not subject_id or len(subject_id) > 64 or not subject_id.replace("-", "").replace(".", "").isalnum():
            raise IdentityError(f"subject id {subject_id!r}: 1-64 letters, digits, '-' or '.'")
        row = {"id": subject_id, "kind": kind, "agency": agency, "name": name or subject_id}
        self._put_subject(row | {"roles": sorted(set(roles)), "unit": unit, "created": utcnow().isoformat()})

    @staticmethod
    def _check_roles(roles: list[str]) -> None:
        bad = [r for r in roles if r not in ROLES]
        if bad:
            raise IdentityError(f"unknown role {bad[0]!r}; one of {', '.join(sorted(ROLES))}")

    def _check_agency_roles(self, agency: dict[str, Any], roles: list[str]) -> None:
        """A non-law-enforcement agency's people hold no law-enforcement role: criminal
        intelligence and field alerts are for law-enforcement recipients (28 CFR 23.20(e))."""
        if agency["law_enforcement"]:
            return
        bad = sorted(set(roles) - NON_LAW_ENFORCEMENT - {"auditor", "administrator"})
        if bad:
            raise IdentityError(
                f"role {bad[0]!r}: {agency['ori']} is not a law-enforcement agency; its people may hold "
                f"{', '.join(sorted(NON_LAW_ENFORCEMENT | {'auditor', 'administrator'}))}"
            )

    def set_roles(self, subject_id: str, roles: list[str]) -> None:
        self._check_roles(roles)
        if not roles:
            raise IdentityError("a subject needs at least one role")
        self._check_agency_roles(self._agency(self.subject(subject_id)["agency"]), roles)
        if not self._update_subject(subject_id, {"roles": sorted(set(roles))}):
            raise IdentityError(f"unknown subject {subject_id!r}")

    def disable(self, subject_id: str) -> None:
        if not self._update_subject(subject_id, {"disabled": True}):
            raise IdentityError(f"unknown subject {subject_id!r}")

    def add_member(self, subject_id: str, kind: str, name: str) -> None:
        if kind not in MEMBERSHIPS:
            raise IdentityError("membership kind: case or list")
        self.subject(subject_id)
        self._member(subject_id, kind, name, True)

    def remove_member(self, subject_id: str, kind: str, name: str) -> None:
        self._member(subject_id, kind, name, False)

    def subject(self, subject_id: str) -> dict[str, Any]:
        r = self._subject_row(subject_id)
        if r is None:
            raise IdentityError(f"unknown subject {subject_id!r}")
        return r | {"cases": sorted(r["cases"]), "lists": sorted(r["lists"])}

    def subjects(self) -> list[dict[str, Any]]:
        return [self.subject(s) for s in self._subject_ids()]

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
            law_enforcement=agency["law_enforcement"] and acting not in NON_LAW_ENFORCEMENT,
            unit=s["unit"],
            officer=s["id"],
            cases=frozenset(s["cases"]),
            lists=frozenset(s["lists"]),
            community=agency["community"],
        )

    # --- API keys -------------------------------------------------------------------------------
    def create_key(self, subject_id: str) -> str:
        """A new key for a subject; the secret is shown once and never stored."""
        self.subject(subject_id)
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        digest = hashlib.sha256(secret.encode()).hexdigest()
        self._put_key(
            {"key_id": key_id, "subject": subject_id, "secret_sha256": digest, "created": utcnow().isoformat()}
        )
        return f"argus_{key_id}_{secret}"

    def revoke_key(self, key_id: str) -> None:
        if not self._revoke(key_id, utcnow().isoformat()):
            raise IdentityError(f"unknown key {key_id!r}")

    def authenticate_key(self, token: str, role: str | None = None) -> Identity:
        parts = token.split("_")
        if len(parts) < 3 or parts[0] != "argus":
            raise AuthError("malformed API key")
        key_id, secret = parts[1], "_".join(parts[2:])
        row = self._key_row(key_id)
        digest = hashlib.sha256(secret.encode()).hexdigest()
        if row is None or not hmac.compare_digest(row["secret_sha256"], digest):
            raise AuthError("unknown API key or wrong secret")
        if row["revoked"]:
            raise AuthError("revoked API key", row["subject"])
        return Identity(row["subject"], "api_key", self.recipient(row["subject"], role))

    # --- OIDC / JWT -----------------------------------------------------------------------------
    def add_issuer(self, issuer: str, audience: str, public_key_pem: str, algorithms: list[str]) -> None:
        bad = [a for a in algorithms if a not in ALGORITHMS]
        if bad or not algorithms:
            raise IdentityError(f"algorithms: asymmetric only, from {', '.join(ALGORITHMS)}")
        try:
            jwt.algorithms.get_default_algorithms()[algorithms[0]].prepare_key(public_key_pem)  # type: ignore[attr-defined]
        except Exception as exc:
            raise IdentityError(f"public key: not a PEM public key for {algorithms[0]} ({exc})") from None
        self._put_issuer(issuer, audience, public_key_pem, list(algorithms))

    def authenticate_jwt(self, token: str, role: str | None = None) -> Identity:
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError as exc:
            raise AuthError(f"malformed token: {exc}") from None
        row = self._issuer_row(str(issuer))
        if row is None:
            raise AuthError(f"token from an unconfigured issuer {issuer!r}")
        try:
            claims = jwt.decode(
                token,
                row["public_key"],
                algorithms=row["algorithms"],
                audience=row["audience"],
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


def open_directory(topo: Any) -> IdentityDirectory:
    """The topology's directory (ARGUS_IDENTITY / stores.identity; `<data_dir>/identity.db` by default)."""
    from argus.backends import open_store

    d: IdentityDirectory = open_store(topo, "identity")
    return d
