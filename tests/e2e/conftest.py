"""End-to-end fixtures: real Chromium driven by Playwright's sync API against ``live_server``.

The browser is Debian's Chromium (``/usr/bin/chromium``, never a downloaded build). The UI comes
from ``frontend/dist`` (``make frontend``), served by the live server exactly as in production:
``index.html`` at every non-API path and the assets under ``/static/app/``.

Test data is made through the labeling services in the test thread; the live server thread shares
the test database. On failure each test leaves a full-page screenshot in a temporary folder (set
``E2E_SCREENSHOT_DIR`` to choose it) and the path is printed in the report.

Playwright's sync API keeps an asyncio event loop marked as running in the test thread for as long
as it is started. So Playwright and the browser live for this package (``scope="package"``: one
browser for every end-to-end test, stopped when the last one ends) rather than the whole session,
and ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set only meanwhile; otherwise the loop would leak into the
rest of the suite (``asyncio.run`` and ``async_to_sync`` refuse to run inside a running loop).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image as PILImage
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PASSWORD = "correct-horse-battery"
TIMEOUT_MS = 15_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/e2e carries the ``e2e`` marker (``-m "not e2e"`` skips them)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Keep each phase's report on the item so ``page`` can tell that its test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def frontend_index() -> Path:
    """The built UI; the end-to-end tests cannot run without it."""
    index = Path(settings.FRONTEND_DIST_DIR) / "index.html"
    if not index.is_file():
        pytest.fail(
            f"{index} is missing: run `make frontend` (npm ci && npm run build in frontend/) "
            "before the end-to-end tests",
            pytrace=False,
        )
    return index


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    """Playwright, with Django's async-safety check off while its event loop runs.

    The check would refuse ORM calls made by the test thread (fixtures, assertions) because
    Playwright's loop counts as running there; the ORM calls themselves stay synchronous.
    """
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as instance:
            yield instance
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser(playwright: Playwright, frontend_index: Path) -> Iterator[Browser]:
    """One headless Chromium for the whole session (each test gets its own context)."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package", pytrace=False)
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("E2E_SCREENSHOT_DIR")
    if chosen:
        path = Path(chosen)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("e2e-screenshots")


@pytest.fixture
def page(
    browser: Browser,
    live_server: object,
    request: pytest.FixtureRequest,
    screenshot_dir: Path,
) -> Iterator[Page]:
    """A fresh browser context (no cookies) on the live server; relative URLs resolve to it."""
    context = browser.new_context(
        base_url=live_server.url,  # type: ignore[attr-defined]
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
        path = screenshot_dir / f"{name}.png"
        try:
            page.screenshot(path=str(path), full_page=True)
            print(f"\nscreenshot of the failed page: {path}\nURL: {page.url}")
        except Exception as exc:  # a crashed page must not hide the test's own failure
            print(f"\nno screenshot ({exc})")
        if errors:
            print("JavaScript errors:\n" + "\n".join(errors))
    context.close()


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Sign in through the sign-in page and wait until the app shows the signed-in user."""
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("current-user").filter(has_text=username).wait_for()


@pytest.fixture
def login() -> Callable[..., None]:
    """The ``login(page, username, password)`` helper (``sign_in``) as a fixture."""
    return sign_in


def png_bytes(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    """A small solid-colour RGB PNG; distinct colours give distinct checksums."""
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()
