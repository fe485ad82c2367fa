"""Bitstring Status List (W3C): GZIP-compressed bitstring, base64url multibase, left-most bit is index 0."""
from __future__ import annotations

import base64
import gzip
import secrets
from typing import Any, Callable, Iterable

from .jsonld import VC_V2

LIST_SIZE = 131_072  # bits: the minimum the specification asks for, for herd privacy
PURPOSES = ("revocation", "suspension")


def encode(indexes: Iterable[int], size: int = LIST_SIZE) -> str:
    bits = bytearray(size // 8)
    for index in indexes:
        bits[index // 8] |= 0x80 >> (index % 8)
    return "u" + base64.urlsafe_b64encode(gzip.compress(bytes(bits), mtime=0)).decode().rstrip("=")


def decode(encoded: str, max_bytes: int = 16 * 1024 * 1024) -> bytes:
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise ValueError("encodedList must be base64url multibase ('u' prefix)")
    raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    with gzip.GzipFile(fileobj=__import__("io").BytesIO(raw)) as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError("status list too large")
    return data


def bit(bitstring: bytes, index: int) -> bool:
    if index < 0 or index // 8 >= len(bitstring):
        raise IndexError("status index outside the list")
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))


def random_index(taken: Callable[[int], bool]) -> int:
    """A uniformly random free index: positions reveal nothing about issue order."""
    while True:
        index = secrets.randbelow(LIST_SIZE)
        if not taken(index):
            return index


def status_list_credential(url: str, issuer: str, purpose: str, indexes: Iterable[int],
                           valid_from: str) -> dict[str, Any]:
    return {
        "@context": [VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": valid_from,
        "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList", "statusPurpose": purpose,
                              "encodedList": encode(indexes)},
    }


def status_entries(base_url: str, revocation_index: int, suspension_index: int) -> list[dict[str, Any]]:
    entries = []
    for purpose, index in (("revocation", revocation_index), ("suspension", suspension_index)):
        url = f"{base_url}/credentials/status/{purpose}"
        entries.append({"id": f"{url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": purpose,
                        "statusListIndex": str(index), "statusListCredential": url})
    return entries
