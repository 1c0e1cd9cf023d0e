"""End-to-end fixtures: the real app on a loopback port, driven by Debian's Chromium.

The server runs in a thread of the test process over a SQLite file, with the
same ``Engine`` (and frozen clock) the test holds, so a test can set up data
and move time through the engine and then act through the browser. The
browser is ``/usr/bin/chromium`` (package ``chromium``), never a downloaded
one; ``--no-sandbox`` because the tests run as root.
"""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from werkzeug.serving import make_server

from engine import Engine
from engine.clock import FrozenClock
from tests.web.conftest import PASSWORD, give_everyone_the_password
from tests.fixtures.org import build_tree
from web import create_app

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 860}}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing and CI=true: install the chromium package")
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class LiveServer:
    def __init__(self, engine: Engine, clock: FrozenClock) -> None:
        self.engine = engine
        self.clock = clock
        self.app = create_app({"ENGINE": engine, "SECRET_KEY": "e2e-secret"})
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "LiveServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture
def e2e_clock() -> FrozenClock:
    return FrozenClock("2026-03-02T01:00:00+00:00")


@pytest.fixture
def live_engine(tmp_path: Path, sqlite_template: Path, e2e_clock: FrozenClock) -> Iterator[Engine]:
    """An engine over a fresh SQLite file with the small tree; everyone has PASSWORD."""
    path = tmp_path / "e2e.db"
    shutil.copy(sqlite_template, path)
    eng = Engine(f"sqlite:///{path}", clock=e2e_clock)
    build_tree(eng)
    give_everyone_the_password(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def live_server(live_engine: Engine, e2e_clock: FrozenClock) -> Iterator[LiveServer]:
    server = LiveServer(live_engine, e2e_clock).start()
    yield server
    server.stop()


def _context(browser: Any, live_server: LiveServer, options: dict[str, Any]) -> Any:
    context = browser.new_context(base_url=live_server.url, locale="zh-CN",
                                  timezone_id="Asia/Shanghai", accept_downloads=True, **options)
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def phone(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A page in a 375 px wide phone-sized browser context."""
    context = _context(browser, live_server, PHONE)
    yield context.new_page()
    context.close()


@pytest.fixture
def desktop(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    context = _context(browser, live_server, DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture
def new_page(browser: Any, live_server: LiveServer) -> Iterator[Callable[..., Any]]:
    """Open more pages, each in its own context (another person signed in)."""
    contexts: list[Any] = []

    def _open(kind: str = "desktop") -> Any:
        context = _context(browser, live_server, PHONE if kind == "phone" else DESKTOP)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


def sign_in(page: Any, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/login" not in page.url, page.content()[:2000]


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save docs/screenshots/<name>.png (the README shows them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def no_horizontal_scroll(page: Any) -> bool:
    """The page fits its viewport's width (wide tables scroll inside their own box)."""
    return bool(page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth + 1"))
