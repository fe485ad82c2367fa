"""JupyterHub configuration and launcher for the labs (`python -m virtual_lab.hub`)."""
from __future__ import annotations

import os
import sys


def launcher_component() -> dict:
    """What `make run` starts for the hub: argv and the public port to wait for (see lms/launcher.py)."""
    port = int(os.environ.get("NIA_HUB_PORT", "8471"))
    return {"name": "jupyterhub", "argv": [sys.executable, "-m", "virtual_lab.hub"], "port": port}
