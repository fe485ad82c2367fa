"""Lab launch: each trainee's JupyterHub named server per lab, started from the LMS, with submit and reset."""
from __future__ import annotations

from flask import Flask

from lms.signals import user_logged_out

from .providers import (LabSpec, LineAccess, SubmitReceipt, register_lab_spec_provider, register_line_provider,
                        register_submit_handler)

__all__ = ["LabSpec", "LineAccess", "SubmitReceipt", "init_app", "line_seed", "register_lab_spec_provider",
           "register_line_provider", "register_submit_handler"]


def line_seed(user_id: int, scenario: str) -> int:
    """The seed a trainee's line runs `scenario` with (shared with grading's replay); see queries.line_seed."""
    from .queries import line_seed as _line_seed

    return _line_seed(user_id, scenario)


def init_app(app: Flask) -> None:
    from lms.core.health import register_health_check

    from . import models  # noqa: F401 - registers the table
    from .settings import apply_hub_settings
    from .views import bp

    apply_hub_settings(app)
    app.register_blueprint(bp)
    register_health_check(app, "jupyterhub", _hub_health)
    user_logged_out.connect(_end_hub_session, sender=app, weak=False)
    _wire_grading(app)


def _wire_grading(app: Flask) -> None:
    """Labs and submissions come from the grading package when it is installed (else from other providers)."""
    import importlib.util

    try:
        present = importlib.util.find_spec("grading.operations") is not None
    except ModuleNotFoundError:
        present = False
    if present:
        from .adapters import register_grading_adapters

        register_grading_adapters(app)


def _hub_health() -> dict:
    import httpx
    from flask import current_app

    try:
        response = httpx.get(current_app.config["HUB_URL"] + "/hub/api/", timeout=2)
    except httpx.HTTPError as error:
        return {"status": "down", "error": type(error).__name__}
    if response.status_code != 200:
        return {"status": "degraded", "http_status": response.status_code}
    return {"status": "ok", "version": response.json().get("version")}


def _end_hub_session(sender, user_id: int, **_extra) -> None:
    from .operations import end_hub_session

    end_hub_session(user_id)
