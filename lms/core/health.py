"""/healthz: each component reports its own state through a registered check."""
from __future__ import annotations

from typing import Callable

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import text

from ..extensions import csrf, db

bp = Blueprint("health", __name__)
HealthCheck = Callable[[], dict]


def register_health_check(app: Flask, name: str, check: HealthCheck) -> None:
    """`check()` returns {"status": "ok"|"degraded"|"down"|"disabled", ...details}."""
    app.extensions.setdefault("nia.health", {})[name] = check


def _database() -> dict:
    db.session.execute(text("SELECT 1"))
    return {"status": "ok", "dialect": db.engine.dialect.name}


@bp.get("/healthz")
@csrf.exempt
def healthz():
    checks = {"database": _database, **current_app.extensions.get("nia.health", {})}
    components: dict[str, dict] = {}
    for name, check in checks.items():
        try:
            components[name] = check()
        except Exception as error:  # a failing component must not hide the others
            components[name] = {"status": "down", "error": f"{type(error).__name__}: {error}"}
    overall = "ok" if all(c.get("status") in ("ok", "disabled") for c in components.values()) else "degraded"
    if components["database"]["status"] != "ok":
        overall = "down"
    return jsonify(status=overall, components=components), (200 if overall != "down" else 503)
