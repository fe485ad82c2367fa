"""The in-lab submit command as the hub installs it in a trainee's home (no hub needed): the staged files, the
environment that finds them, `%submit` loaded by the IPython startup file, and clear errors outside a lab."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.fixtures.oidc import free_port
from virtual_lab.hub import hooks


def _staged(tmp_path: Path) -> tuple[Path, dict]:
    home = tmp_path / "home" / "u7"
    return home, hooks.stage_lab_tools(home, str(home), "/srv/repo")


def _lab_env(home: Path, env: dict, **extra) -> dict:
    keep = {k: v for k, v in os.environ.items() if k in ("LANG", "LC_ALL", "SYSTEMROOT")}
    path = env["NIA_TOOLS_BIN"] + os.pathsep + str(Path(sys.executable).parent) + os.pathsep + "/usr/bin:/bin"
    return {**keep, "HOME": str(home), "PATH": path, "PYTHONPATH": env["PYTHONPATH"],
            "IPYTHONDIR": env["IPYTHONDIR"], **extra}


def test_tools_are_staged_in_the_home_and_found_through_the_environment(tmp_path):
    home, env = _staged(tmp_path)
    module = home / ".nia" / "python" / "nia_submit.py"
    runner = home / ".nia" / "bin" / "nia-submit"
    startup = home / ".ipython" / "profile_default" / "startup" / "50-nia-submit.py"
    assert module.read_text() == hooks.SUBMIT_MODULE.read_text()
    assert runner.stat().st_mode & stat.S_IXUSR and "from nia_submit import main" in runner.read_text()
    assert "load_extension('nia_submit')" in startup.read_text()
    assert env["PYTHONPATH"] == f"{home}/.nia/python{os.pathsep}/srv/repo"
    assert env["IPYTHONDIR"] == f"{home}/.ipython"
    module.write_text("# edited by someone")  # every start puts our copy back
    hooks.stage_lab_tools(home, str(home))
    assert module.read_text() == hooks.SUBMIT_MODULE.read_text()
    assert sorted(p.name for p in runner.parent.iterdir()) == ["nia-submit"]  # no temporary files left


def test_nia_submit_outside_a_lab_says_so(tmp_path):
    home, env = _staged(tmp_path)
    done = subprocess.run(["nia-submit", "--no-wait"], env=_lab_env(home, env), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1 and "not an NI Academy lab server" in done.stderr


def test_nia_submit_with_the_lms_down_says_so(tmp_path):
    home, env = _staged(tmp_path)
    lms = f"http://127.0.0.1:{free_port()}"
    lab = _lab_env(home, env, NIA_LMS_URL=lms, JUPYTERHUB_API_TOKEN="f" * 32)
    done = subprocess.run(["nia-submit"], env=lab, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and f"NI Academy could not be reached at {lms}" in done.stderr


def test_ipython_loads_the_submit_magic_at_start(tmp_path):
    home, env = _staged(tmp_path)
    lms = f"http://127.0.0.1:{free_port()}"
    lab = _lab_env(home, env, NIA_LMS_URL=lms, JUPYTERHUB_API_TOKEN="f" * 32)
    ipython = [sys.executable, "-m", "IPython", "--no-banner", "--colors=nocolor", "-c"]
    done = subprocess.run([*ipython, "%submit --no-wait"], env=lab, capture_output=True, text=True, timeout=120)
    assert "Not submitted: NI Academy could not be reached" in done.stdout + done.stderr, done
    usage = subprocess.run([*ipython, "%submit --bogus"], env=lab, capture_output=True, text=True, timeout=120)
    assert "usage: nia-submit" in usage.stdout + usage.stderr


def test_lab_server_config_keeps_the_path_and_follows_logout(tmp_path, monkeypatch):
    from virtual_lab.hub.settings import from_env

    monkeypatch.setenv("NIA_HUB_STATE_DIR", str(tmp_path / "hub"))
    monkeypatch.setenv("NIA_HUB_AUTH_REFRESH_AGE", "45")
    hooks.base_environment(from_env())
    config = json.loads((tmp_path / "hub" / "jupyter-config" / "jupyter_server_config.json").read_text())
    shell = config["ServerApp"]["terminado_settings"]["shell_command"]
    assert len(shell) == 1 and "-l" not in shell  # no login shell: /etc/profile would reset PATH
    assert config["HubOAuth"]["cache_max_age"] == 45  # an LMS logout reaches open labs as fast as the hub
