"""did:web identity of the issuer: the DID comes from PUBLIC_BASE_URL, the document lists every published key."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .proof import public_key_from_multibase

DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]


def did_for_url(base_url: str) -> str:
    """https://host:port/path -> did:web:host%3Aport:path (the document lives at /.well-known/did.json
    when there is no path)."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}%3A{parts.port}"
    segments = [quote(s, safe="") for s in parts.path.strip("/").split("/") if s]
    return ":".join(["did:web", host, *segments])


def did_document(did: str, keys: list[tuple[str, str]]) -> dict[str, Any]:
    """keys: (key_id, publicKeyMultibase), newest last; all of them may verify assertions."""
    methods = [{"id": f"{did}#{key_id}", "type": "Multikey", "controller": did, "publicKeyMultibase": multibase}
               for key_id, multibase in keys]
    return {"@context": DID_CONTEXTS, "id": did, "verificationMethod": methods,
            "assertionMethod": [m["id"] for m in methods]}


class KeyResolutionError(ValueError):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def resolve_assertion_key(document: dict[str, Any], method_id: str) -> Ed25519PublicKey:
    """The public key for `method_id` if the DID document lists it under assertionMethod."""
    if not isinstance(document, dict) or not isinstance(document.get("id"), str):
        raise KeyResolutionError("did_document", "the DID document is not valid")
    did = document["id"]
    if not method_id.startswith(did + "#"):
        raise KeyResolutionError("wrong_controller", f"key {method_id} is not controlled by {did}")
    assertion = document.get("assertionMethod") or []
    methods = {m.get("id"): m for m in document.get("verificationMethod") or [] if isinstance(m, dict)}
    listed = {a if isinstance(a, str) else a.get("id") for a in assertion if isinstance(a, (str, dict))}
    if method_id not in listed or method_id not in methods:
        raise KeyResolutionError("unknown_key", f"the issuer does not publish key {method_id.split('#')[-1]!r}")
    method = methods[method_id]
    if method.get("type") != "Multikey" or method.get("controller") != did:
        raise KeyResolutionError("unknown_key", "the published key is not an Ed25519 Multikey of the issuer")
    try:
        return public_key_from_multibase(method.get("publicKeyMultibase", ""))
    except ValueError as error:
        raise KeyResolutionError("unknown_key", str(error)) from None
