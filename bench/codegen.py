"""Codegen benchmarks: `generate` next to datamodel-code-generator alone; generated models vs orjson.

    .venv/bin/python bench/codegen.py              # 5 repetitions each (median), all three specs
    .venv/bin/python bench/codegen.py --repeat 9 --spec sendcloud
    git archive <commit> | tar -x -C /tmp/before    # an earlier state, timed in the same rounds:
    .venv/bin/python bench/codegen.py --before /tmp/before
    .venv/bin/python bench/codegen.py --stages sendcloud   # where generate's time goes, stage by stage

1. Generation, every repetition in a FRESH process (datamodel-code-generator caches parsed input
   inside a process, so repeated in-process calls would flatter both sides), ours and the baseline
   (and ``--before``) in turn in each round (load from other processes hits all alike); the ratio is
   the median of the per-round ratios.
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


def _time_call(which: str, spec: Path, root: Path = REPO) -> tuple[float, float]:
    """(wall, CPU) seconds of the call alone, in a fresh process (CPU includes its forks and ruff)."""
    code = _CALL.format(repo=str(root), spec=str(spec), which=which)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def _time_cli(argv: list[str], root: Path = REPO) -> tuple[float, float]:
    """(wall, CPU) seconds of a whole command (CPU: the process and everything it waited for)."""
    env = {**os.environ, "PYTHONPATH": str(root)} if root != REPO else None
    cpu, start = _children_cpu(), time.perf_counter()
    subprocess.run(argv, capture_output=True, check=True, timeout=300, cwd=root, env=env)
    return time.perf_counter() - start, _children_cpu() - cpu


Timer = Callable[[], tuple[float, float]]


def _interleaved(timers: dict[str, Timer], repeat: int) -> dict[str, list[tuple[float, float]]]:
    """Run the timers in turn, `repeat` rounds after one warm-up round (load hits all alike)."""
    for timer in timers.values():
        timer()
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in timers}
    for _ in range(repeat):
        for name, timer in timers.items():
            runs[name].append(timer())
    return runs


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def bench_generate(repeat: int, names: list[str], before: Path | None) -> list[dict[str, object]]:
    """Ours (and, with `before`, another checkout of this repository) next to dmcg alone, interleaved."""
    rows: list[dict[str, object]] = []
    print(f"generate: {repeat} repetitions, {os.cpu_count()} CPUs, {_load()}")
    roots = {"codegen": REPO, **({"before": before} if before else {})}
    for name in names:
        spec = SPECS[name]
        if not spec.is_file():
            print(f"skip {name}: {spec} not found")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            dmcg_cli = [str(BIN / "datamodel-codegen"), "--input", str(spec), "--output", f"{tmp}/m.py"]
            ours_cli = [str(BIN / "orders-contract"), "generate", "--spec", str(spec), "--out", tmp]
            ours_cli += ["--package", "p"]
            timers: dict[str, dict[str, Timer]] = {
                "CLI": {who: partial(_time_cli, ours_cli, root) for who, root in roots.items()},
                "call": {who: partial(_time_call, "codegen", spec, root) for who, root in roots.items()},
            }
            timers["CLI"]["dmcg"] = partial(_time_cli, [*dmcg_cli, *DMCG_FLAGS])
            timers["call"]["dmcg"] = partial(_time_call, "dmcg", spec)
            measured = {kind: _interleaved(kind_timers, repeat) for kind, kind_timers in timers.items()}
        for kind, runs in measured.items():
            for i, measure in enumerate(("wall", "CPU")):
                base = [r[i] for r in runs["dmcg"]]
                for who in roots:
                    mine = [r[i] for r in runs[who]]
                    ratio = statistics.median(x / y for x, y in zip(mine, base, strict=True))
                    a, b = statistics.median(mine), statistics.median(base)
                    row = {"spec": name, "kind": kind, "measure": measure, "who": who}
                    rows.append({**row, "codegen_s": a, "dmcg_s": b, "ratio": ratio})
                    print(f"generate {name:9} {kind:4} {measure:4} {who:7}: {a * 1000:6.0f} ms | "
                          f"dmcg alone {b * 1000:6.0f} ms | ratio {ratio:4.2f}x (goal <= 1.3x)")  # fmt: skip
        print(f"  ({_load()})")
    return rows


_STAGES = """
import sys, time, warnings, importlib, tempfile
from pathlib import Path
warnings.simplefilter("ignore")
sys.path.insert(0, {repo!r})
rows = []
def stage(name, fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    rows.append((name, time.perf_counter() - w, time.process_time() - c))
    return out
stage("CLI modules: orders_contract.cli, typer, codegen.cli", lambda: (
    importlib.import_module("orders_contract.cli"), importlib.import_module("codegen.cli")))
stage("pydantic (typer's parameter handling imports it; dmcg needs it too)",
      lambda: importlib.import_module("pydantic"))
stage("pipeline modules incl. datamodel-code-generator", lambda: importlib.import_module("codegen._generate"))
from codegen import _generate as G, _load, _models, _format
spec = stage("read + parse the spec (libyaml)", lambda: _load.load_spec(Path({spec!r})))
contract = stage("contract_of (contracts.contract, jsonschema)", lambda: G.contract_of(spec))
stage("validation: quick check (refs, proves_valid)", lambda: _load.quick_validate(spec.document))
def middle():
    doc, _ = G.normalise(spec.document)
    ir, _ = G.build_ir(doc, contract)
    header = G._header(spec, G.spec_digest(doc))
    G.document_id_carriers(doc, ir.id_carriers)
    return doc, ir, header
doc, ir, header = stage("normalise + IR + digest", middle)
raw = stage("datamodel-code-generator generate() (its lazy imports, config)",
            lambda: _models.render_models(doc, header, format_source=False))
models = stage("ruff on models.py (check --fix, format: 2 runs)",
               lambda: _format.ruff_format(raw, "models.py"))
classes = stage("class names (ast)", lambda: _models.class_names(models))
from_client = stage("jinja2 (import)", lambda: importlib.import_module("codegen._client"))
sources = stage("client templates rendered (compiled ones cached)",
                lambda: from_client.render_client_files(ir, header=header, base_url="http://x",
                client_name="PClient", model_classes=classes, sha256="0"))
formatted = stage("ruff on the client files (2 runs)", lambda: _format.ruff_format_many(sources))
root = Path(tempfile.mkdtemp()); (root / "bench_pkg").mkdir()
for name, text in {{**formatted, "models.py": models}}.items():
    (root / "bench_pkg" / name).write_text(text)
sys.path.insert(0, str(root)); sys.dont_write_bytecode = True
sys.modules["httpx._main"] = None  # as the import-check child: httpx without its own command line
stage("import check (forked child): httpx", lambda: importlib.import_module("httpx"))
stage("import check: the package (models.py's pydantic classes, the client modules)",
      lambda: importlib.import_module("bench_pkg"))
stage("(only when not proven valid) openapi-spec-validator: import", lambda: importlib.import_module(
    "codegen._validate"))
stage("(only when not proven valid) openapi-spec-validator: validation", lambda: list(
    importlib.import_module("codegen._validate").FastOpenAPIV31SpecValidator(spec.document).iter_errors()))
for name, w, c in rows:
    print(f"{{w * 1000:7.1f}} {{c * 1000:7.1f}}  {{name}}")
"""


def bench_stages(name: str, repeat: int) -> None:
    """Each stage once, in one fresh process, in pipeline order (imports land on the first stage that
    needs them); the median over `repeat` processes. Wall and CPU of this process only."""
    spec = SPECS[name]
    code = _STAGES.format(repo=str(REPO), spec=str(spec))
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
        ).stdout.splitlines()
        for _ in range(repeat)
    ]
    print(f"stages of `generate` for {name} (median of {repeat} fresh processes; {_load()}):")
    print("   wall     CPU  stage (ms; CPU of this process: ruff's own CPU is not in it)")
    for i, line in enumerate(runs[0]):
        label = line.split(None, 2)[2]
        wall = statistics.median(float(r[i].split()[0]) for r in runs)
        cpu = statistics.median(float(r[i].split()[1]) for r in runs)
        print(f"{wall:7.1f} {cpu:7.1f}  {label}")


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
    parser.add_argument("--spec", choices=sorted(SPECS), action="append", help="only these specs")
    parser.add_argument(
        "--before", type=Path, help="also time another checkout of this repository (e.g. `git archive`)"
    )
    parser.add_argument("--stages", choices=sorted(SPECS), help="only: where generate's time goes")
    args = parser.parse_args()
    if args.stages:
        bench_stages(args.stages, args.repeat)
        return
    generate = bench_generate(args.repeat, args.spec or list(SPECS), args.before)
    results = {"generate": generate, "validate": bench_validation(args.number)}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
