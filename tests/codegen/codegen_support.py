"""Paths and names shared by the codegen tests (a uniquely named module: every test folder has a conftest)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "specs"
GOLDEN_DIR = REPO / "tests" / "golden"
GOLDEN_SPECS = {"messy_shop": FIXTURES / "messy_shop.yaml"}
GOLDEN_COMMAND = "make golden"
VENDOR_SPEC = REPO.parent / "shared" / "reference" / "sendcloud-v3-orders-openapi.yml"
OUR_PACKAGE = REPO / "generated" / "sendcloud_orders"
