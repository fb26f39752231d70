"""The web console, driven end to end in headless Chromium (Debian's /usr/bin/chromium via
Playwright; no browser is downloaded) against the real service: MiniLM, Qdrant Edge, SQLite
and the bundled GGUF models. Each view's screenshot goes to bench/results/screens/."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.answering.prompts import is_idk
from app.core.auth import create_key
from app.evaluation.summary import save_summary
from tests.fixtures import FLEET_DOC, FLEET_TURNS, REPO, LiveServer, empty_service

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("FACTVAULT_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENS = REPO / "bench" / "results" / "screens"
# Flags for a root user on a machine with no network beyond package mirrors: without the
# background-networking ones Chromium keeps trying (and failing) to reach Google.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

FACT_DOC = """# Lighthouse maintenance

The Skerrow Point lighthouse lens is cleaned every 19 days by the keeper on duty.
Its foghorn was replaced in 2011 with an electric diaphone.
"""
QUESTION = "How often is the Skerrow Point lighthouse lens cleaned?"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium; .ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, minilm, models_dir) -> Iterator[LiveServer]:
    state = empty_service(
        tmp_path_factory.mktemp("console"), minilm, models_dir, default_model="qwen2.5-coder-1.5b"
    )
    with LiveServer(state) as live:
        yield live
    state.close()


@pytest.fixture(scope="module")
def screens() -> Path:
    SCREENS.mkdir(parents=True, exist_ok=True)
    return SCREENS


def open_page(browser, server: LiveServer, **context_options):
    context = browser.new_context(**context_options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server.url + "/")
    page.wait_for_selector("#active-model:not(:text('model: …'))")
    return context, page, errors


def ask(page, question: str, fresh: bool = True) -> None:
    """Ask in the console; ``fresh``: in a new conversation (no earlier turns)."""
    page.click("nav a[data-view=ask]")
    if fresh:
        page.click("#new-conversation")
    page.fill("#question", question)
    page.press("#question", "Enter")  # the keyboard path: Enter sends
    page.wait_for_function(
        "() => document.querySelector('#answer-text').getAttribute('aria-busy') === 'false'"
        " && document.querySelector('#answer-meta').textContent.startsWith('Answered by')",
        timeout=180_000,
    )


def swap_while_asking(page, server: LiveServer, model: str) -> int | None:
    """Click Activate for ``model`` while another client asks a question; returns that
    question's HTTP status once the page reports the swap done."""
    during: dict[str, int] = {}

    def question() -> None:
        r = httpx.post(
            f"{server.url}/v1/query", json={"question": QUESTION, "max_tokens": 24}, timeout=300
        )
        during["status"] = r.status_code

    asker = threading.Thread(target=question)
    asker.start()
    page.click(f"button[aria-label='Activate {model}']")
    page.wait_for_selector("#swap-status[data-phase=done]", timeout=120_000)
    asker.join(timeout=300)
    assert f"Now answering with {model}" in page.inner_text("#swap-text")
    active_row = page.locator("#models-table tr[aria-current=true]")
    assert active_row.get_attribute("data-model") == model
    assert page.locator("#models-table code").first.get_attribute("title")  # the full sha256
    return during.get("status")


def test_upload_ask_swap_delete_in_the_browser(browser, server, screens) -> None:
    context, page, errors = open_page(browser, server, viewport={"width": 1200, "height": 900})
    try:
        # --- Documents: one file chosen through the file input, a broken one dropped.
        page.click("nav a[data-view=documents]")
        page.set_input_files(
            "#file-input",
            files=[{"name": "lighthouse.md", "mimeType": "text/markdown",
                    "buffer": FACT_DOC.encode()}],
        )  # fmt: skip
        page.wait_for_selector("#uploads li[data-file='lighthouse.md'][data-outcome]")
        drop = page.evaluate_handle(
            """() => {
                const dt = new DataTransfer();
                dt.items.add(new File(['%PDF-1.7 this is not really a pdf'], 'broken.pdf',
                                      {type: 'application/pdf'}));
                return dt;
            }"""
        )
        page.dispatch_event("#dropzone", "drop", {"dataTransfer": drop})
        page.wait_for_selector("#uploads li[data-file='broken.pdf'][data-outcome]")
        good = page.locator("#uploads li[data-file='lighthouse.md']")
        bad = page.locator("#uploads li[data-file='broken.pdf']")
        assert good.get_attribute("data-outcome") == "stored"
        assert "Stored (new): 1 chunk" in good.locator(".result").inner_text()
        assert bad.get_attribute("data-outcome") == "failed"
        assert "pdf" in bad.locator(".result").inner_text().lower()
        assert page.locator("#uploads progress").first.get_attribute("value") == "100"
        row = page.locator("#documents-table tbody tr", has_text="lighthouse.md")
        assert row.count() == 1
        assert int(row.locator("td.num").first.inner_text()) >= 1
        assert page.locator("#documents-table tbody tr", has_text="broken.pdf").count() == 0
        page.screenshot(path=screens / "documents.png", full_page=True)

        # --- Ask: the answer streams in, cites the uploaded chunk, shows the model.
        ask(page, QUESTION)
        assert "19" in page.inner_text("#answer-text")
        meta = page.inner_text("#answer-meta")
        assert "qwen2.5-coder-1.5b" in meta and "sha256" in meta and "total" in meta
        cite = page.locator("#answer-text a.cite").first
        cite.click()
        n = cite.inner_text().strip("[]")
        source = page.locator(f"#source-{n}")
        assert page.evaluate("document.activeElement.id") == f"source-{n}"
        assert "lighthouse.md" in source.inner_text()
        assert "cleaned every 19 days" in source.locator(".source-text").inner_text()
        marked = {m.lower() for m in source.locator("mark").all_inner_texts()}
        assert {"lighthouse", "cleaned"} <= marked and "the" not in marked  # question words
        page.screenshot(path=screens / "ask.png", full_page=True)

        # --- Models: swap to Qwen-0.5B while a question is being answered over the API;
        # the next answer in the page comes from it. Then back to 1.5B the same way.
        page.click("nav a[data-view=models]")
        assert swap_while_asking(page, server, "qwen2.5-coder-0.5b") == 200
        page.screenshot(path=screens / "models.png", full_page=True)
        ask(page, QUESTION)
        assert "Answered by qwen2.5-coder-0.5b" in page.inner_text("#answer-meta")
        page.click("nav a[data-view=models]")
        assert swap_while_asking(page, server, "qwen2.5-coder-1.5b") == 200
        ask(page, QUESTION)
        assert "Answered by qwen2.5-coder-1.5b" in page.inner_text("#answer-meta")
        assert page.locator("#sources li", has_text="cleaned every 19 days").count() == 1

        # --- Delete the document: the same question now gets "I don't know".
        page.click("nav a[data-view=documents]")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("button[aria-label='Delete upload/lighthouse.md']")
        page.wait_for_function(
            "() => !document.querySelector('#documents-table tbody').textContent"
            ".includes('lighthouse.md')"
        )
        ask(page, QUESTION)
        assert is_idk(page.inner_text("#answer-text").strip())
        assert page.locator("#sources li").count() == 0

        # --- Index: the active version, counts, and the latest eval figures.
        # A row as `factvault eval` saves it, labelled as what it is: not a measurement.
        save_summary(
            server.state.settings.data_dir, "evaluation_set_dev.jsonl", 124,
            [{"config": "console-test-row", "describe": "written by tests/test_console.py, "
              "not a measurement", "pass@5": 0.5, "pass@10": 0.625, "pass@20": 0.75,
              "mrr": 0.4, "ms_per_query": 1.0}],
        )  # fmt: skip
        page.click("nav a[data-view=index]")
        page.wait_for_selector("#eval-table:not([hidden]) tbody tr")
        facts = page.inner_text("#index-summary")
        assert "all-MiniLM-L6-v2" in facts or "minilm" in facts.lower()
        assert "Documents\n0" in facts and "Points (vector store)\n0" in facts
        assert "console-test-row" in page.inner_text("#eval-table")
        assert "62.50" in page.inner_text("#eval-table")  # shown as a percentage
        page.screenshot(path=screens / "index.png", full_page=True)
        assert errors == []
    finally:
        context.close()


def test_phone_width_keyboard_and_contrast(browser, server, screens) -> None:
    """Every view fits a 390 px screen, every control has a name, text meets WCAG AA."""
    context, page, errors = open_page(
        browser, server, viewport={"width": 390, "height": 844}, is_mobile=True,
        has_touch=True, device_scale_factor=2,
    )  # fmt: skip
    try:
        # Keyboard only: Tab reaches the skip link, then the nav; Enter opens a view.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.dataset.view") == "documents"
        page.keyboard.press("Enter")
        page.wait_for_selector("#view-documents:not([hidden])")
        for view in ("ask", "documents", "models", "index"):
            page.click(f"nav a[data-view={view}]")
            page.wait_for_selector(f"#view-{view}:not([hidden])")
            page.wait_for_load_state("networkidle")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{view}: page is {overflow}px wider than the screen"
            unnamed = page.evaluate(UNNAMED_CONTROLS)
            assert unnamed == [], f"{view}: controls without an accessible name: {unnamed}"
            low = page.evaluate(LOW_CONTRAST)
            assert low == [], f"{view}: text below 4.5:1 contrast: {low}"
            page.screenshot(path=screens / f"phone-{view}.png", full_page=True)
        assert errors == []
    finally:
        context.close()


def test_api_key_is_asked_for_and_kept_in_the_tab_only(
    browser, tmp_path_factory, minilm, models_dir, screens
) -> None:
    state = empty_service(
        tmp_path_factory.mktemp("console-auth"), minilm, models_dir,
        default_model="smollm2-135m", auth_enabled=True,
    )  # fmt: skip
    with state.runtime.db.session() as s:
        admin = create_key(s, "console-admin", "admin")
        reader = create_key(s, "console-reader", "read")
    try:
        with LiveServer(state) as live:
            context = browser.new_context()
            page = context.new_page()
            page.goto(live.url + "/#documents")
            page.wait_for_selector("#key-panel:not([hidden])")
            assert "API key is required" in page.inner_text("#key-reason")
            page.screenshot(path=screens / "api-key.png", full_page=True)

            page.fill("#api-key", "fv_not_a_real_key")
            page.press("#api-key", "Enter")
            page.wait_for_selector("#key-panel:not([hidden])")
            page.wait_for_function(
                "() => document.querySelector('#key-reason').textContent.includes('unknown')"
            )

            page.fill("#api-key", reader)
            page.click("#key-form button[type=submit]")
            page.wait_for_selector("#notice:not([hidden])")
            assert "scope" in page.inner_text("#notice")  # a read key cannot list documents
            page.wait_for_selector("#active-model:text('model: smollm2-135m')")  # but can read

            page.click("#key-toggle")
            page.fill("#api-key", admin)
            page.click("#key-form button[type=submit]")
            page.wait_for_selector("#documents-caption:text('Stored documents (0')")
            assert page.evaluate("sessionStorage.getItem('factvault.apiKey')") == admin
            assert page.evaluate("localStorage.length") == 0
            assert admin not in page.content()

            fresh = browser.new_context().new_page()  # another tab session: no key
            fresh.goto(live.url + "/#documents")
            fresh.wait_for_selector("#key-panel:not([hidden])")
            fresh.context.close()
            context.close()
    finally:
        state.close()


def test_console_page_is_served_with_a_strict_policy(server) -> None:
    r = httpx.get(server.url + "/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "script-src 'self'" in r.headers["content-security-policy"]
    for asset in ("/console/console.js", "/console/console.css"):
        assert httpx.get(server.url + asset).status_code == 200
    assert "/" not in httpx.get(server.url + "/openapi.json").json()["paths"]


UNNAMED_CONTROLS = """() => {
  const named = (el) => {
    if (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')) return true;
    if (el.labels && el.labels.length) return true;
    return (el.textContent || '').trim().length > 0;
  };
  return [...document.querySelectorAll('button, input, textarea, select, a[href], progress')]
    .filter((el) => el.offsetParent !== null || el.type === 'file')
    .filter((el) => !named(el))
    .map((el) => el.outerHTML.slice(0, 80));
}"""

# WCAG 2 contrast of every visible text element against its nearest opaque background.
LOW_CONTRAST = """() => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const c = rgb(getComputedStyle(node).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.offsetParent === null) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const style = getComputedStyle(el);
    const fg = rgb(style.color).slice(0, 3);
    const [a, b] = [lum(fg), lum(background(el))].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 4.5) out.push(`${el.tagName}.${el.className}: ${ratio.toFixed(2)}`);
  }
  return out;
}"""


def test_a_conversation_thread_in_the_browser(browser, server, screens) -> None:
    """Three turns in one conversation: earlier turns stack above the latest answer, each
    with its model and sources; a follow-up shows what it was rewritten to; the caller's
    conversation list reopens the thread; "New conversation" starts empty."""
    httpx.post(
        f"{server.url}/v1/documents", files={"files": ("fleet.md", FLEET_DOC.encode())}, timeout=120
    ).raise_for_status()
    context, page, errors = open_page(browser, server)
    try:
        for n, (question, expected) in enumerate(FLEET_TURNS):
            ask(page, question, fresh=n == 0)
            assert expected in page.inner_text("#answer-text").lower()
            assert "fleet.md" in page.inner_text("#sources")
        assert page.locator("#thread li").count() == 2
        assert "qwen2.5-coder-1.5b" in page.inner_text("#thread li >> nth=1")
        assert page.inner_text("#answer-rewrite").startswith("searched for:")
        assert "van" in page.inner_text("#answer-rewrite").lower()
        page.screenshot(path=str(screens / "conversation.png"), full_page=True)
        page.focus("#conversation-list")
        page.wait_for_function(
            "() => document.querySelectorAll('#conversation-list option').length > 1"
        )
        value = page.locator("#conversation-list option").nth(1).get_attribute("value")
        page.click("#new-conversation")
        assert page.locator("#thread li").count() == 0
        page.select_option("#conversation-list", value)
        page.wait_for_function("() => document.querySelectorAll('#thread li').length === 3")
        assert errors == []
    finally:
        context.close()
