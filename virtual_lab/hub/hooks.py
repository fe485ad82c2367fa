"""pre_spawn_hook: ask the LMS what this server is for, stage the release files, set the kernel's environment.

Credentials, topic prefix, scenario and seed come only from the LMS (authenticated with a shared secret), never
from spawner.user_options, which a user can set through the hub's REST API.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import stat
from pathlib import Path, PurePosixPath
from urllib.parse import urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.web import HTTPError

from .settings import VENV_BIN, HubSettings

BACKUP_DIR = "backups"  # visible in JupyterLab, so trainees find their old work
TOOLS_DIR = ".nia"      # the in-lab submit command, in the trainee's home (hidden in JupyterLab)
SUBMIT_MODULE = Path(__file__).with_name("labsubmit.py")
# Loads %submit into every kernel; a broken tool must never stop the trainee's kernel from starting.
STARTUP = ("try:\n    get_ipython().extension_manager.load_extension('nia_submit')\n"
           "except Exception as error:  # noqa: BLE001\n    print(f'NI Academy: %submit is unavailable ({error})')\n")
RUNNER = "#!/usr/bin/env python3\nimport sys\n\nfrom nia_submit import main\n\nsys.exit(main())\n"


def base_environment(conf: HubSettings) -> dict[str, str]:
    """Environment every single-user server gets; nbgrader's server extensions are switched off for learners."""
    config_dir = conf.state_dir / "jupyter-config"
    config_dir.mkdir(parents=True, exist_ok=True)
    off = {f"nbgrader.server_extensions.{name}": False
           for name in ("formgrader", "validate_assignment", "assignment_list", "course_list")}
    # Terminals: a plain interactive shell (not a login shell, whose /etc/profile would reset PATH), so the lab's
    # Python and `nia-submit` are what the trainee gets there too.
    shell = [shutil.which("bash") or "/bin/sh"]
    # A lab re-checks a browser's hub token as often as the hub re-checks the LMS login, so logging out of the
    # LMS (which revokes those tokens) closes open labs within that time too (JupyterHub's default is 300 s).
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(
        {"ServerApp": {"jpserver_extensions": off, "terminado_settings": {"shell_command": shell}},
         "HubOAuth": {"cache_max_age": max(1, conf.auth_refresh_age)}}))
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


def _write_if_changed(path: Path, content: str, executable: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != content:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")  # two labs may start at once
        tmp.write_text(content)
        tmp.replace(path)
    if executable:
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def stage_lab_tools(home: Path, inside_home: str, inherited_pythonpath: str = "") -> dict[str, str]:
    """Install `%submit` / `nia-submit` in the trainee's home (refreshed every start, so updates reach old labs)
    and return the environment that finds them. `inside_home` is that home as the server sees it."""
    tools = home / TOOLS_DIR
    _write_if_changed(tools / "python" / "nia_submit.py", SUBMIT_MODULE.read_text())
    _write_if_changed(tools / "bin" / "nia-submit", RUNNER, executable=True)
    _write_if_changed(home / ".ipython" / "profile_default" / "startup" / "50-nia-submit.py", STARTUP)
    python_path = f"{inside_home}/{TOOLS_DIR}/python"
    return {"PYTHONPATH": os.pathsep.join(p for p in (python_path, inherited_pythonpath) if p),
            "IPYTHONDIR": f"{inside_home}/.ipython", "NIA_TOOLS_BIN": f"{inside_home}/{TOOLS_DIR}/bin"}


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
        if conf.spawner == "docker":  # the image has its own PATH and Jupyter config: keep them
            spawner.notebook_dir = f"/home/jovyan/work/{spec['directory']}"
            tools_env = stage_lab_tools(home, "/home/jovyan/work")
            environment = {}
        else:
            spawner.notebook_dir = str(home / spec["directory"])
            tools_env = stage_lab_tools(home, str(home), os.environ.get("PYTHONPATH", ""))
            environment = dict(base_env)
            environment["PATH"] = tools_env["NIA_TOOLS_BIN"] + os.pathsep + environment["PATH"]
        spawner.default_url = spec["default_url"]
        # replaces the whole dict, so nothing stale survives; the LMS's values win over ours
        spawner.environment = {**environment, **tools_env, **spec["environment"]}

    return pre_spawn_hook
