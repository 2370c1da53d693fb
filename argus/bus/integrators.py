"""Integrators on Kafka: a CAD or MDT vendor's consumer reads the alert topic over the broker's
integrator listener (TLS, SASL/SCRAM-SHA-512), with its own credentials and ACLs that allow it
that one topic and its own consumer groups, nothing else.

The broker enforces it (StandardAuthorizer, no ACL means no access); Argus only writes the
credentials and the ACLs, through the Kafka admin API, as the operator's `argus integrator`
commands. The workers and the CLI talk to the broker on the internal listener, which is not
published outside the deployment's network.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)

MECHANISM = "SCRAM-SHA-512"
ITERATIONS = 8192  # Kafka's default for SCRAM credentials is 4096; the cost is paid once a connection
TIMEOUT = 30.0
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


class IntegratorError(ValueError):
    pass


@dataclass(frozen=True)
class Grant:
    """What an integrator's consumer configures (the password is shown once, never stored here)."""

    name: str
    password: str
    topic: str
    group_prefix: str

    def client_config(self, bootstrap: str, ca_file: str) -> dict[str, str]:
        return {
            "bootstrap.servers": bootstrap,
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": MECHANISM,
            "sasl.username": self.name,
            "sasl.password": self.password,
            "ssl.ca.location": ca_file,
            "group.id": f"{self.group_prefix}cad",
            "isolation.level": "read_committed",
        }


def principal(name: str) -> str:
    return f"User:{name}"


def _acls(name: str, topic: str) -> list[AclBinding]:
    """Read (and describe, to learn its partitions) the alert topic; read in its own groups only."""
    who = principal(name)

    def allow(kind: ResourceType, resource: str, pattern: ResourcePatternType, op: AclOperation) -> AclBinding:
        return AclBinding(kind, resource, pattern, who, "*", op, AclPermissionType.ALLOW)

    return [
        allow(ResourceType.TOPIC, topic, ResourcePatternType.LITERAL, AclOperation.READ),
        allow(ResourceType.TOPIC, topic, ResourcePatternType.LITERAL, AclOperation.DESCRIBE),
        allow(ResourceType.GROUP, f"{name}.", ResourcePatternType.PREFIXED, AclOperation.READ),
    ]


def add(admin: AdminClient, name: str, topic: str, password: str | None = None) -> Grant:
    """Credentials for `name` (a new random password unless one is given) and its ACLs; adding
    again replaces the password and leaves the ACLs as they are."""
    if not NAME.match(name):
        raise IntegratorError(f"integrator name {name!r}: 2-63 lowercase letters, digits and hyphens")
    password = password or secrets.token_urlsafe(24)
    cred = UserScramCredentialUpsertion(
        name, ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, ITERATIONS), password.encode()
    )
    for fut in admin.alter_user_scram_credentials([cred], request_timeout=TIMEOUT).values():
        fut.result()
    for fut in admin.create_acls(_acls(name, topic), request_timeout=TIMEOUT).values():
        fut.result()
    return Grant(name, password, topic, f"{name}.")


def remove(admin: AdminClient, name: str) -> int:
    """The integrator's credentials and every ACL naming it; returns how many ACLs went."""
    gone = 0
    everything = AclBindingFilter(
        ResourceType.ANY, None, ResourcePatternType.ANY, principal(name), None, AclOperation.ANY,
        AclPermissionType.ANY,
    )  # fmt: skip
    for fut in admin.delete_acls([everything], request_timeout=TIMEOUT).values():
        gone += len(fut.result())
    known = _scram_users(admin)
    if name in known:
        deletion = UserScramCredentialDeletion(name, ScramMechanism.SCRAM_SHA_512)
        for fut in admin.alter_user_scram_credentials([deletion], request_timeout=TIMEOUT).values():
            fut.result()
    elif not gone:
        raise IntegratorError(f"no integrator named {name}")
    return gone


def listing(admin: AdminClient) -> dict[str, list[str]]:
    """Each integrator with credentials, and what its ACLs allow ("READ TOPIC fusion.alerts")."""
    out: dict[str, list[str]] = {u: [] for u in _scram_users(admin)}
    anything = AclBindingFilter(
        ResourceType.ANY, None, ResourcePatternType.ANY, None, None, AclOperation.ANY, AclPermissionType.ANY
    )
    for b in admin.describe_acls(anything, request_timeout=TIMEOUT).result():
        user = b.principal.removeprefix("User:")
        pattern = "*" if b.resource_pattern_type == ResourcePatternType.PREFIXED else ""
        out.setdefault(user, []).append(f"{b.operation.name} {b.restype.name} {b.name}{pattern}")
    return {u: sorted(v) for u, v in sorted(out.items())}


def _scram_users(admin: AdminClient) -> set[str]:
    fut = admin.describe_user_scram_credentials(request_timeout=TIMEOUT)
    return set(fut.result()) if not isinstance(fut, dict) else {u for u, f in fut.items() if _exists(f)}


def _exists(fut: object) -> bool:
    try:
        fut.result()  # type: ignore[attr-defined]
    except Exception:
        return False
    return True
