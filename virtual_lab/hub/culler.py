"""The idle culler as the hub's managed service, stopped at once: jupyterhub-idle-culler ignores the hub's SIGINT
and SIGTERM while its event loop sleeps, so every hub shutdown waited ~30 s for the kill, too long for the
learners' servers (stopped after the services) to be cleaned up before a supervisor gives up. The culler keeps
no state, so exiting on either signal loses nothing."""
from __future__ import annotations

import os
import signal


def main() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_args: os._exit(0))
    from jupyterhub_idle_culler import main as cull

    cull()


if __name__ == "__main__":
    main()
