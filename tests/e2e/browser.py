"""Headless Chromium for the staff website's end-to-end tests: Debian's `chromium`, driven by
Playwright through `executable_path` (Playwright's own browser download is never used).

Without the browser the tests skip on a laptop and fail under CI (`.ci/run` installs it).
Screenshots go to `SCREENSHOTS_DIR` (default `build/screenshots/`), one per page and language.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no calls to Google's hosts on a closed network
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (Debian package `chromium`; .ci/run installs it)")
        pytest.skip("the browser tests need Debian's chromium")
    return found


def screenshots_dir() -> Path:
    path = Path(os.environ.get("SCREENSHOTS_DIR") or ROOT / "build" / "screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
async def chromium() -> AsyncIterator[Any]:
    executable = chromium_path()
    try:
        from playwright.async_api import async_playwright
    except ImportError:  # the dev extra is not installed
        pytest.fail("playwright is not installed: make venv")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            await browser.close()


async def shoot(page: Any, name: str, lang: str) -> Path:
    """A full-page screenshot, `<dir>/<lang>/<name>.png`."""
    target = screenshots_dir() / lang / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(target), full_page=True)
    return target
