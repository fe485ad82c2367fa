"""`python -m grading worker` starts a grading worker (one job at a time; start more processes to scale)."""
import sys


def _main(argv: list[str]) -> int:
    if argv[:1] != ["worker"]:
        print("usage: python -m grading worker", file=sys.stderr)
        return 2
    from .worker import main

    return main(argv[1:])


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
