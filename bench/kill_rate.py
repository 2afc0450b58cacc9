"""Kill rate of the contract suite over the reference server's fault catalogue, vs plain Schemathesis.

For the clean server and for each catalogued fault (one at a time) this starts the reference server
(subprocess, fresh SQLite), runs the FULL contract suite and records which rules fail and when the first
failure came (time to kill = wall time from the start of the run to the end of the first failing rule).
Then it runs plain ``schemathesis run`` (CLI, bounded) against a fresh server with the same fault; a fault
counts as found by Schemathesis when it reports a failure kind (operation + code) the clean run did not.

    .venv/bin/python bench/kill_rate.py [--faults a,b] [--profile ci] [--st-max-time 20] [--no-schemathesis]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from contracts.runner import KILLED_BY, RunConfig, RunReport, run_suite
from contracts.server import running_server

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "spec" / "sendcloud-orders-v3.yaml"
_OPERATION = re.compile(r"^_{3,} ([A-Z]+ \S+) _{3,}$")
_CODE = re.compile(r"^- (ST\d+) (.+)$")


def run_contracts(fault: str | None, profile: str, seed: int) -> tuple[RunReport, float]:
    with running_server(faults={fault} if fault else set()) as server:
        config = RunConfig.against(server, seed=seed, profile=profile, deadline_s=180.0)
        started = time.monotonic()
        report = run_suite(config)
        return report, time.monotonic() - started


def time_to_kill(report: RunReport) -> float | None:
    elapsed = 0.0
    for result in report.results:
        elapsed += result.duration_s
        if result.status == "failed":
            return elapsed
    return None


def run_schemathesis(
    fault: str | None, max_examples: int, max_time: int, seed: int
) -> tuple[set[str], float, int]:
    with running_server(faults={fault} if fault else set()) as server:
        command = [
            str(REPO / ".venv" / "bin" / "schemathesis"),
            "run",
            str(SPEC),
            "--url",
            server.api_url,
            "--auth",
            f"{server.username}:{server.password}",
            "--checks",
            "all",
            "--max-examples",
            str(max_examples),
            "--max-time",
            str(max_time),
            "--seed",
            str(seed),
            "--no-color",
            "--request-timeout",
            "10",
        ]
        started = time.monotonic()
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=max_time + 60, check=False)
            output, code = done.stdout, done.returncode
        except subprocess.TimeoutExpired as exc:
            output, code = str(exc.stdout or ""), -1
        elapsed = time.monotonic() - started
    found: set[str] = set()
    operation = "?"
    for line in output.splitlines():
        line = line.strip()
        if match := _OPERATION.match(line):
            operation = match.group(1)
        elif match := _CODE.match(line):
            found.add(f"{operation} {match.group(1)} {match.group(2)}")
    return found, elapsed, code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", help="comma-separated subset of the catalogue")
    parser.add_argument("--profile", default="ci")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--st-max-examples", type=int, default=30)
    parser.add_argument("--st-max-time", type=int, default=20)
    parser.add_argument("--no-schemathesis", action="store_true")
    args = parser.parse_args(argv)
    faults = sorted(args.faults.split(",")) if args.faults else sorted(KILLED_BY)

    clean, clean_time = run_contracts(None, args.profile, args.seed)
    clean_failed = [r.id for r in clean.results if r.status == "failed"]
    print(f"clean server: full suite {clean_time:.1f}s, failed rules: {clean_failed or 'none'}", flush=True)
    baseline: set[str] = set()
    if not args.no_schemathesis:  # two clean runs (two seeds): their union is the noise floor
        for extra in (0, 1):
            found, st_time, st_code = run_schemathesis(
                None, args.st_max_examples, args.st_max_time, args.seed + extra
            )
            baseline |= found
            print(
                f"clean server: schemathesis {st_time:.1f}s exit {st_code}, failure kinds: {sorted(found)}",
                flush=True,
            )

    rows: list[dict[str, Any]] = []
    for fault in faults:
        report, _ = run_contracts(fault, args.profile, args.seed)
        killers = [r.id for r in report.results if r.status == "failed"]
        row: dict[str, Any] = {
            "fault": fault,
            "expected": KILLED_BY[fault],
            "killers": killers,
            "ttk": time_to_kill(report),
            "suite_s": report.duration_s,
        }
        if not args.no_schemathesis:
            found, st_time, _ = run_schemathesis(fault, args.st_max_examples, args.st_max_time, args.seed)
            row["st_new"] = sorted(found - baseline)
            row["st_s"] = st_time
        rows.append(row)
        ttk = f"{row['ttk']:.1f}s" if row["ttk"] is not None else "-"
        print(
            f"{fault:30} killed by {', '.join(killers) or 'NOTHING':60} ttk {ttk:>7}"
            + (f" | schemathesis: {'; '.join(row['st_new']) or 'not found'}" if "st_new" in row else ""),
            flush=True,
        )

    killed = [r for r in rows if r["killers"]]
    by_expected = [r for r in rows if r["expected"] in r["killers"]]
    ttks = [r["ttk"] for r in rows if r["ttk"] is not None]
    print()
    print("| fault | killing rule(s) | time to kill | plain schemathesis |")
    print("| --- | --- | --- | --- |")
    for r in rows:
        ttk = f"{r['ttk']:.2f} s" if r["ttk"] is not None else "not killed"
        st = ("found: " + "; ".join(r["st_new"]) if r["st_new"] else "not found") if "st_new" in r else "-"
        print(f"| `{r['fault']}` | {', '.join(f'`{k}`' for k in r['killers']) or '—'} | {ttk} | {st} |")
    print()
    passed = len(clean.results) - len(clean_failed)
    median = statistics.median(ttks) if ttks else float("nan")
    print(
        f"contract suite: {len(killed)}/{len(rows)} faults killed ({len(by_expected)} by their own rule), "
        f"median time to kill {median:.1f} s, clean full run {clean_time:.1f} s "
        f"({passed}/{len(clean.results)} rules passed)"
    )
    if not args.no_schemathesis:
        st_killed = [r for r in rows if r["st_new"]]
        print(
            f"plain schemathesis (--max-examples {args.st_max_examples}, --max-time {args.st_max_time}): "
            f"{len(st_killed)}/{len(rows)} faults found (new failure kinds vs the clean server)"
        )
    return 0 if len(killed) == len(rows) and not clean_failed else 1


if __name__ == "__main__":
    sys.exit(main())
