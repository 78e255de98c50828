"""Opens a page in Debian's Chromium (headless, driven by Playwright) and reports what a person
would see: console errors, requests leaving the machine, and a screenshot."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Offline machine: without these, Chromium keeps trying to reach Google's services.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class PageVisit:
    page: Any
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "Chromium is needed for the browser tests: apt-get install chromium"
    return path


@contextmanager
def open_page(path: Path) -> Iterator[PageVisit]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            visit = PageVisit(page)
            page.on("console", lambda m: m.type == "error" and visit.console_errors.append(m.text))
            page.on("pageerror", lambda e: visit.console_errors.append(str(e)))
            page.on(
                "request",
                lambda r: r.url.startswith("file:") or visit.outside_requests.append(r.url),
            )
            page.goto(path.as_uri(), wait_until="load")
            yield visit
        finally:
            browser.close()
