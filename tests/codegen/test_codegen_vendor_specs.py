"""The real Sendcloud OpenAPI files generate packages that import and pass `mypy --strict`.

A sample (the specs whose constructs once broke) runs in `make test`; all of them with
ORDERS_CONTRACT_VENDOR_SPECS=all (`make test-vendor-specs`). Skipped, saying so, when the folder of
reference specs is absent (it is not part of the repository).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from codegen_support import ALL_VENDOR_SPECS, SENDCLOUD_SPECS_DIR, mypy_strict

from codegen import build_tree, load_spec, write_tree

SAMPLE = (
    "sendcloud-shipments-openapi.yml",  # enum defaults as plain values, a list re-declared in a subclass
    "sendcloud-v2-integrations-openapi.yml",  # a batch operation with a required path parameter
    "sendcloud-v3-webhooks-openapi.yml",  # OpenAPI 3.1 webhooks, an apiKey header scheme
)


def _specs() -> list[Path]:
    if not SENDCLOUD_SPECS_DIR.is_dir():
        return []
    every = sorted(SENDCLOUD_SPECS_DIR.glob("*.yml"))
    return every if ALL_VENDOR_SPECS else [p for p in every if p.name in SAMPLE]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """spec file name → generated package folder (every package import-checked before it is written)."""
    if not SENDCLOUD_SPECS_DIR.is_dir():
        pytest.skip(
            f"reference Sendcloud specs not found at {SENDCLOUD_SPECS_DIR} (not part of the repository)"
        )
    out = tmp_path_factory.mktemp("vendor-specs")
    found = {}
    for spec in _specs():
        tree = build_tree(load_spec(spec), check_import=True)
        write_tree(tree, out)
        found[spec.name] = out / tree.package
    return found


def test_every_spec_generates_a_package_with_readable_names(generated: dict[str, Path]) -> None:
    assert len(generated) == (
        len(list(SENDCLOUD_SPECS_DIR.glob("*.yml"))) if ALL_VENDOR_SPECS else len(SAMPLE)
    )
    for spec, package in generated.items():
        assert "openapi" not in package.name, spec
        client = (package / "client.py").read_text(encoding="utf-8")
        assert "class OpenapiClient" not in client, spec
        assert "def sc_public_" not in client, spec  # long vendor operationIds are shortened
        assert '""""""' not in client, spec  # no operation without a docstring


def test_generated_packages_pass_mypy_strict(generated: dict[str, Path], tmp_path: Path) -> None:
    proc = mypy_strict(generated.values(), tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_webhooks_spec_names_what_it_skipped_and_exports_payload_models(generated: dict[str, Path]) -> None:
    package = generated.get("sendcloud-v3-webhooks-openapi.yml")
    if package is None:
        pytest.skip("webhooks spec not in this selection")
    client = (package / "client.py").read_text(encoding="utf-8")
    assert "WEBHOOK_PAYLOADS: dict[str, type[pydantic.BaseModel]] = {" in client
    assert '"IntegrationConnected": IntegrationConnectedWebhook,' in client
