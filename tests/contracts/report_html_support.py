"""Open an HTML report in headless Chromium (Debian's ``chromium``, driven by Playwright) and record what the
page did: console errors, uncaught errors and every network request.

Never downloads a browser: Playwright only drives ``/usr/bin/chromium``. Without it the tests skip with a
clear message, except under CI (``CI`` set), where ``.ci/run`` installs it and a missing browser fails.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


CHROMIUM_CANDIDATES = ("chromium", "/usr/bin/chromium")  # Debian's package


def chromium_path() -> str:
    """The Chromium binary, or skip (locally) / fail (under CI) with what to install."""
    found = next((path for name in CHROMIUM_CANDIDATES if (path := shutil.which(name))), None)
    why = ""
    if found is None:
        why = "Debian's chromium is not installed (make install-browser, or apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            why = "the playwright package is missing (pip install -e '.[dev]')"
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI: {why}; .ci/run installs chromium")
        pytest.skip(f"browser test skipped: {why}")
    assert found is not None
    return found


@dataclass
class Loaded:
    """A report opened in a page, with what happened while it loaded and afterwards."""

    page: Any
    url: str
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if url != self.url]


class Browser:
    """One headless Chromium with a fresh user-data-dir; ``open`` loads a file in a new page."""

    def __init__(self, context: Any) -> None:
        self.context = context

    @contextmanager
    def open(self, path: Path, *, width: int = 1280, height: int = 900) -> Iterator[Loaded]:
        page = self.context.new_page()
        page.set_viewport_size({"width": width, "height": height})
        loaded = Loaded(page, path.resolve().as_uri())

        def console(message: Any) -> None:
            if message.type in ("error", "warning"):
                loaded.console_errors.append(f"{message.type}: {message.text}")

        page.on("console", console)
        page.on("pageerror", lambda exc: loaded.console_errors.append(f"uncaught: {exc}"))
        page.on("request", lambda r: loaded.requests.append(r.url))
        try:
            page.goto(loaded.url, wait_until="load", timeout=20_000)
            yield loaded
        finally:
            page.close()


@contextmanager
def chromium(profile_dir: Path) -> Iterator[Browser]:
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            str(profile_dir),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            timeout=30_000,
        )
        context.set_default_timeout(10_000)
        try:
            yield Browser(context)
        finally:
            context.close()


def overflowing(page: Any) -> dict[str, Any]:
    """How far the page is wider than the viewport, and the first elements that stick out on the right."""
    result: dict[str, Any] = page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const wide = [];
            for (const el of document.querySelectorAll('body *')) {
                const box = el.getBoundingClientRect();
                if (box.width > 0 && box.right > width + 1) {
                    wide.push(el.tagName + '.' + el.className + ' right=' + Math.round(box.right));
                    if (wide.length >= 5) break;
                }
            }
            return {scroll: document.documentElement.scrollWidth, width: width, wide: wide};
        }"""
    )
    return result
