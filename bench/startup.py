"""Start-up time of the `orders-contract` console script, against `python -c pass` in the same run.

    .venv/bin/python bench/startup.py [--runs 15]

Each case is a fresh process (the installed console script, as a user types it); the table gives the
median and the fastest wall-clock time, and the median minus the interpreter's own start. Goal (issue 10):
`orders-contract --help` and `orders-contract generate --help` under 0.25 s on the project's machine.
Also prints which heavy libraries each command imported (none for the help screens).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "orders-contract"
HEAVY = (
    "hypothesis",
    "schemathesis",
    "openapi_core",
    "starlette",
    "uvicorn",
    "datamodel_code_generator",
    "pydantic",
)
CASES: list[tuple[str, list[str]]] = [
    ("python -c pass", [sys.executable, "-c", "pass"]),
    ("orders-contract --help", [str(SCRIPT), "--help"]),
    ("orders-contract generate --help", [str(SCRIPT), "generate", "--help"]),
    ("orders-contract run --help", [str(SCRIPT), "run", "--help"]),
    ("orders-contract --version", [str(SCRIPT), "--version"]),
    ("orders-contract list-rules --json", [str(SCRIPT), "list-rules", "--json"]),
]
PROBE = (
    "import sys\nfrom orders_contract.cli import main\nsys.argv = ['orders-contract', *sys.argv[1:]]\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n"
    f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
)


def _time(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def _heavy(args: list[str]) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True)
    line = [x for x in done.stderr.splitlines() if x.startswith("HEAVY=")][-1]
    return line.removeprefix("HEAVY=") or "none"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args()
    for _, command in CASES:  # warm the file cache and the bytecode
        _time(command)
    samples: dict[str, list[float]] = {name: [] for name, _ in CASES}
    for _ in range(options.runs):  # interleaved, so a load spike hits every case alike
        for name, command in CASES:
            samples[name].append(_time(command))
    base = statistics.median(samples["python -c pass"])
    print(f"{options.runs} runs each, interleaved; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("| case | median | fastest | median - python -c pass | heavy imports |")
    print("| --- | --- | --- | --- | --- |")
    for name, command in CASES:
        median, fastest = statistics.median(samples[name]), min(samples[name])
        heavy = "–" if command[0] == sys.executable else _heavy(command[1:])
        print(f"| `{name}` | {median:.3f} s | {fastest:.3f} s | {median - base:+.3f} s | {heavy} |")


if __name__ == "__main__":
    main()
