"""Codegen benchmarks: `generate` next to datamodel-code-generator alone; generated models vs orjson.

    .venv/bin/python bench/codegen.py              # 5 repetitions each (median), all three specs
    .venv/bin/python bench/codegen.py --repeat 9

1. Generation, every repetition in a FRESH process (datamodel-code-generator caches parsed input
   inside a process, so repeated in-process calls would flatter both sides), ours and the baseline
   alternating (load from other processes hits both alike); the ratio is the median of the paired ratios.
   One warm-up run of each first (Python's __pycache__ and our compiled-template cache are warm, as on a
   developer's machine; datamodel-code-generator ships its templates precompiled).
   * "CLI": ``orders-contract generate --spec S --out D`` vs ``datamodel-codegen`` with the same flags
     (+ ruff-format): what a user runs; both pay interpreter start-up and imports.
   * "call": only the generation call, timed inside the fresh process after ``import codegen`` /
     ``import datamodel_code_generator``: ``codegen.build_tree(..., check_import=True)`` (validate +
     normalise + dmcg + client + ruff + import check, which compiles) vs
     ``datamodel_code_generator.generate(spec, <the same dmcg options>, ruff-format)``.
   Each is measured as wall time and as CPU seconds of the process plus its children (forks, ruff): CPU
   is what a busy machine (or one core) pays; wall is what an idle two-core machine shows.
   Goal: ratio <= 1.3x.
2. Validating one 100-order batch (JSON bytes) with the generated models
   (``OrderUpsertBatch.model_validate_json``) vs ``orjson.loads`` of the same bytes. Goal: <= 6x.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SPECS = {
    "sendcloud": REPO / "spec" / "sendcloud-orders-v3.yaml",
    "karrio": REPO / "spec" / "karrio-batch-orders.yaml",
    "vendor": REPO.parent / "shared" / "reference" / "sendcloud-v3-orders-openapi.yml",
}
DMCG_FLAGS = [
    "--input-file-type", "openapi", "--output-model-type", "pydantic_v2.BaseModel",
    "--target-python-version", "3.11", "--openapi-scopes", "schemas", "--use-annotated",
    "--field-constraints", "--use-standard-collections", "--use-union-operator",
    "--naming-strategy", "full-path", "--strict-types", "str", "int", "float", "bool",
    "--disable-timestamp", "--formatters", "ruff-format", "--use-schema-description",
    "--deserialize-default-values", "enum",
]  # fmt: skip

_CALL = """
import sys, time, copy, resource, warnings
from pathlib import Path
warnings.simplefilter("ignore")
sys.path.insert(0, {repo!r})
import codegen
import datamodel_code_generator as dmcg
from codegen._models import DMCG_OPTIONS
from datamodel_code_generator.format import Formatter
spec = codegen.load_spec(Path({spec!r}))
build_tree = codegen.build_tree  # the pipeline's modules, as `import datamodel_code_generator` loads dmcg's
def cpu():
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
doc = copy.deepcopy(spec.document)
c, t = cpu(), time.perf_counter()
if {which!r} == "codegen":
    build_tree(spec, "bench_pkg", check_import=True)
else:
    dmcg.generate(doc, **{{**DMCG_OPTIONS, "formatters": [Formatter.RUFF_FORMAT]}})
print(time.perf_counter() - t, cpu() - c)
"""


def _children_cpu() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def _time_call(which: str, spec: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of the call alone, in a fresh process (CPU includes its forks and ruff)."""
    code = _CALL.format(repo=str(REPO), spec=str(spec), which=which)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def _time_cli(argv: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of a whole command (CPU: the process and everything it waited for)."""
    cpu, start = _children_cpu(), time.perf_counter()
    subprocess.run(argv, capture_output=True, check=True, timeout=300, cwd=REPO)
    return time.perf_counter() - start, _children_cpu() - cpu


Pair = tuple[float, float, float]  # median codegen, median baseline, median of the paired ratios


def _paired(
    a: Callable[[], tuple[float, float]], b: Callable[[], tuple[float, float]], repeat: int
) -> tuple[Pair, Pair]:
    """Alternate a and b (warm-up run of each first); (wall, CPU) medians and median paired ratios."""
    a(), b()
    runs = [(a(), b()) for _ in range(repeat)]
    result = []
    for i in (0, 1):  # wall, CPU
        result.append(
            (
                statistics.median(x[i] for x, _ in runs),
                statistics.median(y[i] for _, y in runs),
                statistics.median(x[i] / y[i] for x, y in runs),
            )
        )
    return result[0], result[1]


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def bench_generate(repeat: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    print(f"generate: {repeat} repetitions, {os.cpu_count()} CPUs, {_load()}")
    for name, spec in SPECS.items():
        if not spec.is_file():
            print(f"skip {name}: {spec} not found")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            ours_cli = [str(BIN / "orders-contract"), "generate", "--spec", str(spec), "--out", tmp]
            ours_cli += ["--package", "p"]
            dmcg_cli = [str(BIN / "datamodel-codegen"), "--input", str(spec), "--output", f"{tmp}/m.py"]
            dmcg_cli += DMCG_FLAGS
            cli = _paired(partial(_time_cli, ours_cli), partial(_time_cli, dmcg_cli), repeat)
            call = _paired(partial(_time_call, "codegen", spec), partial(_time_call, "dmcg", spec), repeat)
        for kind, (wall, cpu) in (("CLI", cli), ("call", call)):
            for measure, (a, b, ratio) in (("wall", wall), ("CPU", cpu)):
                row = {"spec": name, "kind": kind, "measure": measure, "codegen_s": a, "dmcg_s": b}
                rows.append({**row, "ratio": ratio})
                print(f"generate {name:9} {kind:4} {measure:4}: codegen {a * 1000:6.0f} ms | "
                      f"dmcg alone {b * 1000:6.0f} ms | ratio {ratio:4.2f}x (goal <= 1.3x)")  # fmt: skip
        print(f"  ({_load()})")
    return rows


def _order(n: int) -> dict[str, object]:
    item = {
        "name": f"Item {n}",
        "quantity": 2,
        "total_price": {"value": 7.0, "currency": "EUR"},
        "unit_price": {"value": 3.5, "currency": "EUR"},
        "measurement": {"weight": {"value": 1.5, "unit": "kg"}},
    }
    return {
        "order_id": f"ext-{n}",
        "order_number": f"N-{n}",
        "order_details": {
            "integration": {"id": 7},
            "status": {"code": "fulfilled", "message": "Fulfilled"},
            "order_created_at": "2024-02-27T10:00:00.556Z",
            "order_items": [item, {**item, "name": f"Other {n}"}],
            "tags": ["a", "b"],
        },
        "payment_details": {"total_price": {"value": 14.0, "currency": "EUR"}, "status": {"code": "paid"}},
        "shipping_address": {
            "name": "John Doe",
            "address_line_1": "Lansdown Glade",
            "house_number": "15",
            "postal_code": "5341XT",
            "city": "Oss",
            "country_code": "NL",
        },  # fmt: skip
    }


def bench_validation(number: int, rounds: int = 7) -> dict[str, float]:
    import orjson
    from sendcloud_orders.models import OrderUpsertBatch

    payload = orjson.dumps([_order(i) for i in range(100)])
    OrderUpsertBatch.model_validate_json(payload)  # valid, and warm

    def models() -> float:
        return timeit.timeit(lambda: OrderUpsertBatch.model_validate_json(payload), number=number) / number

    def loads() -> float:
        return timeit.timeit(lambda: orjson.loads(payload), number=number) / number

    pairs = [(models(), loads()) for _ in range(rounds)]  # alternating
    m, o = statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)
    ratio = statistics.median(p[0] / p[1] for p in pairs)
    print(f"validate 100 orders ({len(payload)} bytes): models {m * 1e6:6.0f} us | "
          f"orjson.loads {o * 1e6:5.0f} us | ratio {ratio:4.1f}x (goal <= 6x)")  # fmt: skip
    return {"models_us": m * 1e6, "orjson_us": o * 1e6, "ratio": ratio}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per measurement (median)")
    parser.add_argument("--number", type=int, default=200, help="validations per timing loop")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args()
    results = {"generate": bench_generate(args.repeat), "validate": bench_validation(args.number)}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
