"""The client templates' compile cache: a cached template renders exactly as a freshly compiled one, and a
cache that is corrupt or cannot be written only costs time."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from codegen import _client

TEMPLATES = sorted(p.name for p in Path(_client.__file__).with_name("templates").glob("*.jinja"))


def _env(cache: jinja2.BytecodeCache | None) -> jinja2.Environment:
    env = _client._environment()
    env.bytecode_cache = cache
    return env


def test_the_generator_uses_a_cache() -> None:
    assert isinstance(_client._environment().bytecode_cache, _client._TemplateCache)


def test_a_cached_template_is_not_compiled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = {name: _env(None).get_template(name) for name in TEMPLATES}
    for name in TEMPLATES:  # fill the cache
        _env(_client._TemplateCache(str(tmp_path))).get_template(name)
    assert len(list(tmp_path.iterdir())) == len(TEMPLATES)

    cached_env = _env(_client._TemplateCache(str(tmp_path)))

    def no_compile(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled although cached")

    monkeypatch.setattr(cached_env, "compile", no_compile)
    for name in TEMPLATES:
        cached = cached_env.get_template(name)
        assert cached.root_render_func.__code__.co_code == fresh[name].root_render_func.__code__.co_code


def test_a_corrupt_cache_entry_is_compiled_afresh(tmp_path: Path) -> None:
    for name in TEMPLATES:
        _env(_client._TemplateCache(str(tmp_path))).get_template(name)
    for entry in tmp_path.iterdir():
        entry.write_bytes(entry.read_bytes()[:40])  # truncated: magic and checksum intact, code cut off
    env = _env(_client._TemplateCache(str(tmp_path)))
    for name in TEMPLATES:
        assert env.get_template(name).root_render_func is not None


def test_a_cache_that_cannot_be_written_only_costs_time(tmp_path: Path) -> None:
    env = _env(_client._TemplateCache(str(tmp_path / "missing")))
    for name in TEMPLATES:
        assert env.get_template(name).root_render_func is not None
