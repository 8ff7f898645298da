"""The rendered book in a real headless Chromium, served from 127.0.0.1 with no network.

For every page of the table of contents: MathJax typeset every equation (no raw TeX left, no
MathJax error node), no TeX source left in the prose a reader sees, every image loaded, every
in-book link with a fragment ({eq}, {numref}, citations) lands on an element that exists, no code
box or page scrolls sideways at 1280 px, no request left 127.0.0.1, and the console stayed free of
errors. Across the book: the offline search finds each chapter by a word of its title, and each
chapter's download button serves a valid notebook. One full-page screenshot per page is saved
under _build/screenshots/ for people to look at.

Needs the HTML built first (`jupyter-book build .`) and Debian's chromium at /usr/bin/chromium.
"""

import functools
import http.server
import json
import re
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
CHAPTERS = [p for p in PAGES if p.count("/") >= 2]

# Text a reader sees in the article, outside typeset math, code, and cell outputs (stored program
# output, where `x_{t-1}` is what the program printed); and the book's ledger tables, which quote
# the checks' plain-text claims. TeX there means a formula the Markdown parser did not recognise.
RAW_TEX_IN_PROSE = r"""() => {
    const skip = 'mjx-container, .math, pre, code, script, style, .cell_output, ' +
                 'table.ledger-checks, table.ledger-errata';
    const pattern = /\$|\\frac|\\begin|_\{|\^\{/;
    const walker = document.createTreeWalker(
        document.querySelector('article') || document.body, NodeFilter.SHOW_TEXT);
    const found = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (node.parentElement.closest(skip)) continue;
        if (pattern.test(node.textContent)) found.push(node.textContent.trim().slice(0, 120));
    }
    return found;
}"""

# A box that scrolls sideways hides the end of its lines; the page itself must not scroll either.
HORIZONTAL_OVERFLOW = r"""() => {
    const found = [];
    const root = document.documentElement;
    if (root.scrollWidth > root.clientWidth + 1) found.push(`page ${root.scrollWidth}px`);
    const boxes = 'article pre, article .pst-scrollable-table-container';
    for (const box of document.querySelectorAll(boxes)) {
        if (box.scrollWidth > box.clientWidth + 1) {
            found.push(`${box.tagName} ${box.scrollWidth}>${box.clientWidth}: ` +
                       box.textContent.trim().slice(0, 80));
        }
    }
    return found;
}"""

# Every in-book link with a fragment must name an element of its target page.
BROKEN_FRAGMENT_LINKS = r"""async () => {
    const broken = [];
    const pages = new Map();
    for (const link of document.querySelectorAll('article a[href*="#"]')) {
        const url = new URL(link.href);
        if (url.origin !== location.origin || !url.hash || url.hash === '#') continue;
        const id = decodeURIComponent(url.hash.slice(1));
        let doc = document;
        if (url.pathname !== location.pathname) {
            if (!pages.has(url.pathname)) {
                const response = await fetch(url.pathname);
                const text = response.ok ? await response.text() : '';
                pages.set(url.pathname, new DOMParser().parseFromString(text, 'text/html'));
            }
            doc = pages.get(url.pathname);
        }
        if (!doc.getElementById(id)) broken.push(link.href.replace(location.origin, ''));
    }
    return broken;
}"""


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
    raw_tex = page.evaluate(RAW_TEX_IN_PROSE)
    overflowing = page.evaluate(HORIZONTAL_OVERFLOW)
    broken_links = page.evaluate(BROKEN_FRAGMENT_LINKS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{page_file.replace('/', '__')}.png"), full_page=True)
    context.close()

    if page_file.startswith("book/") and page_file.count("/") >= 2:
        assert math["total"] > 0, "a chapter without typeset mathematics"
    assert math["untypeset"] == [], "equations left as raw TeX"
    assert math["errors"] == 0, "MathJax reported errors"
    assert raw_tex == [], "TeX source left in the prose (outside typeset math)"
    assert overflowing == [], "boxes that scroll sideways at 1280 px (code lines too long?)"
    assert broken_links == [], "links whose fragment names no element of the target page"
    assert images == [], "images that did not load"
    assert outside == [], "requests that left 127.0.0.1"
    assert failed == [], "failed requests"
    assert console_errors == [], "console errors"


def chapter_title(page_file: str) -> str:
    source = (ROOT / f"{page_file}.ipynb").read_text()
    return re.search(r"# ([^\n\\\"]+)", source).group(1)


@pytest.mark.parametrize("page_file", CHAPTERS, ids=CHAPTERS)
def test_offline_search_finds_the_chapter_by_a_title_word(server, browser, page_file):
    words = re.findall(r"[A-Za-z]{6,}", chapter_title(page_file))
    word = max(words, key=len).lower()
    page = browser.new_page()
    page.route("**/*", lambda route: route.continue_()
               if urlparse(route.request.url).hostname == "127.0.0.1" else route.abort())
    page.goto(f"{server}/search.html?q={word}", wait_until="load")
    page.wait_for_selector("#search-results li, .search-summary", timeout=20_000)
    page.wait_for_function(
        "() => document.querySelector('.search-summary')?.textContent.trim().length > 0",
        timeout=20_000,
    )
    hits = page.eval_on_selector_all(
        "#search-results li a", "links => links.map(a => a.getAttribute('href'))"
    )
    page.close()
    assert any(page_file in href for href in hits), f"searching {word!r} gave {hits}"


@pytest.mark.parametrize("page_file", CHAPTERS, ids=CHAPTERS)
def test_download_button_serves_the_notebook(server, browser, page_file):
    page = browser.new_page()
    page.goto(f"{server}/{page_file}.html", wait_until="load")
    href = page.eval_on_selector_all(
        'a[href$=".ipynb"]', "links => links.map(a => a.href)"
    )
    assert href, "no download-as-notebook link on the page"
    response = page.request.get(href[0])
    status, body = response.status, response.text()
    page.close()
    assert status == 200, f"{href[0]}: HTTP {status}"
    notebook = json.loads(body)
    assert notebook["nbformat"] == 4 and notebook["cells"], "not a notebook"


def test_ledger_counts_equal_the_records_in_the_notebooks(server, browser):
    from exderiv.ledger import read_chapter

    page = browser.new_page()
    page.goto(f"{server}/book/ledger.html", wait_until="load")
    rows = page.eval_on_selector_all(
        "table.ledger-status tbody tr",
        "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))",
    )
    check_rows = page.locator("table.ledger-checks tbody tr").count()
    page.goto(f"{server}/book/errata.html", wait_until="load")
    errata_rows = page.locator("table.ledger-errata tbody tr").count()
    page.close()

    ledgers = [read_chapter(ROOT / f"{c}.ipynb", ROOT) for c in CHAPTERS]
    expected = [
        [c.title, str(len(c.equation_labels)), str(len(c.checks)),
         str(c.wrong_versions_caught), str(len(c.errata))]
        for c in ledgers
    ]
    # Sphinx typesets quotes (smartquotes); the counts are what must agree.
    straight = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
    assert [[row[0].translate(straight), *row[1:5]] for row in rows[:-1]] == expected
    assert rows[-1][2] == str(sum(len(c.checks) for c in ledgers))
    assert check_rows == sum(len(c.checks) for c in ledgers)
    assert errata_rows == sum(len(c.errata) for c in ledgers)
