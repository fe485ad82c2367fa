"""Offline verifier: `python -m certificates verify FILE [--did-document F] [--status-list F ...] [--email E]`.

Needs no network and no database: the DID document and status lists are files saved from
/.well-known/did.json and /credentials/status/<purpose>. Exit status 0 = valid, 1 = not valid, 2 = usage.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .baking import extract
from .verify import verify


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m certificates")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("verify", help="verify a credential file (JSON, baked PNG or SVG)")
    check.add_argument("file")
    check.add_argument("--did-document", help="the issuer's did.json (saved earlier)")
    check.add_argument("--status-list", action="append", default=[], help="a saved status list credential")
    check.add_argument("--email", help="also check that it was issued to this email address")
    check.add_argument("--json", action="store_true", help="print the full result as JSON")
    args = parser.parse_args(argv)
    try:
        data = extract(Path(args.file).read_bytes())
    except OSError as error:
        print(f"cannot read {args.file}: {error}", file=sys.stderr)
        return 2
    except ValueError as error:
        data = str(error).encode()
    did_document = _load(args.did_document) if args.did_document else None
    lists = [_load(p) for p in args.status_list]
    by_url = {doc.get("id"): doc for doc in lists if isinstance(doc, dict)}
    result = verify(data, did_document=did_document, fetch_status=(lambda url: by_url.get(url)) if lists else None,
                    email=args.email)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    else:
        for item in result.checks:
            print(f"{item.name:10} {item.status.upper():8} {item.message}")
        print("VALID" if result.valid else f"NOT VALID (failed: {', '.join(result.failed)})")
    return 0 if result.valid else 1


def _load(path: str):
    try:
        return json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as error:
        print(f"cannot read {path}: {error}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    sys.exit(main())
