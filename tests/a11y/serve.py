"""`python -m tests.a11y.serve ROOT PORT`: the accessibility tests' LMS, in a process of its own (see site.py)."""
from __future__ import annotations

import sys
from pathlib import Path

from tests.a11y.site import serve

if __name__ == "__main__":
    serve(Path(sys.argv[1]), int(sys.argv[2]))
