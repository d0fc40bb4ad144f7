"""The web console at ``/``, driven in a real headless Chromium (Playwright, Debian's chromium).

Waits are Playwright's bounded waits on selectors (the page's Content-Security-Policy forbids
evaluating strings, so nothing here evaluates JavaScript in the page). Screenshots of both
views land in the system temp folder for a person to look at.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright
from supertonic_server import Settings

from .conftest import API_KEY, LiveServer, fresh_metrics

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
WAIT_MS = 30_000
SHOTS = Path(tempfile.gettempdir())
SYNTHETIC_BANNER = "synthetic model — random weights, output is noise, not speech"


def find_chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(candidate)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = find_chromium()
    if executable is None:
        pytest.skip("Chromium not found (install Debian's: apt-get install -y chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Console:
    """One fresh browser context (empty localStorage) on a server's console."""

    def __init__(self, browser: Browser, server: LiveServer) -> None:
        self.server = server
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.page: Page = self.context.new_page()
        self.page.set_default_timeout(WAIT_MS)
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def open(self, fragment: str = "") -> Page:
        self.page.goto(f"{self.server.base_url}/{fragment}")
        self.page.wait_for_selector("#voice option", state="attached")
        self.page.wait_for_selector("#speak:enabled")
        return self.page

    def speak(self, *, voice: str, fmt: str) -> str:
        """Choose a voice and format, click Speak, wait until done; returns the request id."""
        page = self.page
        page.select_option("#voice", voice)
        page.select_option("#format", fmt)
        page.click("#speak")
        page.wait_for_selector("#ttfb[data-ms]", state="attached")
        page.wait_for_selector("#result-state:text-is('done')")
        page.wait_for_selector("#player[src^='blob:']", state="attached")
        page.wait_for_selector("#waveform[data-duration]", state="attached")
        return page.get_attribute("#response-meta", "data-request-id") or ""


@pytest.fixture()
def console(browser: Browser, live: LiveServer) -> Iterator[Console]:
    c = Console(browser, live)
    yield c
    c.context.close()


def test_speak_then_find_it_in_the_observatory(console: Console, live: LiveServer) -> None:
    with fresh_metrics(live):
        page = console.open()
        banner = page.locator("#banner-synthetic")
        assert banner.is_visible() and SYNTHETIC_BANNER in banner.inner_text()
        groups = [g.get_attribute("label") for g in page.locator("#voice optgroup").all()]
        assert groups == ["OpenAI voices", "Supertonic presets"]
        assert page.locator("#voice option").count() == 23
        assert page.locator("#lang option").count() == 33  # auto + 31 languages + na
        assert page.locator("#lang option[value=ko]").inner_text() == "Korean (ko)"

        request_id = console.speak(voice="nova", fmt="wav")
        assert request_id.startswith("req_")
        assert re.fullmatch(r"\d+ ms|\d+\.\d\d s", page.inner_text("#ttfb"))
        assert re.fullmatch(r"[\d.]+ (B|KiB|MiB)", page.inner_text("#bytes"))
        assert page.locator("#download").is_visible()
        assert page.get_attribute("#download", "download").endswith(".wav")
        assert "F4" in page.inner_text("#response-meta")  # nova is preset F4
        assert float(page.get_attribute("#waveform", "data-duration")) > 0
        snippet = page.inner_text("#snippet")
        assert live.base_url in snippet and '"nova"' in snippet
        page.screenshot(path=SHOTS / "supertonic-console.png", full_page=True)

        page.click("#tab-observatory")
        row = page.locator(f".wf-row[data-request-id='{request_id}']")
        row.wait_for()
        assert row.get_attribute("data-status") == "ok"
        page.wait_for_selector("#st-total:text-is('1')")
        assert page.inner_text("#ttfb-p50").endswith(("ms", " s"))
        # The rates come from the totals' growth between polls: a number from the second.
        expect(page.locator("#st-rps")).to_have_text(re.compile(r"\d+\.\d\d"))
        assert page.inner_text("#st-errors-sub") == "0.0% of the last minute"
        assert "SYNTHETIC" in page.inner_text("#obs-model")
        row.click()
        detail = page.locator("#detail")
        detail.wait_for()
        assert request_id in detail.inner_text() and "nova" not in detail.inner_text()
        page.screenshot(path=SHOTS / "supertonic-observatory.png", full_page=True)
    assert console.errors == []


@pytest.mark.parametrize("fmt", ["mp3", "pcm", "opus"])
def test_every_playback_path_ends_with_a_playable_file(console: Console, fmt: str) -> None:
    """mp3 plays while streaming (Media Source), pcm through Web Audio, the rest when complete."""
    page = console.open()
    console.speak(voice="M2", fmt=fmt)
    extension = {"mp3": ".mp3", "pcm": ".wav", "opus": ".ogg"}[fmt]
    assert page.get_attribute("#download", "download").endswith(extension)
    assert page.get_attribute("#download", "href").startswith("blob:")
    assert page.inner_text("#duration") not in ("—", "?")
    assert console.errors == []


def test_theme_and_view_persist_across_reloads(console: Console) -> None:
    page = console.open()
    assert page.get_attribute("html", "data-theme") == "dark"
    page.click("#theme-toggle")
    assert page.get_attribute("html", "data-theme") == "light"
    page.click("#tab-observatory")
    page.wait_for_selector("#view-observatory:visible")
    page.reload()
    page.wait_for_selector("#view-observatory:visible")
    assert page.get_attribute("html", "data-theme") == "light"
    assert page.locator("#view-console").is_hidden()
    page.screenshot(path=SHOTS / "supertonic-observatory-light.png", full_page=True)
    page.click("#pause")
    assert page.get_attribute("#pause", "aria-pressed") == "true"
    assert "Resume" in page.inner_text("#pause")
    page.click("#pause")
    assert page.get_attribute("#pause", "aria-pressed") == "false"


def test_snippets_follow_the_settings(console: Console, live: LiveServer) -> None:
    page = console.open()
    tabs = page.locator("#snippet-tabs button").all_inner_texts()
    expected = [
        "curl",
        "Python (OpenAI)",
        "Python (httpx)",
        "Pipecat",
        "LiveKit",
        "JavaScript",
        "Supertone SDK",
    ]
    assert tabs == expected
    page.select_option("#voice", "echo")
    page.select_option("#format", "flac")
    page.fill("#text", "Snippets update as you type.")
    for tab in ("curl", "openai", "httpx", "pipecat", "livekit", "js", "supertone"):
        page.click(f"#snippet-tab-{tab}")
        page.wait_for_selector(f"#snippet[data-tab={tab}]", state="attached")
        code = page.inner_text("#snippet")
        assert live.base_url in code and '"echo"' in code, (tab, code)
        if tab in ("curl", "openai", "httpx", "js"):
            assert "Snippets update as you type." in code and "flac" in code, (tab, code)
    # Supertone's SDK: one server_url change; its formats are wav and mp3 only
    assert f'server_url="{live.base_url}/supertone"' in code
    assert 'output_format="wav"' in code and "Snippets update as you type." in code
    assert "serverURL" in code  # the TypeScript SDK's one-line change too


def sent_body(console: Console) -> dict:
    """Speak, and return the JSON body the page posted to /v1/audio/speech."""
    page = console.page
    with page.expect_request(
        lambda r: r.method == "POST" and r.url.endswith("/v1/audio/speech")
    ) as request:
        console.speak(voice="F2", fmt="pcm")
    return request.value.post_data_json


def test_fast_start_is_sent_with_the_request(console: Console) -> None:
    page = console.open()
    assert page.inner_text("#first-chunk-steps-value") == "4"  # the server's default
    assert sent_body(console)["first_chunk_steps"] == 4
    page.fill("#first-chunk-steps", "3")
    assert page.inner_text("#first-chunk-steps-value") == "3"
    for tab in ("curl", "openai"):
        page.click(f"#snippet-tab-{tab}")
        assert '"first_chunk_steps": 3' in page.inner_text("#snippet"), tab
    body = sent_body(console)
    assert body["first_chunk_steps"] == 3 and body["total_steps"] == 8
    page.reload()  # remembered with the other settings
    page.wait_for_selector("#speak:enabled")
    assert page.input_value("#first-chunk-steps") == "3"
    assert console.errors == []


def test_fast_start_starts_from_the_server_default(browser: Browser, tuned: LiveServer) -> None:
    """``--first-chunk-steps 2``: the slider starts there, and "off" asks for all the steps."""
    console = Console(browser, tuned)
    try:
        page = console.open()
        assert page.input_value("#first-chunk-steps") == "2"
        assert sent_body(console)["first_chunk_steps"] == 2
        page.fill("#first-chunk-steps", "0")
        assert page.inner_text("#first-chunk-steps-value") == "off"
        body = sent_body(console)
        assert body["first_chunk_steps"] == body["total_steps"] == 8
    finally:
        console.context.close()
    assert console.errors == []


def test_api_key_is_sent_as_bearer_and_never_shown(browser: Browser, keyed: LiveServer) -> None:
    console = Console(browser, keyed)
    try:
        page = console.open()
        assert "required" in page.inner_text("#key-required")
        page.click("#speak")
        error = page.locator("#speak-error")
        error.wait_for()
        assert "401" in error.inner_text() and "API key" in error.inner_text()
        page.fill("#api-key", API_KEY)
        page.dispatch_event("#api-key", "change")
        console.speak(voice="alloy", fmt="mp3")
        assert page.locator("#speak-error").is_hidden()
        for tab in ("curl", "openai", "js", "supertone"):
            page.click(f"#snippet-tab-{tab}")
            code = page.inner_text("#snippet")
            assert "SUPERTONIC_API_KEY" in code and API_KEY not in code
        page.reload()  # the key is remembered in this browser
        page.wait_for_selector("#speak:enabled")
        assert page.input_value("#api-key") == API_KEY
    finally:
        console.context.close()
    # The only console errors are the browser's own notes about the refused (401) request.
    assert all("401" in e for e in console.errors), console.errors


def test_console_headers_forbid_loading_anything_from_elsewhere(live: LiveServer) -> None:
    page = httpx.get(f"{live.base_url}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    names = re.findall(r'(?:src|href)="/ui/([^"]+)"', page.text)
    assert names == ["console.css", "app.js"]
    for name in names + re.findall(
        r'from "/ui/([^"]+)"', httpx.get(f"{live.base_url}/ui/app.js").text
    ):
        asset = httpx.get(f"{live.base_url}/ui/{name}")
        assert asset.status_code == 200, name
        assert "http://" not in asset.text and "https://" not in asset.text, name
    assert "http://" not in page.text and "https://" not in page.text
    assert httpx.get(f"{live.base_url}/ui/nope.js").status_code == 404
    assert httpx.get(f"{live.base_url}/ui/config.json").json()["api_key_required"] is False


def test_no_ui_serves_no_console(base_settings: Settings) -> None:
    server = LiveServer(base_settings.model_copy(update={"ui_enabled": False, "warmup": False}))
    try:
        server.start(wait_ready=False)
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            missing = client.get("/")
            assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
            assert client.get("/ui/app.js").status_code == 404
            assert client.get("/ui/config.json").status_code == 404
            assert client.get("/metrics").status_code == 200
            assert client.get("/healthz").json()["ui_enabled"] is False
    finally:
        server.stop()


PHONE = {"width": 420, "height": 900}


def test_fits_a_phone_screen(browser: Browser, live: LiveServer) -> None:
    """At 420 px nothing sits off-screen: the status pill and theme button stay reachable."""
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(f"{live.base_url}/")
        page.wait_for_selector("#speak:enabled")
        outside = []
        for view in ("console", "observatory"):
            page.click(f"#tab-{view}")
            page.wait_for_selector(f"#view-{view}:visible")
            boxes = page.locator(
                f".topbar, .topbar *, .banner, #view-{view} .card, #view-{view} .stat, "
                f"#view-{view} .obs-toolbar, #view-{view} button"
            )
            for element in boxes.all():
                box = element.bounding_box() if element.is_visible() else None
                if box and (box["x"] < 0 or box["x"] + box["width"] > PHONE["width"] + 0.5):
                    outside.append(
                        (view, element.get_attribute("id") or element.get_attribute("class"))
                    )
        page.screenshot(path=SHOTS / "supertonic-console-phone.png", full_page=True)
        assert outside == []
    finally:
        context.close()


def test_an_error_clears_the_previous_result(console: Console) -> None:
    """A failed request shows its error, not the last clip and a TTFB it never had."""
    page = console.open()
    console.speak(voice="M2", fmt="wav")
    page.fill("#text", "word " * 900)  # 4500 characters: over the server's limit
    page.click("#speak")
    page.wait_for_selector("#result-state:text-is('error')")
    assert "4096" in page.inner_text("#speak-error")
    assert page.inner_text("#ttfb") == "—" and page.get_attribute("#ttfb", "data-ms") is None
    assert page.get_attribute("#player", "src") is None
    assert page.locator("#download").is_hidden()
    assert page.inner_text("#duration") == "—"
    console.errors.clear()  # the browser logs the failed fetch (400) itself


def test_docs_render_without_internet(browser: Browser, live: LiveServer) -> None:
    """``/docs`` loads Swagger UI from the server itself (no CDN: this box has no internet)."""
    page = browser.new_page()
    try:
        page.set_default_timeout(WAIT_MS)
        elsewhere: list[str] = []
        page.on(
            "request",
            lambda r: (
                None if r.url.startswith((live.base_url, "data:")) else elsewhere.append(r.url)
            ),
        )
        page.goto(f"{live.base_url}/docs")
        page.wait_for_selector(".swagger-ui .info .title:has-text('Supertonic TTS server')")
        page.wait_for_selector(".opblock-summary-path:has-text('/v1/audio/speech')")
        assert elsewhere == []
    finally:
        page.close()


@pytest.fixture(scope="module")
def lexical(
    base_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server with one pronunciation dictionary, ``--lexicon brands.json``."""
    path = tmp_path_factory.mktemp("lexicons") / "brands.json"
    path.write_text('{"SQL": "sequel"}', encoding="utf-8")
    settings = base_settings.model_copy(update={"lexicon_files": (str(path),), "warmup": False})
    server = LiveServer(settings).start()
    yield server
    server.stop()


def test_reading_a_dictionary_and_respellings_are_sent(
    browser: Browser, lexical: LiveServer
) -> None:
    console = Console(browser, lexical)
    try:
        page = console.open()
        body = sent_body(console)  # the defaults: read aloud, every dictionary, no entries
        assert not {"normalize", "lexicons", "pronunciations"} & set(body)
        page.select_option("#lexicon", "brands")
        page.fill("#pronunciations", "Nguyen = Win\n\nGIF = jif")
        body = sent_body(console)
        assert body["lexicons"] == ["brands"]
        assert body["pronunciations"] == {"Nguyen": "Win", "GIF": "jif"}
        page.click("#snippet-tab-openai")
        assert '"pronunciations": {"Nguyen":"Win","GIF":"jif"}' in page.inner_text("#snippet")
        page.select_option("#lexicon", "-")
        page.select_option("#normalize", "off")
        body = sent_body(console)
        assert body["lexicons"] == [] and body["normalize"] is False
        page.reload()  # remembered with the other settings
        page.wait_for_selector("#speak:enabled")
        assert page.input_value("#lexicon") == "-" and page.input_value("#normalize") == "off"
        assert page.input_value("#pronunciations") == "Nguyen = Win\n\nGIF = jif"
    finally:
        console.context.close()
    assert console.errors == []


def test_a_respelling_without_equals_is_refused_before_sending(console: Console) -> None:
    page = console.open()
    assert page.is_disabled("#lexicon")  # this server loaded none
    page.fill("#pronunciations", "SQL sequel")
    page.click("#speak")
    page.wait_for_selector("#pronunciations:invalid", state="attached")
    expect(page.locator("#speak-error")).to_contain_text("written = spoken (not: SQL sequel)")
    page.fill("#pronunciations", "SQL = sequel")
    assert sent_body(console)["pronunciations"] == {"SQL": "sequel"}
    expect(page.locator("#speak-error")).to_be_hidden()
    assert console.errors == []
