"""Kill rate of the contract suite over the reference server's fault catalogues, per dialect, vs Schemathesis.

For every spec in spec/ (or each ``--spec``), this takes the faults of that dialect
(``contracts.server.faults_for``), and for the clean server and for each fault (one at a time) starts the
reference server in a subprocess with a fresh SQLite file and runs the FULL contract suite; it records the
rules that fail and the time to kill (wall time from the start of the run to the end of the first failing
rule; also how long the fault's own rule took). The clean run must pass. Then it runs plain
``schemathesis run`` (CLI, time-boxed) against a fresh server with the same fault; a fault counts as found by
Schemathesis when it reports a failure kind (operation + code) that neither of two clean runs reported.

Everything is bounded: each suite run by ``--deadline`` (the run deadline), each Schemathesis run by
``--st-max-time`` (+60 s hard kill), the whole benchmark by ``--budget`` (measurements not started within it
are reported as such).

    .venv/bin/python bench/kill_rate.py [--spec karrio-batch-orders.yaml] [--faults a,b] [--profile ci]
        [--operation-timeout S] [--st-max-time 20] [--no-schemathesis] [--budget 3600]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from contracts.contract import load_contract
from contracts.runner import KILLED_BY, RunConfig, RunReport, run_suite
from contracts.server import faults_for, running_server

REPO = Path(__file__).resolve().parents[1]
_OPERATION = re.compile(r"^_{3,} ([A-Z]+ \S+) _{3,}$")
_CODE = re.compile(r"^- (ST\d+) (.+)$")


@dataclass
class Row:
    fault: str
    expected: str
    killers: list[str] = field(default_factory=list)
    ttk: float | None = None  # suite start -> end of the first failing rule
    own_rule_s: float | None = None  # how long the expected rule ran (when it failed)
    suite_s: float = 0.0
    st_new: list[str] | None = None  # None: Schemathesis not run
    st_s: float | None = None
    skipped: str = ""  # why this fault was not measured


@dataclass
class Options:
    profile: str
    seed: int
    deadline: float
    operation_timeout: float | None
    st_max_examples: int
    st_max_time: int
    schemathesis: bool
    ends: float  # time.monotonic() after which no new measurement starts


def _spec_paths(names: list[str] | None) -> list[Path]:
    if names:
        return [Path(n) if Path(n).exists() else REPO / "spec" / n for n in names]
    return sorted(p for p in (REPO / "spec").glob("*.yaml") if p.is_file())


def run_contracts(spec: Path, fault: str | None, opts: Options) -> RunReport:
    with running_server(spec_path=str(spec), faults={fault} if fault else set()) as server:
        config = RunConfig.against(
            server,
            seed=opts.seed,
            profile=opts.profile,
            deadline_s=opts.deadline,
            operation_timeout_s=opts.operation_timeout,
        )
        return run_suite(config)


def time_to_kill(report: RunReport) -> float | None:
    elapsed = 0.0
    for result in report.results:
        elapsed += result.duration_s
        if result.status == "failed":
            return elapsed
    return None


def run_schemathesis(spec: Path, fault: str | None, opts: Options, seed: int) -> tuple[set[str], float, int]:
    contract = load_contract(str(spec))
    with running_server(spec_path=str(spec), faults={fault} if fault else set()) as server:
        config = RunConfig.against(server)
        header, value = contract.auth.credentials_header(config.username, config.password)
        command = [
            str(REPO / ".venv" / "bin" / "schemathesis"),
            "run",
            str(spec),
            "--url",
            server.api_url,
            "--header",
            f"{header}: {value}",
            "--checks",
            "all",
            "--max-examples",
            str(opts.st_max_examples),
            "--max-time",
            str(opts.st_max_time),
            "--seed",
            str(seed),
            "--no-color",
            "--request-timeout",
            "10",
        ]
        started = time.monotonic()
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=opts.st_max_time + 60, check=False
            )
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


def measure_dialect(spec: Path, only: set[str] | None, opts: Options) -> tuple[list[Row], RunReport | None]:
    contract = load_contract(str(spec))
    faults = sorted(f for f in faults_for(contract) if only is None or f in only)
    print(f"\n## {contract.dialect} ({spec.name}): {len(faults)} faults", flush=True)
    clean = run_contracts(spec, None, opts)
    clean_failed = {r.id: r.message for r in clean.results if r.status == "failed"}
    counts = {s: sum(r.status == s for r in clean.results) for s in ("passed", "not_applicable", "skipped")}
    print(f"clean server: full suite {clean.duration_s:.1f}s, {counts}, failed: {clean_failed or 'none'}")
    baseline: set[str] = set()
    if opts.schemathesis:  # two clean runs (two seeds): their union is the noise floor
        for extra in (0, 1):
            found, st_time, st_code = run_schemathesis(spec, None, opts, opts.seed + extra)
            baseline |= found
            print(f"clean server: schemathesis {st_time:.1f}s exit {st_code}, kinds: {sorted(found)}")
    rows: list[Row] = []
    for fault in faults:
        row = Row(fault, KILLED_BY.get(fault, "?"))
        rows.append(row)
        if time.monotonic() > opts.ends:
            row.skipped = "benchmark budget spent"
            continue
        report = run_contracts(spec, fault, opts)
        row.killers = [r.id for r in report.results if r.status == "failed"]
        row.ttk, row.suite_s = time_to_kill(report), report.duration_s
        own = [r for r in report.results if r.id == row.expected and r.status == "failed"]
        row.own_rule_s = own[0].duration_s if own else None
        if opts.schemathesis:
            found, row.st_s, _ = run_schemathesis(spec, fault, opts, opts.seed)
            row.st_new = sorted(found - baseline)
        st = "" if row.st_new is None else f" | schemathesis: {'; '.join(row.st_new) or 'not found'}"
        print(f"{fault:30} killed by {', '.join(row.killers) or 'NOTHING':50} ttk {_s(row.ttk):>8}{st}")
    return rows, clean


def _s(value: float | None) -> str:
    return f"{value:.2f} s" if value is not None else "-"


def print_table(dialect: str, rows: list[Row], clean: RunReport | None, opts: Options) -> bool:
    print(f"\n### {dialect}\n")
    print("| fault | expected rule | killing rule(s) | time to kill | own rule | plain schemathesis |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        if r.skipped:
            print(f"| `{r.fault}` | `{r.expected}` | not measured: {r.skipped} | | | |")
            continue
        killers = ", ".join(f"**`{k}`**" if k == r.expected else f"`{k}`" for k in r.killers) or "—"
        st = "-" if r.st_new is None else ("found: " + "; ".join(r.st_new) if r.st_new else "not found")
        ttk = _s(r.ttk) if r.ttk is not None else "not killed"
        print(f"| `{r.fault}` | `{r.expected}` | {killers} | {ttk} | {_s(r.own_rule_s)} | {st} |")
    measured = [r for r in rows if not r.skipped]
    killed = [r for r in measured if r.killers]
    own = [r for r in measured if r.expected in r.killers]
    ttks = [r.ttk for r in measured if r.ttk is not None]
    clean_ok = clean is not None and clean.exit_code == 0
    print()
    if ttks:
        timing = f"median time to kill {statistics.median(ttks):.2f} s, max {max(ttks):.2f} s"
    else:
        timing = "no kill"
    print(
        f"contract suite ({dialect}): {len(killed)}/{len(measured)} faults killed ({len(own)} by their own "
        f"rule), {timing}; clean full run {'passes' if clean_ok else 'FAILS'}"
        + (f" in {clean.duration_s:.1f} s" if clean is not None else "")
    )
    if opts.schemathesis:
        found = [r for r in measured if r.st_new]
        times = [r.st_s for r in measured if r.st_s is not None]
        median = f"{statistics.median(times):.1f} s" if times else "-"
        print(
            f"plain schemathesis ({dialect}; --max-examples {opts.st_max_examples}, --max-time "
            f"{opts.st_max_time}): {len(found)}/{len(measured)} faults found (new failure kinds vs the clean "
            f"server), median run {median} (time-boxed; it reports at the end)"
        )
    return clean_ok and len(killed) == len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--spec", action="append", help="a spec in spec/ or a path (repeatable; default: all)"
    )
    parser.add_argument("--faults", help="comma-separated subset of the catalogue")
    parser.add_argument("--profile", default="ci")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--deadline", type=float, default=180.0, help="run deadline of each suite run (s)")
    parser.add_argument(
        "--operation-timeout",
        type=float,
        help="cap the wait for an asynchronous operation (default: the contract's complete_within_seconds)",
    )
    parser.add_argument("--st-max-examples", type=int, default=30)
    parser.add_argument("--st-max-time", type=int, default=20)
    parser.add_argument("--no-schemathesis", action="store_true")
    parser.add_argument("--budget", type=float, default=3600.0, help="no measurement starts after this (s)")
    args = parser.parse_args(argv)
    opts = Options(
        profile=args.profile,
        seed=args.seed,
        deadline=args.deadline,
        operation_timeout=args.operation_timeout,
        st_max_examples=args.st_max_examples,
        st_max_time=args.st_max_time,
        schemathesis=not args.no_schemathesis,
        ends=time.monotonic() + args.budget,
    )
    only = set(args.faults.split(",")) if args.faults else None
    started = time.monotonic()
    print(f"load average at start: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} cores", flush=True)
    results = [(spec, *measure_dialect(spec, only, opts)) for spec in _spec_paths(args.spec)]
    ok = True
    for spec, rows, clean in results:
        ok = print_table(load_contract(str(spec)).dialect, rows, clean, opts) and ok
    print(
        f"\nwall time {time.monotonic() - started:.0f} s; load average at end: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15 min)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
