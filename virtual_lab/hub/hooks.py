"""pre_spawn_hook: ask the LMS what this server is for, stage the release files, set the kernel's environment.

Credentials, topic prefix, scenario and seed come only from the LMS (authenticated with a shared secret), never
from spawner.user_options, which a user can set through the hub's REST API.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path, PurePosixPath
from urllib.parse import urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.web import HTTPError

from .settings import VENV_BIN, HubSettings

BACKUP_DIR = "backups"  # visible in JupyterLab, so trainees find their old work


def base_environment(conf: HubSettings) -> dict[str, str]:
    """Environment every single-user server gets; nbgrader's server extensions are switched off for learners."""
    config_dir = conf.state_dir / "jupyter-config"
    config_dir.mkdir(parents=True, exist_ok=True)
    off = {f"nbgrader.server_extensions.{name}": False
           for name in ("formgrader", "validate_assignment", "assignment_list", "course_list")}
    (config_dir / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": {"jpserver_extensions": off}}))
    return {"PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "JUPYTER_CONFIG_DIR": str(config_dir)}


def _safe_relative(path: str) -> PurePosixPath:
    relative = PurePosixPath(path)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise HTTPError(502, f"the LMS sent an unsafe path: {path!r}")
    return relative


def stage(lab_dir: Path, spec: dict) -> list[str]:
    """Write release files that are missing; never overwrite the trainee's work. Reset moves old files first."""
    lab_dir.mkdir(parents=True, exist_ok=True)
    if spec.get("reset"):
        backup = lab_dir / BACKUP_DIR / spec["backup_name"]
        entries = [p for p in lab_dir.iterdir() if p.name != BACKUP_DIR]
        if entries:
            backup.mkdir(parents=True, exist_ok=True)
            for entry in entries:
                shutil.move(str(entry), str(backup / entry.name))
    written = []
    for item in spec["files"]:
        target = lab_dir.joinpath(*_safe_relative(item["path"]).parts)
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(item["content_b64"]))
        written.append(item["path"])
    return written


async def fetch_spec(conf: HubSettings, secret: str, user: str, server: str) -> dict:
    url = f"{conf.lms_internal_url}/launch/_hub/spec?{urlencode({'user': user, 'server': server})}"
    request = HTTPRequest(url, headers={"Authorization": f"Bearer {secret}", "Accept": "application/json"},
                          connect_timeout=5, request_timeout=20)
    try:
        response = await AsyncHTTPClient().fetch(request)
    except HTTPClientError as error:
        detail = ""
        if error.response is not None and error.response.body:
            try:
                body = json.loads(error.response.body)
                detail = body.get("detail") or body.get("title") or ""
            except ValueError:
                detail = ""
        status = error.code if error.code in (403, 404, 503) else 502
        raise HTTPError(status, f"NI Academy refused this lab: {detail or error.code}") from None
    except OSError as error:
        raise HTTPError(503, f"NI Academy is not reachable to prepare the lab ({error})") from None
    return json.loads(response.body)


def make_pre_spawn_hook(conf: HubSettings, secret: str):
    base_env = base_environment(conf)

    async def pre_spawn_hook(spawner) -> None:
        if not spawner.name:
            if conf.allow_default_server:
                spawner.environment = dict(base_env)
                return
            raise HTTPError(403, "Labs are opened from NI Academy: use “Open lab” on the course page.")
        spec = await fetch_spec(conf, secret, spawner.user.name, spawner.name)
        home = conf.state_dir / "home" / spawner.user.name
        written = stage(home / spec["directory"], spec)
        spawner.log.info("lab %s for %s: staged %s", spawner.name, spawner.user.name, written or "nothing new")
        if conf.spawner == "docker":
            spawner.notebook_dir = f"/home/jovyan/work/{spec['directory']}"
        else:
            spawner.notebook_dir = str(home / spec["directory"])
        spawner.default_url = spec["default_url"]
        spawner.environment = {**base_env, **spec["environment"]}  # replaces, so nothing stale survives

    return pre_spawn_hook
