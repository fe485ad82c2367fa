"""`python -m virtual_lab ...` — see cli.py."""
from .cli import main

raise SystemExit(main())
