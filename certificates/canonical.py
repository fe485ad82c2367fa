"""RDF canonicalisation (RDFC-1.0 / URDNA2015 via pyld) with limits, and rejection of unsigned terms.

Terms the contexts do not define are either dropped by JSON-LD expansion or, under VC 2.0's @vocab, land in the
"issuer-dependent" namespace: in both cases what a person reads would not be what was signed, so we refuse.
Hostile documents can make URDNA2015 explode (many interlinked blank nodes): blank nodes and time are bounded.
"""
from __future__ import annotations

import json
import time
from typing import Any

from pyld.canon import URDNA2015
from pyld.jsonld import JsonLdError, JsonLdProcessor

from .jsonld import context_resolver, document_loader

ISSUER_DEPENDENT = "https://www.w3.org/ns/credentials/issuer-dependent#"
MAX_BLANK_NODES = 64
MAX_SECONDS = 0.5  # our credentials take a few milliseconds; the verify API is public
MAX_DEPTH = 24
MAX_BYTES = 256 * 1024


class CanonicalisationError(ValueError):
    """The document cannot be canonicalised safely; `reason` is a short machine code."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class _BoundedURDNA2015(URDNA2015):
    def __init__(self, deadline: float):
        super().__init__()
        self.deadline = deadline

    def hash_n_degree_quads(self, id_, issuer):
        if time.monotonic() > self.deadline:
            raise CanonicalisationError("too_complex", "canonicalisation took too long (hostile document?)")
        return super().hash_n_degree_quads(id_, issuer)

    def hash_first_degree_quads(self, id_):
        if time.monotonic() > self.deadline:
            raise CanonicalisationError("too_complex", "canonicalisation took too long (hostile document?)")
        return super().hash_first_degree_quads(id_)


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level


def _absolute(iri: str) -> bool:
    return iri.startswith("_:") or (":" in iri and not iri.startswith(":"))


def _check_expanded(node: Any, path: str = "") -> None:
    """Every property must be an absolute IRI outside the issuer-dependent namespace; every @id absolute."""
    if isinstance(node, list):
        for item in node:
            _check_expanded(item, path)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "@id" and isinstance(value, str) and not _absolute(value):
            raise CanonicalisationError("undefined_term", f"relative identifier {value!r} is not signed")
        if key == "@type":
            for t in value if isinstance(value, list) else [value]:
                if isinstance(t, str) and t.startswith(ISSUER_DEPENDENT):
                    raise CanonicalisationError(
                        "undefined_term", f"type {t[len(ISSUER_DEPENDENT):]!r} is not defined by the contexts")
        if key.startswith(ISSUER_DEPENDENT):
            raise CanonicalisationError(
                "undefined_term", f"property {key[len(ISSUER_DEPENDENT):]!r} is not defined by the contexts")
        if key == "@value":
            continue
        _check_expanded(value, path)


def canonize(document: dict[str, Any], *, max_blank_nodes: int = MAX_BLANK_NODES,
             max_seconds: float = MAX_SECONDS) -> str:
    """Canonical N-Quads of `document`; raises CanonicalisationError naming why not."""
    if not isinstance(document, dict):
        raise CanonicalisationError("format", "a JSON-LD document must be a JSON object")
    if _depth(document) > MAX_DEPTH:
        raise CanonicalisationError("too_complex", "document is nested too deeply")
    if len(json.dumps(document, ensure_ascii=False)) > MAX_BYTES:
        raise CanonicalisationError("too_complex", "document is too large")
    dropped: list[str] = []
    processor = JsonLdProcessor(on_property_dropped=lambda prop: dropped.append(str(prop)))
    options = {"documentLoader": document_loader, "contextResolver": context_resolver(), "base": None,
               "processingMode": "json-ld-1.1"}
    deadline = time.monotonic() + max_seconds
    try:
        expanded = processor.expand(document, dict(options))
        if dropped:
            raise CanonicalisationError("undefined_term", f"term(s) not defined by the contexts: {dropped[:5]}")
        _check_expanded(expanded)
        dataset = processor.to_rdf(expanded, dict(options))
    except JsonLdError as error:
        raise CanonicalisationError("jsonld", f"JSON-LD processing failed: {_root_cause(error)}") from None
    except RecursionError:
        raise CanonicalisationError("too_complex", "document is nested too deeply") from None
    blank = set()
    for triples in dataset.values():
        for triple in triples:
            for part in ("subject", "object"):
                if triple[part]["type"] == "blank node":
                    blank.add(triple[part]["value"])
    blank.update(name for name in dataset if name.startswith("_:"))
    if len(blank) > max_blank_nodes:
        raise CanonicalisationError("too_complex", f"document has {len(blank)} blank nodes (limit {max_blank_nodes})")
    try:
        return _BoundedURDNA2015(deadline).main(dataset, {"format": "application/n-quads"})
    except RecursionError:
        raise CanonicalisationError("too_complex", "canonicalisation recursed too deeply") from None


def _root_cause(error: BaseException) -> str:
    while error.__cause__ is not None:
        error = error.__cause__
    return str(error).splitlines()[0][:200]
