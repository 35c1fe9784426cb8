"""`seqlab check`: course reference values and gradient checks, as a pass/fail table (exit 1 on a failure)."""

from __future__ import annotations

# The modules that need NumPy (seqlab.text, .music, .engine ...) are imported inside the functions that use
# them: cli.py imports every command module to build its parser, and `seqlab --help` should not wait for them.


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "check", help="verify the engine: course reference values and gradient checks",
        description="Reproduces the course's printed reference values and runs quick central-difference "
                    "gradient checks. Prints a pass/fail table; exits 1 if any check fails.")
    p.set_defaults(func=run)


def run(args) -> int:
    from seqlab.checks import run_checks

    results = run_checks()
    width = max(len(name) for name, _, _ in results)
    for name, ok, error in results:
        print(f"{name:<{width}}  {'pass' if ok else 'FAIL'}{'  ' + error if error else ''}")
    failed = sum(not ok for _, ok, _ in results)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0
