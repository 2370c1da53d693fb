"""The directory (API keys, JWTs verified against configured issuer keys) and the audit trail
(append-only, hash-chained, verifiable)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from argus.security.audit import AuditLog
from argus.security.identity import AuthError, Directory, IdentityError

OWN = "CA0190000"


@pytest.fixture
def directory(tmp_path: Path) -> Directory:
    d = Directory(tmp_path / "identity.db")
    d.add_agency(OWN, "Oakland PD", community="CA-NCRIC")
    d.add_subject("det-ruiz", OWN, ["analyst", "supervisor"], unit="ROB1")
    d.add_member("det-ruiz", "case", "ROB-2026-014")
    d.add_member("det-ruiz", "list", "robbery-task-force")
    return d


def test_api_key_resolves_to_the_directory_subject(directory: Directory) -> None:
    key = directory.create_key("det-ruiz")
    ident = directory.authenticate_key(key)
    who = ident.recipient
    assert (ident.subject, who.agency, who.role, who.unit) == ("det-ruiz", OWN, "analyst", "ROB1")
    assert who.cases == {"ROB-2026-014"} and "list:robbery-task-force" in who.principals
    assert directory.authenticate_key(key, "supervisor").recipient.role == "supervisor"
    with pytest.raises(AuthError):
        directory.authenticate_key(key, "administrator")  # a role the subject does not hold
    with pytest.raises(AuthError):
        directory.authenticate_key(key[:-2] + "xx")
    directory.revoke_key(key.split("_")[1])
    with pytest.raises(AuthError, match="revoked"):
        directory.authenticate_key(key)


def test_only_the_hash_of_a_key_is_kept(directory: Directory, tmp_path: Path) -> None:
    key = directory.create_key("det-ruiz")
    assert key.split("_", 2)[2].encode() not in (tmp_path / "identity.db").read_bytes()


def _keypair() -> tuple[rsa.RSAPrivateKey, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, pem.decode()


def test_jwt_verified_against_the_configured_issuer(directory: Directory) -> None:
    private, pem = _keypair()
    directory.add_issuer("https://idp.example.gov", "argus", pem, ["RS256"])
    claims = {"iss": "https://idp.example.gov", "aud": "argus", "sub": "det-ruiz", "exp": int(time.time()) + 300}
    ident = directory.authenticate_jwt(jwt.encode(claims, private, algorithm="RS256"))
    assert ident.subject == "det-ruiz" and ident.method == "jwt"

    other, _ = _keypair()
    with pytest.raises(AuthError, match="rejected"):  # signed by someone else
        directory.authenticate_jwt(jwt.encode(claims, other, algorithm="RS256"))
    with pytest.raises(AuthError, match="rejected"):  # expired
        directory.authenticate_jwt(jwt.encode(dict(claims, exp=int(time.time()) - 600), private, algorithm="RS256"))
    with pytest.raises(AuthError, match="rejected"):  # for another audience
        directory.authenticate_jwt(jwt.encode(dict(claims, aud="other"), private, algorithm="RS256"))
    with pytest.raises(AuthError, match="unconfigured"):
        directory.authenticate_jwt(jwt.encode(dict(claims, iss="https://evil"), private, algorithm="RS256"))
    with pytest.raises(AuthError):  # alg=none is never accepted
        directory.authenticate_jwt(jwt.encode(claims, None, algorithm="none"))
    with pytest.raises(AuthError, match="not in the directory"):
        directory.authenticate_jwt(jwt.encode(dict(claims, sub="stranger"), private, algorithm="RS256"))


def test_directory_refuses_bad_changes(directory: Directory) -> None:
    with pytest.raises(IdentityError, match="ORI"):
        directory.add_agency("OAKLAND", "x")
    with pytest.raises(IdentityError, match="unknown role"):
        directory.add_subject("x", OWN, ["sheriff"])
    with pytest.raises(IdentityError, match="unknown agency"):
        directory.add_subject("x", "NV0020000", ["analyst"])
    with pytest.raises(IdentityError, match="asymmetric"):
        directory.add_issuer("i", "a", "secret", ["HS256"])


def test_audit_chain_verifies_and_shows_tampering(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.db")
    for i in range(5):
        log.record("read", actor="det-ruiz", agency=OWN, object=f"e{i}", detail={"returned": i})
    assert log.record("disseminate", actor="u", agency=OWN, recipient="CA0430000", reason="r", dedup="a|b") == 6
    assert log.record("disseminate", actor="u", agency=OWN, recipient="CA0430000", reason="r", dedup="a|b") is None
    v = log.verify()
    assert v.ok and v.entries == 6
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        log._db.execute("UPDATE audit SET actor='x' WHERE seq=2")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        log._db.execute("DELETE FROM audit WHERE seq=2")
    log.close()

    # Someone with the file edits it by hand (dropping the triggers first): verify finds it.
    db = sqlite3.connect(tmp_path / "audit.db")
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("UPDATE audit SET object='e9' WHERE seq=3")
    db.commit()
    db.close()
    v = AuditLog(tmp_path / "audit.db").verify()
    assert not v.ok and v.first_bad == 3 and "hash" in (v.problem or "")


def test_audit_removal_is_found(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.db")
    for i in range(3):
        log.record("read", actor="a", agency=OWN, object=str(i))
    log.close()
    db = sqlite3.connect(tmp_path / "audit.db")
    db.execute("DROP TRIGGER audit_no_delete")
    db.execute("DELETE FROM audit WHERE seq=2")
    db.commit()
    db.close()
    v = AuditLog(tmp_path / "audit.db").verify()
    assert not v.ok and v.first_bad == 2


def test_auditors_read_their_agencys_entries(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.db")
    log.record("read", actor="a", agency=OWN)
    log.record("read", actor="b", agency="CA0430000")
    log.record("disseminate", actor="b", agency="CA0430000", recipient=OWN, reason="alert")
    assert [e["actor"] for e in log.query(visible_to_agency=OWN)] == ["a", "b"]
