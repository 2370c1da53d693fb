"""CACAO signatures (`jss`): each one is verified when present, over the playbook canonicalised
with RFC 8785 (JCS) without its `signatures` property, against the public key it carries. A
signature that cannot be verified (no key, an algorithm Argus does not implement) is a problem,
never silently accepted."""

from __future__ import annotations

import base64
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa

HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


def signed_bytes(doc: dict[str, Any]) -> bytes:
    return rfc8785.dumps({k: v for k, v in doc.items() if k != "signatures"})


def sign(doc: dict[str, Any], key: Any, algorithm: str) -> str:
    """The base64url signature value for `doc` (the tests and `argus playbook` sign with this)."""
    data = signed_bytes(doc)
    if algorithm.startswith("RS"):
        raw = key.sign(data, padding.PKCS1v15(), HASHES[algorithm[2:]]())
    elif algorithm.startswith("ES"):
        raw = key.sign(data, ec.ECDSA(HASHES[algorithm[2:]]()))
    else:
        raw = key.sign(data)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def signature_problems(doc: dict[str, Any]) -> list[Any]:
    from argus.playbooks.validation import Problem

    out = []
    for i, sig in enumerate(doc.get("signatures") or []):
        reason = _verify(doc, sig)
        if reason:
            out.append(Problem("playbook", "signature", f"signatures/{i}: {reason}"))
    return out


def _verify(doc: dict[str, Any], sig: dict[str, Any]) -> str | None:
    if sig.get("related_to") != doc.get("id") or sig.get("related_version") != doc.get("modified"):
        return "signs another playbook or version (related_to/related_version)"
    if not sig.get("public_key"):
        return "no public_key to verify with (certificate chains and URLs are not fetched)"
    algorithm = str(sig.get("algorithm", ""))
    try:
        key = serialization.load_pem_public_key(_pem(sig["public_key"]))
        value = base64.urlsafe_b64decode(str(sig.get("value", "")) + "==")
        _check(key, algorithm, value, signed_bytes(doc))
    except InvalidSignature:
        return "does not verify: the playbook was changed after signing, or the key is not the signer's"
    except (ValueError, TypeError, KeyError) as e:
        return f"cannot verify ({algorithm}): {e}"
    return None


def _pem(key: str) -> bytes:
    text = key.strip()
    if "BEGIN" not in text:
        text = "-----BEGIN PUBLIC KEY-----\n" + text + "\n-----END PUBLIC KEY-----"
    return text.encode()


def _check(key: Any, algorithm: str, value: bytes, data: bytes) -> None:
    bits = algorithm[2:]
    if algorithm[:2] == "RS" and isinstance(key, rsa.RSAPublicKey) and bits in HASHES:
        key.verify(value, data, padding.PKCS1v15(), HASHES[bits]())
    elif algorithm[:2] == "PS" and isinstance(key, rsa.RSAPublicKey) and bits in HASHES:
        pss = padding.PSS(mgf=padding.MGF1(HASHES[bits]()), salt_length=padding.PSS.AUTO)
        key.verify(value, data, pss, HASHES[bits]())
    elif algorithm[:2] == "ES" and isinstance(key, ec.EllipticCurvePublicKey) and bits in HASHES:
        key.verify(value, data, ec.ECDSA(HASHES[bits]()))
    elif algorithm in ("Ed25519", "Ed448") and isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        key.verify(value, data)
    else:
        raise ValueError("algorithm not supported for this key")
