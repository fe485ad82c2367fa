"""JupyterHub configuration and launcher for the labs (`python -m virtual_lab.hub`)."""
from __future__ import annotations

import os
import sys


def launcher_component() -> dict:
    """What `make run` starts for the hub: argv and the public port to wait for (see lms/launcher.py)."""
    port = int(os.environ.get("NIA_HUB_PORT", "8471"))
    # stopping takes the hub ~30 s (it stops the idle culler, the learners' servers and the proxy): wait for it
    return {"name": "jupyterhub", "argv": [sys.executable, "-m", "virtual_lab.hub"], "port": port,
            "stop_timeout": 60.0}
