"""The identity directory contract, on every backend (embedded SQLite, OpenSearch): API keys
(only their hash kept, revocation seen by every handle at once), JWTs verified against the
configured issuer's key, subjects with roles and memberships, agencies' dissemination rules
(a change by one handle applied by another's next lookup), and the changes refused."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from argus.security.identity import AuthError, IdentityDirectory, IdentityError
from argus.security.policy import Recipient
from tests.contract.conftest import DirectoryBackend

OWN, OTHER, THIRD = "CA0190000", "CA0430000", "NV0020000"


@pytest.fixture
def directory(directory_backend: DirectoryBackend) -> IdentityDirectory:
    d = directory_backend.open()
    d.add_agency(OWN, "Oakland PD", community="CA-NCRIC")
    d.add_subject("det-ruiz", OWN, ["analyst", "supervisor"], unit="ROB1")
    d.add_member("det-ruiz", "case", "ROB-2026-014")
    d.add_member("det-ruiz", "list", "robbery-task-force")
    return d


def test_api_key_resolves_to_the_directory_subject(directory: IdentityDirectory) -> None:
    key = directory.create_key("det-ruiz")
    ident = directory.authenticate_key(key)
    who = ident.recipient
    assert (ident.subject, who.agency, who.role, who.unit) == ("det-ruiz", OWN, "analyst", "ROB1")
    assert who.cases == {"ROB-2026-014"} and "list:robbery-task-force" in who.principals
    assert who.community == "CA-NCRIC" and who.law_enforcement
    assert directory.authenticate_key(key, "supervisor").recipient.role == "supervisor"
    with pytest.raises(AuthError):
        directory.authenticate_key(key, "administrator")  # a role the subject does not hold
    with pytest.raises(AuthError):
        directory.authenticate_key(key[:-2] + "xx")
    with pytest.raises(AuthError, match="malformed"):
        directory.authenticate_key("argus-nokey")
    directory.revoke_key(key.split("_")[1])
    with pytest.raises(AuthError, match="revoked"):
        directory.authenticate_key(key)
    with pytest.raises(IdentityError, match="unknown key"):
        directory.revoke_key("000000000000")


def test_a_key_made_or_revoked_by_one_handle_is_honoured_by_another(
    directory: IdentityDirectory, directory_backend: DirectoryBackend
) -> None:
    """The admin CLI on one host, an API process on another."""
    api = directory_backend.open()
    key = directory.create_key("det-ruiz")
    assert api.authenticate_key(key).subject == "det-ruiz"
    directory.revoke_key(key.split("_")[1])
    with pytest.raises(AuthError, match="revoked"):
        api.authenticate_key(key)
    directory.disable("det-ruiz")
    other = directory.create_key("det-ruiz")
    with pytest.raises(AuthError, match="disabled"):
        api.authenticate_key(other)


def test_only_the_hash_of_a_key_is_kept(directory: IdentityDirectory, directory_backend: DirectoryBackend) -> None:
    key = directory.create_key("det-ruiz")
    secret = key.split("_", 2)[2]
    stored = directory_backend.stored()
    assert secret.encode() not in stored and key.split("_")[1].encode() in stored


def test_keys_are_listed_oldest_first(directory: IdentityDirectory) -> None:
    directory.add_subject("cad-gw", OWN, ["patrol_officer"], kind="system")
    made = [directory.create_key(s).split("_")[1] for s in ("det-ruiz", "cad-gw", "det-ruiz")]
    directory.revoke_key(made[0])
    listed = directory.keys()
    assert [k["key_id"] for k in listed] == made
    assert (
        listed[0]["revoked"]
        and listed[1]["revoked"] is None
        and set(listed[0])
        == {
            "key_id",
            "subject",
            "created",
            "revoked",
        }
    )
    assert [k["key_id"] for k in directory.keys("det-ruiz")] == [made[0], made[2]]


def _keypair() -> tuple[rsa.RSAPrivateKey, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, pem.decode()


def test_jwt_verified_against_the_configured_issuer(directory: IdentityDirectory) -> None:
    private, pem = _keypair()
    directory.add_issuer("https://idp.example.gov", "argus", pem, ["RS256"])
    claims = {"iss": "https://idp.example.gov", "aud": "argus", "sub": "det-ruiz", "exp": int(time.time()) + 300}
    ident = directory.authenticate_jwt(jwt.encode(claims, private, algorithm="RS256"))
    assert ident.subject == "det-ruiz" and ident.method == "jwt"

    other, other_pem = _keypair()
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
    directory.add_issuer("https://idp.example.gov", "argus", other_pem, ["RS256"])  # the issuer's key rotated
    assert directory.authenticate_jwt(jwt.encode(claims, other, algorithm="RS256")).subject == "det-ruiz"
    with pytest.raises(AuthError, match="rejected"):
        directory.authenticate_jwt(jwt.encode(claims, private, algorithm="RS256"))


def test_subjects_roles_and_memberships(directory: IdentityDirectory) -> None:
    directory.add_subject("cad-gw", OWN, ["patrol_officer"], kind="system", name="CAD gateway")
    assert [s["id"] for s in directory.subjects()] == ["cad-gw", "det-ruiz"]
    directory.add_member("det-ruiz", "case", "ROB-2026-001")
    directory.add_member("det-ruiz", "case", "ROB-2026-001")  # once
    directory.remove_member("det-ruiz", "list", "robbery-task-force")
    directory.remove_member("det-ruiz", "list", "never-a-member")
    s = directory.subject("det-ruiz")
    assert s == {
        "id": "det-ruiz",
        "kind": "user",
        "agency": OWN,
        "name": "det-ruiz",
        "roles": ["analyst", "supervisor"],
        "unit": "ROB1",
        "disabled": False,
        "cases": ["ROB-2026-001", "ROB-2026-014"],
        "lists": [],
    }
    directory.set_roles("det-ruiz", ["patrol_officer"])
    directory.disable("det-ruiz")
    with pytest.raises(AuthError, match="disabled"):
        directory.recipient("det-ruiz")
    # Added again: enabled, its details replaced, its memberships kept.
    directory.add_subject("det-ruiz", OWN, ["analyst"], unit="ROB2", name="Det. Ruiz")
    s = directory.subject("det-ruiz")
    assert (s["roles"], s["unit"], s["name"], s["disabled"]) == (["analyst"], "ROB2", "Det. Ruiz", False)
    assert s["cases"] == ["ROB-2026-001", "ROB-2026-014"]
    for bad in (lambda: directory.subject("nobody"), lambda: directory.set_roles("nobody", ["analyst"])):
        with pytest.raises(IdentityError, match="unknown subject"):
            bad()
    with pytest.raises(IdentityError, match="unknown subject"):
        directory.disable("nobody")
    with pytest.raises(IdentityError, match="unknown subject"):
        directory.add_member("nobody", "case", "x")


def test_agency_rules_changed_by_one_handle_apply_in_another(
    directory: IdentityDirectory, directory_backend: DirectoryBackend
) -> None:
    api = directory_backend.open()
    directory.add_agency(OTHER, "San Francisco PD", community="CA-NCRIC")
    directory.add_agency(THIRD, "Las Vegas MPD")
    sf = Recipient(agency=OTHER, role="analyst", community="CA-NCRIC")
    lv = Recipient(agency=THIRD, role="analyst")
    assert api.rules(OWN).community == "CA-NCRIC" and api.rules("XX0000000").barred == frozenset()
    assert api.barring(sf) == () and api.barring(lv) == (OWN, OTHER)  # outside both agencies' community
    directory.set_barred(OWN, [OTHER, OTHER])
    assert api.rules(OWN).barred == {OTHER}
    assert api.barring(sf) == (OWN,)
    directory.add_agency(OWN, "Oakland Police Department", community=None)  # renamed, left its community
    assert api.rules(OWN).barred == {OTHER} and api.rules(OWN).community is None  # barring kept
    assert api.barring(lv) == (OTHER,)
    assert [(a["ori"], a["name"]) for a in api.agencies()] == [
        (OWN, "Oakland Police Department"),
        (OTHER, "San Francisco PD"),
        (THIRD, "Las Vegas MPD"),
    ]
    directory.add_agency("CA0199999", "Oakland Business Watch", law_enforcement=False)
    directory.add_subject("watch1", "CA0199999", ["private_sector_partner"])
    assert not api.recipient("watch1").law_enforcement


def test_directory_refuses_bad_changes(directory: IdentityDirectory) -> None:
    with pytest.raises(IdentityError, match="ORI"):
        directory.add_agency("OAKLAND", "x")
    with pytest.raises(IdentityError, match="unknown role"):
        directory.add_subject("x", OWN, ["sheriff"])
    with pytest.raises(IdentityError, match="unknown agency"):
        directory.add_subject("x", THIRD, ["analyst"])
    with pytest.raises(IdentityError, match="asymmetric"):
        directory.add_issuer("i", "a", "secret", ["HS256"])
    with pytest.raises(IdentityError, match="not an ORI"):
        directory.set_barred(OWN, ["nope"])
    with pytest.raises(IdentityError, match="unknown agency"):
        directory.set_barred(THIRD, [OWN])
    with pytest.raises(IdentityError, match="1-64"):
        directory.add_subject("a b", OWN, ["analyst"])
    with pytest.raises(IdentityError, match="membership kind"):
        directory.add_member("det-ruiz", "team", "x")
