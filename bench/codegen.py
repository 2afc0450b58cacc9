"""Codegen benchmarks: `generate` next to datamodel-code-generator alone; generated models vs orjson.

    .venv/bin/python bench/codegen.py              # 5 repetitions each (median), both specs
    .venv/bin/python bench/codegen.py --repeat 9

1. Generation time, every repetition in a FRESH process (datamodel-code-generator caches parsed input
   inside a process, so repeated in-process calls would flatter both sides):
   * "call": only the generation call, timed inside the fresh process after imports:
     ``codegen.build_tree(..., check_import=True)`` (validate + normalise + dmcg + client + ruff +
     compile + import check) vs ``datamodel_code_generator.generate(spec, <the same dmcg options>)``.
   * "CPU": the same call, CPU seconds of the process plus its children (forks, ruff): robust when the
     machine is shared.
   * "CLI": wall time of ``orders-contract generate --spec S --out D`` vs ``datamodel-codegen`` with the
     same flags (what a user runs; both pay interpreter start-up and imports).
   Goal: ratio <= 1.3x.
2. Validating one 100-order batch (JSON bytes) with the generated models
   (``OrderUpsertBatch.model_validate_json``) vs ``orjson.loads`` of the same bytes. Goal: <= 6x.
"""

from __future__ import annotations

import argparse
import json
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
    "ours": REPO / "spec" / "sendcloud-orders-v3.yaml",
    "upstream": REPO.parent / "shared" / "reference" / "sendcloud-v3-orders-openapi.yml",
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
import sys, time, copy, warnings
from pathlib import Path
warnings.simplefilter("ignore")
sys.path.insert(0, {repo!r})
import yaml
import codegen
from codegen import build_tree  # imports what generation needs, as `import datamodel_code_generator` does
import datamodel_code_generator as dmcg
from codegen._models import DMCG_OPTIONS
from datamodel_code_generator.format import Formatter
spec = codegen.load_spec(Path({spec!r}))
import resource
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


def _time_call(which: str, spec: Path, cpu: bool = False) -> float:
    """Wall seconds of the call (or CPU seconds of the process and its children, incl. forks and ruff)."""
    code = _CALL.format(repo=str(REPO), spec=str(spec), which=which)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    wall, cpu_s = out.stdout.strip().splitlines()[-1].split()
    return float(cpu_s if cpu else wall)


def _time_cli(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=True, timeout=300, cwd=REPO)
    return time.perf_counter() - start


def _paired(a: Callable[[], float], b: Callable[[], float], repeat: int) -> tuple[float, float, float]:
    """Alternate a and b (so load from other processes hits both alike); medians and median ratio."""
    pairs = [(a(), b()) for _ in range(repeat)]
    return (
        statistics.median(p[0] for p in pairs),
        statistics.median(p[1] for p in pairs),
        statistics.median(p[0] / p[1] for p in pairs),
    )


def bench_generate(repeat: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for name, spec in SPECS.items():
        if not spec.is_file():
            print(f"skip {name}: {spec} not found")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            ours_cli = [
                str(BIN / "orders-contract"),
                "generate",
                "--spec",
                str(spec),
                "--out",
                tmp,
                "--package",
                "p",
            ]
            dmcg_cli = [
                str(BIN / "datamodel-codegen"),
                "--input",
                str(spec),
                "--output",
                f"{tmp}/m.py",
                *DMCG_FLAGS,
            ]
            measured = {
                "call": _paired(
                    partial(_time_call, "codegen", spec), partial(_time_call, "dmcg", spec), repeat
                ),
                "CPU": _paired(
                    partial(_time_call, "codegen", spec, True),
                    partial(_time_call, "dmcg", spec, True),
                    repeat,
                ),
                "CLI": _paired(partial(_time_cli, ours_cli), partial(_time_cli, dmcg_cli), repeat),
            }
        for kind, (a, b, ratio) in measured.items():
            rows.append({"spec": name, "kind": kind, "codegen_s": a, "dmcg_s": b, "ratio": ratio})
            print(f"generate {name:8} {kind:4}: codegen {a * 1000:6.0f} ms | dmcg alone {b * 1000:6.0f} ms | "
                  f"ratio {ratio:4.2f}x (goal <= 1.3x)")  # fmt: skip
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

    m, o, ratio = _paired(models, loads, rounds)
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
