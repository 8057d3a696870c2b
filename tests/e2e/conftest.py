"""Browser fixtures: Debian's chromium driven by the Playwright sync API against
pytest-django's ``live_server``.

Without /usr/bin/chromium every test here is skipped, unless REQUIRE_BROWSER=1 (as in CI),
in which case the missing browser is an error: browser tests must not vanish silently.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.factories import Cast, build_cast

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_DIR = Path(django_settings.BASE_DIR) / "var" / "e2e-screenshots"
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last (stable sort, nothing else reordered).

    Once started, the session-wide Playwright keeps an asyncio loop running in the main
    thread until the session ends; tests that run after it would see that loop (see
    ``browser``). Putting the e2e tests at the end keeps everyone else's world unchanged.
    """
    here = Path(__file__).parent
    items.sort(key=lambda item: Path(str(item.path)).is_relative_to(here))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember each phase's report on the item, so fixtures can see if the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is not installed: browser tests cannot run"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {message}", pytrace=False)
        pytest.skip(message)
    # The sync Playwright API runs an asyncio event loop in this (the main) thread from
    # start() to stop(): asyncio.get_running_loop() answers for the rest of the session.
    # Django's async-safety check sees that loop and refuses every ORM call made from the
    # test thread (building the cast, asserting on the database) with
    # SynchronousOnlyOperation, although nothing here is actually asynchronous: the ORM
    # calls are plain blocking calls between browser steps, and the live server answers
    # in its own thread. Set here only, and only while the browser runs.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        expect.set_options(timeout=TIMEOUT_MS)
        yield launched
        launched.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _e2e_settings(settings: Any, tmp_path: Path) -> None:
    """Never touch the developer's var/audit-log-key.pem from a browser test."""
    settings.AUDIT_LOG_KEY_FILE = str(tmp_path / "audit-log-key.pem")


@pytest.fixture
def cast(live_server: Any) -> Cast:
    """The shared cast, committed (``live_server`` implies the transactional database) so
    the server thread sees it."""
    return build_cast()


@pytest.fixture
def new_page(
    browser: Browser, live_server: Any, request: pytest.FixtureRequest
) -> Iterator[Callable[[], Page]]:
    """Open a page in a fresh browser context (its own cookies: a separate person).

    If the test fails, every page it opened is saved to var/e2e-screenshots/<test>[-n].png.
    """
    contexts: list[BrowserContext] = []
    pages: list[Page] = []

    def open_page() -> Page:
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        pages.append(page)
        return page

    yield open_page

    failed = any(
        getattr(getattr(request.node, f"report_{when}", None), "failed", False)
        for when in ("setup", "call")
    )
    if failed:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        for number, page in enumerate(pages, start=1):
            suffix = "" if number == 1 else f"-{number}"
            try:
                page.screenshot(path=str(SCREENSHOT_DIR / f"{name}{suffix}.png"), full_page=True)
            except Exception as exc:  # a crashed page must not hide the real failure
                print(f"could not save a screenshot of page {number}: {exc}")
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[[], Page]) -> Page:
    return new_page()


@pytest.fixture
def screenshot() -> Callable[[Page, str], None]:
    """Save a full-page screenshot to var/e2e-screenshots/<name>.png (to look at)."""

    def save(page: Page, name: str) -> None:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)

    return save
