"""Browser tests: Debian's Chromium, headless, driven by Selenium through Debian's chromedriver,
against pytest-django's live server (a real HTTP server in a thread of the test process, on the
test database; it serves the static files, drf-spectacular-sidecar's Swagger UI among them).

One Chromium per test process (per pytest-xdist worker), started on first use; each test gets it
with the live server's cookies and storage cleared, on a transactional database (the server's
thread must see what the test wrote, and the test what the server wrote).

Without /usr/bin/chromium or /usr/bin/chromedriver (elsewhere: ``BROWSER_CHROMIUM``,
``BROWSER_CHROMEDRIVER``) the tests skip, naming the Debian packages to install; with
``BROWSER_TESTS_REQUIRED=1`` (CI sets it in .ci/run) they fail instead. Selenium never
goes to the network: the driver and the browser are given by path and ``SE_OFFLINE`` is set, so
Selenium Manager downloads nothing.

A failing test leaves a screenshot and the page's HTML under .artifacts/browser/ (git-ignored),
named after the test (``pytest_runtest_makereport`` below).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".artifacts" / "browser"
CHROMIUM = Path(os.environ.get("BROWSER_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("BROWSER_CHROMEDRIVER", "/usr/bin/chromedriver"))
PACKAGES = "chromium chromium-driver"
# Headless, as root, with no network of its own: no sync, no component or field-trial downloads.
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
    "--window-size=1280,1024",
]
# How long an explicit wait waits for the page before the test fails (never a fixed sleep).
WAIT_SECONDS = 15
# How long the live server keeps a connection that sends no request open.
IDLE_SECONDS = 30


class LiveHTTPServer(ThreadedWSGIServer):
    """The live server's HTTP server, whose request threads its stop waits for.

    Django's lets them run on as daemon threads. Chromium keeps its connections to the server
    open between requests, so their threads outlive the test that opened them, and each closes
    the database connections of its thread when its connection ends: on SQLite that is the test
    process's own in-memory connection, which the server shares only while it runs. Here the
    threads are joined when the server stops (after the browser has quit), and a connection left
    idle for IDLE_SECONDS is closed, so that a client that never hangs up cannot hold the stop."""

    daemon_threads = False
    block_on_close = True

    def get_request(self):
        request, address = super().get_request()
        request.settimeout(IDLE_SECONDS)
        return request, address

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], TimeoutError):
            return  # an idle keep-alive connection, closed as any server closes one
        super().handle_error(request, client_address)


@pytest.fixture(scope="session")
def browser_installed() -> None:
    """Skip (or fail, with BROWSER_TESTS_REQUIRED=1) where Chromium or chromedriver is missing."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        reason = f"browser tests need {' and '.join(missing)}: apt-get install {PACKAGES} (Debian packages)"
        if os.environ.get("BROWSER_TESTS_REQUIRED") == "1":
            pytest.fail(f"BROWSER_TESTS_REQUIRED=1 but {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def live_server(request, browser_installed, django_db_setup) -> Iterator:
    """pytest-django's live server (static files served), on a LiveHTTPServer; it stops before the
    test database is dropped (its threads hold connections to it)."""
    from pytest_django.live_server_helper import LiveServer

    address = request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    server = LiveServer(address, start=False)
    server.thread.server_class = LiveHTTPServer
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium(browser_installed, live_server, tmp_path_factory) -> Iterator:
    """The test process's headless Chromium (a Selenium WebDriver), with a fresh profile. It quits
    before the live server stops (it is set up after it)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SE_OFFLINE", "true")  # Selenium Manager: never download a driver or browser
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
        driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(WAIT_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(chromium, live_server, transactional_db) -> Iterator:
    """The Chromium, for one test against ``live_server``; the origin's cookies and storage are
    cleared afterwards, so no test sees another's session or Swagger authorization."""
    yield chromium
    chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})
    chromium.execute_cdp_cmd("Storage.clearDataForOrigin", {"origin": live_server.url, "storageTypes": "all"})
    chromium.get("about:blank")


@pytest.fixture
def wait(chromium):
    """``wait.until(condition)``: an explicit wait of up to WAIT_SECONDS on the browser."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(chromium, WAIT_SECONDS)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing browser test saves what the browser showed: a screenshot and the page's HTML."""
    report = yield
    driver = getattr(item, "funcargs", {}).get("browser")
    if report.failed and report.when == "call" and hasattr(driver, "save_screenshot"):
        _save_artifacts(driver, item.nodeid, report)
    return report


def _save_artifacts(driver, nodeid: str, report) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.removeprefix("tests/browser/"))
    saved = []
    try:
        if driver.save_screenshot(f"{stem}.png"):
            saved.append(f"{stem}.png")
        Path(f"{stem}.html").write_text(f"<!-- {driver.current_url} -->\n{driver.page_source}", encoding="utf-8")
        saved.append(f"{stem}.html")
    except Exception as error:  # noqa: BLE001 - the browser may be gone; the test's own failure matters
        saved.append(f"(could not save the page: {error!r})")
    report.sections.append(("browser artifacts", "\n".join(saved)))
