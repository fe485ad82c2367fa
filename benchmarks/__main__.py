"""`python -m benchmarks [NAME [OPTIONS...]]`: run one benchmark, or every benchmark module found with defaults."""
from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import benchmarks


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__)
                  if not m.name.startswith("_") and not m.ispkg)


def _load(name: str):
    module = importlib.import_module(f"benchmarks.{name}")
    if not callable(getattr(module, "main", None)):
        raise SystemExit(f"benchmarks/{name}.py has no main(argv) function")
    return module


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    names = available()
    if argv and argv[0] in ("-h", "--help", "--list"):
        print(__doc__)
        print("benchmarks found:", ", ".join(names) or "none")
        return 0
    if argv:
        name, rest = argv[0], argv[1:]
        if name not in names:
            print(f"unknown benchmark {name!r}; found: {', '.join(names) or 'none'}", file=sys.stderr)
            return 2
        return int(_load(name).main(rest) or 0)
    failures = []
    for name in names:
        print(f"\n=== benchmarks/{name} ===", flush=True)
        started = time.monotonic()
        try:
            code = int(_load(name).main([]) or 0)
        except Exception as error:  # one broken benchmark must not hide the others' figures
            print(f"benchmark {name} failed: {type(error).__name__}: {error}", file=sys.stderr)
            code = 1
        print(f"--- {name}: {'ok' if code == 0 else f'exit {code}'} in {time.monotonic() - started:.0f} s", flush=True)
        if code:
            failures.append(name)
    if failures:
        print("failed:", ", ".join(failures), file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
