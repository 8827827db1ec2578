"""Browser tests: the app on a loopback port, Playwright driving Debian's headless Chromium.

No browser is downloaded: Playwright launches /usr/bin/chromium (installed by `make test`).
Screenshots land in var/screenshots/ to be looked at (helpers.screenshot).
"""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from ..helpers import CHROMIUM, DEMO_TODAY


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium fehlt: `make test` installiert Debians Paket chromium.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture
def live_app(make_app):
    """The app with the demo data, served on 127.0.0.1 by a threaded WSGI server."""
    app = make_app(*DEMO_TODAY, WTF_CSRF_TIME_LIMIT=None)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def page(browser, live_app):
    context = browser.new_context(base_url=live_app.config["BASE_URL"], locale="de-DE",
                                  viewport={"width": 1300, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
