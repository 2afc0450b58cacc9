# orders-contract — every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test test-deep test-vendor-specs lint typecheck pytest generate check-generated golden conformance bench clean serve bench-server bench-contracts install-browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Headless Chromium for the HTML report tests: Debian's package (Playwright only drives it, never downloads
# a browser). Without it those tests skip locally; under CI (CI set) they fail, so .ci/run calls this first.
install-browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
		$$sudo apt-get update -qq && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck pytest

# The long property searches (Hypothesis profile `deep`); not part of `make test`.
test-deep: $(STAMP)
	ORDERS_CONTRACT_PROFILE=deep $(BIN)/pytest -q

generate: $(STAMP)
	$(BIN)/orders-contract generate

check-generated: $(STAMP)
	$(BIN)/orders-contract generate --check

# Golden tree of the codegen end-to-end test (tests/codegen/test_codegen_golden.py).
golden: $(STAMP)
	$(BIN)/orders-contract generate --spec tests/fixtures/specs/messy_shop.yaml --out tests/golden --package messy_shop
	$(BIN)/orders-contract generate --spec tests/fixtures/specs/vendor_constructs.yaml --out tests/golden --package vendor_constructs

# Every real Sendcloud spec in ../shared/reference/sendcloud-specs generates a package that imports and passes
# mypy --strict (slow; `make test` runs a sample). Skipped when that folder is absent.
test-vendor-specs: $(STAMP)
	ORDERS_CONTRACT_VENDOR_SPECS=all $(BIN)/pytest -q tests/codegen/test_codegen_vendor_specs.py

# Reference server on 127.0.0.1:8000 (demo credentials are printed); see README "Reference server".
serve: $(STAMP)
	$(BIN)/orders-contract serve

# Contract suite against the embedded reference server (free 127.0.0.1 port, fresh SQLite), once for every
# spec in spec/; exits non-zero when any run fails. One spec: make conformance SPECS=spec/karrio-batch-orders.yaml
# Profile: ORDERS_CONTRACT_PROFILE=ci|dev|deep (default dev).
SPECS ?= $(filter-out %.schema.json,$(wildcard spec/*.yaml))
conformance: $(STAMP)
	@set -e; for spec in $(SPECS); do \
		echo "== conformance: $$spec"; \
		$(BIN)/orders-contract conformance --spec $$spec; \
	done

# Kill rate of the contract suite over the server's fault catalogue, vs plain `schemathesis run`.
bench-contracts: $(STAMP)
	$(BIN)/python bench/kill_rate.py

# Load benchmark of the reference server (uses wrk when installed); results go to BENCHMARKS.md by hand.
bench-server: $(STAMP)
	$(BIN)/python bench/server_load.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
