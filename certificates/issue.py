"""Building an OpenBadgeCredential (OB 3.0 on VC 2.0) from course and learner data; pure, no database."""
from __future__ import annotations

import secrets
from datetime import datetime, timezone
from typing import Any

from .jsonld import OB_V3, VC_V2
from .verify import identity_hash


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise ValueError("unreachable")


def _alignment(item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": ["Alignment"], "targetName": str(item.get("name") or item.get("targetName"))}
    for source, target in (("url", "targetUrl"), ("targetUrl", "targetUrl"), ("framework", "targetFramework"),
                           ("targetFramework", "targetFramework"), ("code", "targetCode"),
                           ("targetCode", "targetCode"), ("description", "targetDescription")):
        if item.get(source):
            out[target] = str(item[source])
    return out


def _evidence(item: dict[str, Any]) -> dict[str, Any]:
    score, max_score = item.get("score"), item.get("max_score")
    kind = str(item.get("type") or "activity")
    text = f"{kind}: {score:g} / {max_score:g}" if isinstance(score, (int, float)) and \
        isinstance(max_score, (int, float)) else kind
    if "passed" in item:
        text += " (passed)" if item["passed"] else " (not passed)"
    return {"type": ["Evidence"], "name": str(item.get("title") or item.get("slug") or kind),
            "description": text, "genre": kind}


def build_credential(*, credential_id: str, base_url: str, issuer_did: str, issuer_name: str,
                     course: dict[str, Any], recipient_name: str, recipient_email: str,
                     evidence: list[dict[str, Any]], issued: datetime, status: list[dict[str, Any]],
                     salt: str | None = None) -> dict[str, Any]:
    achievement_data = course.get("achievement") or {}
    achievement = {
        "id": f"{base_url}/courses/{course['slug']}/achievement",
        "type": ["Achievement"],
        "achievementType": "Certificate",
        "name": str(achievement_data.get("name") or course["title"]),
        "description": str(achievement_data.get("description") or course.get("summary") or course["title"]),
        "criteria": {"narrative": str(achievement_data.get("criteria") or
                                      "Completed every module, passed every quiz and every lab at or above its "
                                      "pass mark.")},
    }
    alignments = [_alignment(a) for a in achievement_data.get("alignments") or [] if isinstance(a, dict)]
    if alignments:
        achievement["alignment"] = alignments
    salt = salt or secrets.token_hex(8)
    document: dict[str, Any] = {
        "@context": [VC_V2, OB_V3],
        "id": f"urn:uuid:{credential_id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": achievement["name"],
        "issuer": {"id": issuer_did, "type": ["Profile"], "name": issuer_name, "url": base_url},
        "validFrom": iso(issued),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "name": recipient_name,
            # OB 3.0 IdentityObjects: the email only as a salted hash; the name in plain text (identityType "name")
            "identifier": [{"type": "IdentityObject", "identityType": "emailAddress", "hashed": True,
                            "identityHash": identity_hash(recipient_email, salt), "salt": salt},
                           {"type": "IdentityObject", "identityType": "name", "hashed": False,
                            "identityHash": recipient_name}],
            "achievement": achievement,
        },
        "credentialStatus": status,
    }
    months = course.get("recertify_months")
    if months:
        document["validUntil"] = iso(add_months(issued, int(months)))
    if evidence:
        document["evidence"] = [_evidence(e) for e in evidence]
    return document
