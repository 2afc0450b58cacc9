"""Reading a spec: libyaml when PyYAML has it, the pure-Python loader's answer wherever libyaml refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from codegen_support import FIXTURES, OUR_SPECS, VENDOR_SPEC

from codegen import SpecLoadError, parse_spec
from codegen._load import _FAST_LOADER

SPECS = [
    *OUR_SPECS.values(),
    *sorted(FIXTURES.glob("*.yaml")),
    *([VENDOR_SPEC] if VENDOR_SPEC.is_file() else []),
]


def test_libyaml_is_used_when_pyyaml_has_it() -> None:
    assert _FAST_LOADER is getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_the_document_equals_the_pure_python_loaders(spec: Path) -> None:
    raw = spec.read_bytes()
    assert parse_spec(raw, spec.name).document == yaml.safe_load(raw.decode("utf-8"))


def test_a_text_libyaml_refuses_is_read_by_the_pure_python_loader() -> None:
    # libyaml refuses an escaped surrogate pair; the pure-Python loader reads it (as two lone surrogates),
    # so the loader's own check answers, as it always did
    text = b'openapi: 3.1.0\ninfo: {title: "\\ud83d\\ude00", version: "1"}\npaths: {}\n'
    with pytest.raises(yaml.YAMLError):
        yaml.load(text, Loader=_FAST_LOADER)  # noqa: S506 - a safe loader
    with pytest.raises(SpecLoadError, match="unpaired surrogate"):
        parse_spec(text, "s.yaml")


def test_a_yaml_error_is_worded_by_the_pure_python_loader() -> None:
    broken = FIXTURES / "broken" / "bad_yaml.yaml"
    text = broken.read_text(encoding="utf-8")
    with pytest.raises(yaml.MarkedYAMLError) as expected:
        yaml.safe_load(text)
    assert expected.value.problem_mark is not None and expected.value.problem is not None
    with pytest.raises(SpecLoadError) as got:
        parse_spec(broken.read_bytes(), broken.name)
    mark = expected.value.problem_mark
    assert str(got.value) == (
        f"bad_yaml.yaml: invalid YAML/JSON (line {mark.line + 1}, column {mark.column + 1}): "
        f"{expected.value.problem}"
    )
