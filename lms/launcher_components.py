"""The components besides the LMS that `make run` starts; each one's command belongs to its package."""
from __future__ import annotations

import sys

from .launcher import Component


def extra_components(before_lms: bool) -> list[Component]:
    if before_lms:
        # Broker (mosquitto when installed, else the embedded one) + multi-tenant simulator + control channel.
        from virtual_lab import launcher_component as virtual_lab_component

        return [Component(**virtual_lab_component())]
    from virtual_lab.hub import launcher_component

    worker = Component("grading-worker", [sys.executable, "-m", "grading", "worker"])
    return [worker, Component(**launcher_component())]
