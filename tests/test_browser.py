"""The rendered book in a real headless Chromium, served from 127.0.0.1 with no network.

For every page of the table of contents: MathJax typeset every equation (no raw TeX left, no
MathJax error node), every image loaded, no request left 127.0.0.1, and the console stayed free of
errors. One full-page screenshot per page is saved under _build/screenshots/ for people to look at.

Needs the HTML built first (`jupyter-book build .`) and Debian's chromium at /usr/bin/chromium.
"""

import functools
import http.server
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
from test_structure import toc_files

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Chromium asks every site for /favicon.ico by itself; the book ships none, so that one 404 is
# the browser's habit, not a broken page.
BROWSER_OWN_REQUESTS = {"/favicon.ico"}


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass


@pytest.fixture(scope="module")
def server():
    if not (HTML / "index.html").exists():
        pytest.fail("no built book at _build/html: run `jupyter-book build .` first")
    handler = functools.partial(QuietHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


PAGES = toc_files()


@pytest.mark.parametrize("page_file", PAGES, ids=PAGES)
def test_page_renders_offline(server, browser, page_file):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    outside, failed, console_errors = [], [], []

    def route(route_request):
        if urlparse(route_request.request.url).hostname == "127.0.0.1":
            route_request.continue_()
        else:
            outside.append(route_request.request.url)
            route_request.abort()

    def on_response(response):
        path = urlparse(response.url).path
        if response.status >= 400 and path not in BROWSER_OWN_REQUESTS:
            failed.append(f"{response.status} {response.url}")

    def on_console(message):
        if message.type == "error" and not any(p in message.text for p in BROWSER_OWN_REQUESTS):
            console_errors.append(message.text)

    page.route("**/*", route)
    page.on("response", on_response)
    page.on("requestfailed", lambda request: failed.append(f"failed {request.url}"))
    page.on("console", on_console)
    page.on("pageerror", lambda error: console_errors.append(f"uncaught: {error}"))

    page.goto(f"{server}/{page_file}.html", wait_until="load")
    # Sphinx loads MathJax only on pages that contain mathematics.
    if page.locator(".math").count():
        page.wait_for_function("() => window.MathJax?.startup?.promise", timeout=20_000)
        page.evaluate("() => MathJax.startup.promise")

    math = page.evaluate(
        """() => {
            const nodes = [...document.querySelectorAll('.math')];
            return {
                total: nodes.length,
                untypeset: nodes.filter(n => !n.querySelector('mjx-container'))
                                .map(n => n.textContent.slice(0, 80)),
                errors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length,
            };
        }"""
    )
    images = page.evaluate(
        """() => [...document.images]
            .filter(img => !(img.complete && img.naturalWidth > 0))
            .map(img => img.src)"""
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{page_file.replace('/', '__')}.png"), full_page=True)
    context.close()

    if page_file.startswith("book/") and page_file.count("/") >= 2:
        assert math["total"] > 0, "a chapter without typeset mathematics"
    assert math["untypeset"] == [], "equations left as raw TeX"
    assert math["errors"] == 0, "MathJax reported errors"
    assert images == [], "images that did not load"
    assert outside == [], "requests that left 127.0.0.1"
    assert failed == [], "failed requests"
    assert console_errors == [], "console errors"
