"""Fixtures for the browser tests: one JupyterLab server and one Chromium per test process.

Under pytest-xdist each worker that runs a browser test starts its own (a few seconds). The
tests skip, saying how to enable them, when Chromium or Playwright is missing or Chromium
cannot start; JupyterLab failing to start is a failure (it is part of the course).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import lab
import pytest

FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(
            "browser tests need the playwright package (.venv/bin/pip install -r requirements.txt)"
        )
    playwright = sync_playwright().start()
    try:
        browser = lab.launch_chromium(playwright)
    except RuntimeError as err:
        playwright.stop()
        pytest.skip(f"browser tests skipped: {err}; to run them, {lab.HOW_TO_ENABLE}")
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture(scope="session")
def lab_server(chromium: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[lab.LabServer]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    server = lab.LabServer(
        root_dir=tmp_path_factory.mktemp("lab-root"),
        work=tmp_path_factory.mktemp("lab-work"),
        log=lab.ARTIFACTS / f"jupyterlab-{worker}.log",
    )
    server.log_path.unlink(missing_ok=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def page(chromium: Any, lab_server: lab.LabServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser page (own context); a screenshot of it is kept if the test fails."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.page_errors = page_errors  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        if request.node.stash.get(FAILED, False):
            try:
                lab.screenshot(page, f"FAILED-{request.node.name}")
            except Exception as err:  # the page may be gone; the failure itself matters more
                print(f"could not save a screenshot of the failed page: {err}")
            if page_errors:
                print("JavaScript errors on the page:\n" + "\n".join(page_errors))
        context.close()
        lab_server.shutdown_kernels()
