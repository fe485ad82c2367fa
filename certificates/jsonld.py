"""Static JSON-LD document loader: vendored, hash-pinned contexts only; the network is never touched.

A context the verifier has not vendored is refused rather than fetched, so a credential can never make us load
(or trust) a document we have not reviewed.
"""
from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Any

from pyld.context_resolver import ContextResolver
from pyld.jsonld import JsonLdError

CONTEXT_DIR = Path(__file__).parent / "contexts"

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DI_V1 = "https://w3id.org/security/data-integrity/v1"
DI_V2 = "https://w3id.org/security/data-integrity/v2"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"

# url -> (file, SHA-256 of the file bytes). Sources are listed in contexts/README.md.
CONTEXTS: dict[str, tuple[str, str]] = {
    VC_V2: ("credentials-v2.jsonld", "5bcb717d1638db5b70a318263d1a6428d9b770eccd865e2783324a54782ecfe3"),
    OB_V3: ("ob-context-3.0.3.json", "01d87cc8b5357af557bfb09428f603c4691c49ef8a6089945a70bda1b96b1db2"),
    # The legacy OB 3.0 alias used by the 1EdTech signing test vector resolves to the same 3.0.3 document.
    "https://purl.imsglobal.org/spec/ob/v3p0/context/ob_v3p0.jsonld":
        ("ob-context-3.0.3.json", "01d87cc8b5357af557bfb09428f603c4691c49ef8a6089945a70bda1b96b1db2"),
    DI_V1: ("data-integrity-v1.jsonld", "2f57083207c1b3b6347761a4b205b3c347d87c26c75917afe47f10c2aab5272c"),
    DI_V2: ("data-integrity-v2.jsonld", "3b70403a075a4039e3d0c1148a0c635f8db6c4cc1eac531f13a3ea3fc6356bbe"),
    EXAMPLES_V2: ("credentials-examples-v2.jsonld",
                  "57393fbc69d6efb9b9b5dc9cb6b9880b0944360abfe2eaf459c9e58cf2279d7c"),
}


class UnknownContextError(ValueError):
    """The document names a context we do not ship."""


@lru_cache(maxsize=None)
def _load(url: str) -> dict[str, Any]:
    name, digest = CONTEXTS[url]
    data = (CONTEXT_DIR / name).read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != digest:
        raise RuntimeError(f"vendored context {name} does not match its pinned SHA-256 ({actual})")
    return json.loads(data)


def verify_pins() -> None:
    """Fail loudly at start-up if any vendored context file changed."""
    for url in CONTEXTS:
        _load(url)


def document_loader(url: str, options: dict | None = None) -> dict[str, Any]:
    if url not in CONTEXTS:
        raise JsonLdError(f"context {url!r} is not one this verifier knows; refusing to fetch it",
                          "jsonld.LoadDocumentError", {"url": url}, code="loading document failed")
    # tag "static": pyld may keep the processed context in its shared cache (our contexts never change).
    return {"contextUrl": None, "documentUrl": url, "document": copy.deepcopy(_load(url)), "tag": "static"}


class StaticContextResolver(ContextResolver):
    """pyld's resolver keys every embedded (type-scoped) context by its JCS serialisation, which costs more than
    the rest of the expansion. The vendored contexts' scoped-context dicts are the same objects each time, so they
    are memoised by identity (holding a reference, so an id is never reused while cached; bounded)."""

    def __init__(self) -> None:
        super().__init__({}, document_loader)
        self._by_identity: OrderedDict[int, tuple[Any, Any]] = OrderedDict()

    def resolve(self, active_ctx, context, base, cycles=None):
        if isinstance(context, dict) and "@context" not in context:
            hit = self._by_identity.get(id(context))
            if hit is not None and hit[0] is context:
                return hit[1]
            resolved = super().resolve(active_ctx, context, base, cycles)
            self._by_identity[id(context)] = (context, resolved)
            if len(self._by_identity) > 512:
                self._by_identity.popitem(last=False)
            return resolved
        return super().resolve(active_ctx, context, base, cycles)


_resolver = threading.local()


def context_resolver() -> StaticContextResolver:
    """One resolver per thread (its caches are plain dicts)."""
    resolver = getattr(_resolver, "value", None)
    if resolver is None:
        resolver = _resolver.value = StaticContextResolver()
    return resolver
