"""Browser tests: the app on a loopback port, Playwright driving Debian's headless Chromium.

No browser is downloaded: Playwright launches /usr/bin/chromium (installed by `make test`).
Screenshots land in var/screenshots/ to be looked at.
"""
from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from webapp import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PASSWORD = "demo-passwort-2026"


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
def live_app(tmp_path, sqlite_template):
    """The app with the demo data, served on 127.0.0.1 by a threaded WSGI server."""
    path = tmp_path / "browser.db"
    shutil.copy(sqlite_template, path)
    app = create_app({"ENV_NAME": "test", "DATABASE_URL": f"sqlite:///{path}", "CLOCK": "simulation",
                      "SECRET_KEY": "browser-test", "WTF_CSRF_TIME_LIMIT": None})
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()
    thread.join(timeout=10)
    app.extensions["workflows"].store.dispose()


@pytest.fixture
def page(browser, live_app):
    context = browser.new_context(base_url=live_app.config["BASE_URL"], locale="de-DE",
                                  viewport={"width": 1300, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def login(page, username: str) -> None:
    page.goto("/anmelden")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()


def logout(page) -> None:
    page.get_by_role("button", name="Abmelden").click()


def screenshot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    target = SHOTS / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000        # a rendered page, not a blank one
    return target
