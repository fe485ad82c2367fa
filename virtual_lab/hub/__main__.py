"""`python -m virtual_lab.hub`: write the hub secrets on first run, then run JupyterHub with our config."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from .secrets import load_or_create
from .settings import VENV_BIN, HubConfigError, from_env

CONFIG = Path(__file__).with_name("jupyterhub_config.py")
REPO_ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    try:
        conf = from_env()
    except HubConfigError as error:
        sys.exit(f"hub: {error}")
    keys = load_or_create(conf.state_dir)
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("JUPYTERHUB_CRYPT_KEY", keys["crypt_key"])
    env["NIA_HUB_STATE_DIR"] = str(conf.state_dir)
    os.chdir(conf.state_dir)
    print(f"JupyterHub on {conf.hub_public_url} (SSO via {conf.lms_public_url}); state in {conf.state_dir}",
          flush=True)
    os.execve(str(VENV_BIN / "jupyterhub"), [str(VENV_BIN / "jupyterhub"), "-f", str(CONFIG), *sys.argv[1:]], env)


if __name__ == "__main__":
    main()
