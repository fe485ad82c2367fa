"""Data Integrity proofs with the eddsa-rdfc-2022 cryptosuite (Ed25519 over RDFC-1.0 canonical N-Quads).

Sign input = SHA-256(canonical proof configuration) || SHA-256(canonical unsecured document); the signature is
carried as a base58btc multibase string and keys are Multikey values (multicodec prefix 0xed01).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Callable

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .canonical import CanonicalisationError, canonize

CRYPTOSUITE = "eddsa-rdfc-2022"
ED25519_PUB_PREFIX = b"\xed\x01"
ED25519_PRIV_PREFIX = b"\x80\x26"


class ProofError(ValueError):
    """A proof is malformed or does not verify; `reason` is a short machine code."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def multibase_encode(data: bytes) -> str:
    return "z" + base58.b58encode(data).decode("ascii")


def multibase_decode(value: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("z") or len(value) > 200:
        raise ValueError("not a base58btc multibase value")
    return base58.b58decode(value[1:])


def public_key_multibase(key: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return multibase_encode(ED25519_PUB_PREFIX + key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def public_key_from_multibase(value: str) -> Ed25519PublicKey:
    raw = multibase_decode(value)
    if len(raw) != 34 or raw[:2] != ED25519_PUB_PREFIX:
        raise ValueError("not an Ed25519 Multikey (0xed01 + 32 bytes)")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def private_key_from_multibase(value: str) -> Ed25519PrivateKey:
    raw = multibase_decode(value)
    if len(raw) != 34 or raw[:2] != ED25519_PRIV_PREFIX:
        raise ValueError("not an Ed25519 private Multikey (0x8026 + 32 bytes)")
    return Ed25519PrivateKey.from_private_bytes(raw[2:])


@dataclass
class SignatureParts:
    """Intermediate values, exposed so tests can compare them with published vectors."""

    canonical_document: str
    canonical_proof: str
    hash_data: bytes


def hash_data(document: dict[str, Any], proof_config: dict[str, Any]) -> SignatureParts:
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    config = {k: v for k, v in proof_config.items() if k != "proofValue"}
    config["@context"] = unsecured.get("@context")
    canonical_proof = canonize(config)
    canonical_document = canonize(unsecured)
    digest = (hashlib.sha256(canonical_proof.encode()).digest()
              + hashlib.sha256(canonical_document.encode()).digest())
    return SignatureParts(canonical_document, canonical_proof, digest)


def create_proof(document: dict[str, Any], private_key: Ed25519PrivateKey, verification_method: str,
                 created: str, proof_purpose: str = "assertionMethod") -> dict[str, Any]:
    """Return `document` with a DataIntegrityProof added (the input is not modified)."""
    proof = {"type": "DataIntegrityProof", "cryptosuite": CRYPTOSUITE, "created": created,
             "verificationMethod": verification_method, "proofPurpose": proof_purpose}
    parts = hash_data(document, proof)
    proof["proofValue"] = multibase_encode(private_key.sign(parts.hash_data))
    return {**{k: v for k, v in document.items() if k != "proof"}, "proof": proof}


KeyResolver = Callable[[str], Ed25519PublicKey]


def verify_proof(document: dict[str, Any], resolve_key: KeyResolver) -> dict[str, Any]:
    """Check the single eddsa-rdfc-2022 proof; returns the proof. Raises ProofError (or the resolver's error)."""
    proof = document.get("proof")
    if isinstance(proof, list):
        if len(proof) != 1:
            raise ProofError("proof_format", "exactly one proof is expected")
        proof = proof[0]
    if not isinstance(proof, dict):
        raise ProofError("proof_missing", "the credential has no proof")
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError("proof_format", f"unsupported proof type; expected DataIntegrityProof/{CRYPTOSUITE}")
    if proof.get("proofPurpose") != "assertionMethod":
        raise ProofError("proof_format", "proofPurpose must be assertionMethod")
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or not method:
        raise ProofError("proof_format", "proof has no verificationMethod")
    try:
        signature = multibase_decode(proof.get("proofValue", ""))
    except ValueError:
        raise ProofError("proof_format", "proofValue is not base58btc multibase") from None
    if len(signature) != 64:
        raise ProofError("proof_format", "proofValue is not a 64-byte Ed25519 signature")
    key = resolve_key(method)
    try:
        parts = hash_data(document, proof)
    except CanonicalisationError:
        raise
    try:
        key.verify(signature, parts.hash_data)
    except InvalidSignature:
        raise ProofError("bad_signature", "the signature does not match the document (changed, or another key)") \
            from None
    return proof
