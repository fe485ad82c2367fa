"""Benchmarks. Each public module `benchmarks/<name>.py` defines `main(argv: list[str] | None = None) -> int` and
prints its figures as ratios to a baseline measured in the same run (absolute numbers depend on the machine).

Run one with `python -m benchmarks <name> [options]`, all with `python -m benchmarks`. Modules whose name starts with
an underscore are helpers (see _util.py), never run.
"""
