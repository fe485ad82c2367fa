"""`python -m lms.translations update|compile|check` (see the package docstring)."""
import sys

from . import _main

sys.exit(_main(sys.argv[1:]))
