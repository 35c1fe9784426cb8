"""The playground in a real browser: headless Chromium (Debian's `chromium`) driven by Playwright against a real
server on 127.0.0.1, one browser session for every panel.

Each panel's screenshot is taken; with SEQLAB_SCREENSHOTS=DIR they are kept there (docs/ holds the README's).
Without Chromium these tests fail, saying how to install it: they are never skipped.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import io
import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from app_helpers import NAMES_TEXT, live_server, models_folder
from seqlab.app.doors import Doors
from seqlab.app.server import create_app
from seqlab.music.changes import CHANGES
from seqlab.text.model import load_model
from seqlab.text.poem import complete

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    """snap(page, name, **screenshot options): the panel's screenshot, kept as a small palette PNG in
    $SEQLAB_SCREENSHOTS when that is set."""
    keep = os.environ.get("SEQLAB_SCREENSHOTS")
    folder = Path(keep) if keep else tmp_path_factory.mktemp("screenshots")

    def snap(page, name: str, **options) -> None:
        data = page.screenshot(**options)
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        if keep:
            Image.open(io.BytesIO(data)).convert("RGB").quantize(colors=48).save(folder / name, optimize=True)
        else:
            (folder / name).write_bytes(data)

    return snap


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    try:
        from playwright.sync_api import sync_playwright  # here, to fail with the line below when it is missing
    except ModuleNotFoundError:
        pytest.fail("the browser tests need the playwright package: pip install '.[test]'")
    # Debian's chromium where it is; else the one `playwright install chromium` put in Playwright's own folder
    # (tools/chromium.sh, which `make test` runs first, provides one or the other)
    system = CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")
    app = create_app(models_folder(tmp_path_factory.mktemp("models")))
    with live_server(app) as url, sync_playwright() as pw:
        if system is None and not Path(pw.chromium.executable_path).is_file():
            pytest.fail("the browser tests need Chromium: apt-get install -y chromium (Debian's), or "
                        ".venv/bin/playwright install chromium (tools/chromium.sh does one of them)")
        browser = pw.chromium.launch(executable_path=system, args=ARGS)
        context = browser.new_context(viewport={"width": 980, "height": 700})
        offsite = []
        context.route("**/*", lambda route: (route.continue_() if route.request.url.startswith(url)
                                             else (offsite.append(route.request.url), route.abort())))
        p = context.new_page()
        problems = []
        p.on("pageerror", lambda exc: problems.append(str(exc)))
        p.goto(url + "/#names")
        p.wait_for_selector("body[data-ready]")
        yield p
        browser.close()
        assert not problems, problems          # no JavaScript error on the way
        assert not offsite, offsite            # nothing loaded from anywhere but this server


def show(page, panel: str) -> None:
    page.click(f"#tabs a[data-panel={panel}]")
    page.wait_for_selector(f"#panel-{panel}.active")


def test_names_appear_with_their_novelty_marks(page, shots):
    show(page, "names")
    page.fill("#names-form [name=n]", "12")
    page.fill("#names-form [name=seed]", "3")
    page.click("#names-form button[type=submit]")
    page.wait_for_selector("#names-out li")
    items = page.locator("#names-out li")
    assert items.count() == 12
    marked = page.locator("#names-out li .new-mark").count()
    assert f"{marked} of 12 not in the training data" in page.inner_text("#names-summary")
    shots(page, "playground-names.png")


def test_a_bad_value_gets_its_message_next_to_the_field(page):
    show(page, "names")
    page.fill("#names-form [name=temperature]", "9")
    page.click("#names-form button[type=submit]")
    slot = page.locator('#names-form [data-error-for="temperature"]')
    slot.wait_for(state="visible")
    assert slot.inner_text() == "temperature must be at most 5.0, got 9"
    assert "invalid" in page.get_attribute("#names-form [name=temperature]", "class")
    page.fill("#names-form [name=temperature]", "1")
    page.click("#names-form button[type=submit]")
    slot.wait_for(state="hidden")


def test_the_poem_grows_as_it_is_sampled(page, shots):
    show(page, "poem")
    page.fill("#poem-form [name=length]", "1500")
    page.fill("#poem-form [name=seed]", "0")
    page.evaluate("""() => {
        window.lengths = [];
        const out = document.querySelector('#poem-out .completion');
        new MutationObserver(() => window.lengths.push(out.textContent.length))
            .observe(out, {childList: true, characterData: true, subtree: true});
    }""")
    page.click("#poem-form button[type=submit]")
    page.wait_for_function("document.querySelector('#poem-summary').textContent.includes('characters')")
    lengths = [n for n in page.evaluate("window.lengths") if n]
    assert len(set(lengths)) >= 3 and lengths == sorted(lengths)    # it grew in steps, never shrank
    assert lengths[-1] >= 1500
    page.evaluate("window.scrollTo(0, 0)")
    shots(page, "playground-poem.png")


def test_a_beam_writes_the_likeliest_completion_at_once(page):
    show(page, "poem")
    page.fill("#poem-form [name=length]", "80")
    sampling = [f"#poem-form [name={name}]" for name in ("temperature", "top_k", "top_p", "seed")]
    assert not any(page.is_disabled(s) for s in sampling)
    page.fill("#poem-form [name=beam]", "2")
    assert all(page.is_disabled(s) for s in sampling)      # not sent: the API refuses them beside a beam
    prompt = page.input_value("#poem-form [name=prompt]")
    page.click("#poem-form button[type=submit]")
    page.wait_for_function("document.querySelector('#poem-summary').textContent.includes('beam 2')")
    assert page.inner_text("#poem-out .completion") == complete(load_model("shakespeare"), prompt, 80, beam=2)
    page.fill("#poem-form [name=beam]", "")
    assert not any(page.is_disabled(s) for s in sampling)


def test_a_solo_plays_in_the_page_beside_its_piano_roll(page, shots):
    show(page, "jazz")
    page.select_option("#jazz-changes", "ii-v-i")
    assert page.input_value("#jazz-chords") == CHANGES["ii-v-i"]     # the chosen changes, ready to edit
    page.fill("#jazz-form [name=instrument]", "Vibraphone")
    page.click("#jazz-form button[type=submit]")
    page.wait_for_selector("#jazz-result:not([hidden])")
    duration = page.evaluate("""() => new Promise(done => {
        const a = document.querySelector('#jazz-audio');
        if (a.readyState >= 1) done(a.duration); else a.addEventListener('loadedmetadata', () => done(a.duration));
    })""")
    assert duration == pytest.approx(4 * 4 * 60 / 130, abs=1.0)   # 4 measures of 4 beats at 130 bpm
    assert "Vibraphone over ii-v-i" in page.inner_text("#jazz-summary")
    page.wait_for_function("document.querySelector('#jazz-roll').complete && "
                           "document.querySelector('#jazz-roll').naturalWidth > 0")
    assert page.locator("#jazz-roll").is_visible()
    for link in ("#jazz-midi", "#jazz-wav"):
        status = page.evaluate(f"fetch(document.querySelector('{link}').href).then(r => r.status)")
        assert status == 200
    shots(page, "playground-jazz.png", full_page=True)


def test_training_draws_its_curve_and_the_model_appears_in_models(page, shots, tmp_path):
    show(page, "train")
    corpus = tmp_path / "my dinos.txt"
    corpus.write_text(NAMES_TEXT * 4, encoding="utf-8")
    page.set_input_files("#train-form [name=file]", str(corpus))
    page.select_option("#train-form [name=hidden]", "32")
    page.fill("#train-form [name=steps]", "120")
    # Record the curve's length at every redraw: polling from here races a fast (or a starved) training run.
    page.evaluate("window.drawnLengths = []; const draw = drawCurve; "
                  "drawCurve = () => { window.drawnLengths.push(curve.train.length); draw(); }")
    page.click("#train-form button[type=submit]")
    deadline = time.monotonic() + 60
    while "finished" not in page.inner_text("#train-status"):
        assert time.monotonic() < deadline, page.inner_text("#train-status")
        page.wait_for_timeout(50)
    drawn = page.evaluate("window.drawnLengths")
    assert set(range(1, 41)) <= set(drawn) and max(drawn) == 40   # drawn point by point as training ran
    train = page.evaluate("curve.train.map(p => p[1])")
    assert train[-1] < train[0]
    assert page.locator("#train-samples li").count() >= 1
    shots(page, "playground-train.png")
    show(page, "models")
    page.wait_for_selector("#models-table td:text-is('my-dinos')")
    shots(page, "playground-models.png")
    assert page.locator('#names-form .model-select option[value="my-dinos"]').count() == 1


EVIL_PAGE = """<!doctype html><title>another site</title><script>
window.tries = (async () => {
  const form = new FormData();
  form.append("file", new Blob([%s], {type: "text/plain"}), "evil.txt");
  form.append("steps", "20000");
  const answers = [];
  for (const [path, body] of [["/api/train", form], ["/api/names", '{"n": 3}'], ["/api/train/cancel", "{}"]]) {
    try { answers.push((await fetch(%s + path, {method: "POST", mode: "no-cors", body})).type); }
    catch (err) { answers.push("failed: " + err.message); }
  }
  return answers;
})();
</script>"""


def test_a_page_of_another_origin_cannot_start_a_training_job(page, tmp_path):
    # a page served from another port of 127.0.0.1 posted a form with fetch(..., {mode: "no-cors"}) and the job
    # ran: the browser sends such a "simple" request without asking, and only the server can refuse it
    url = page.url.split("/#")[0].rstrip("/")
    before = page.evaluate("fetch('/api/train').then(r => r.json())")["job"]
    (tmp_path / "index.html").write_text(EVIL_PAGE % (json.dumps(NAMES_TEXT * 20), json.dumps(url)))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    evil = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        with another_tab(page) as other:
            other.goto(f"http://127.0.0.1:{evil.server_address[1]}/index.html")
            answers = other.evaluate("window.tries")
    finally:
        evil.shutdown()
    assert answers == ["opaque"] * 3          # each request reached the server and got its (unreadable) answer
    status = page.evaluate("fetch('/api/status').then(r => r.json())")
    after = page.evaluate("fetch('/api/train').then(r => r.json())")["job"]
    assert status["training"] is False and after == before     # no job started, none cancelled


@contextlib.contextmanager
def another_tab(page):
    """A page in a browser context of its own (no route filter, no cookies of the main one)."""
    context = page.context.browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


def names_shown(p, url: str, n: int) -> int:
    """Open the page at `url` in `p`, ask for n names; how many it shows."""
    p.goto(url)
    p.wait_for_selector("body[data-ready]")
    p.fill("#names-form [name=n]", str(n))
    p.click("#names-form button[type=submit]")
    p.wait_for_selector("#names-out li")
    return p.locator("#names-out li").count()


def test_with_a_token_the_page_works_from_the_address_serve_prints(page, tmp_path):
    # off loopback `seqlab serve` prints http://HOST:PORT/?token=...; the page's own requests then carry the
    # HttpOnly cookie that the query set, which its scripts cannot read
    app = create_app(models_folder(tmp_path / "models"), Doors(token="browser-token-1"))
    with live_server(app) as url, another_tab(page) as p:
        assert p.goto(url + "/").status == 401
        assert names_shown(p, url + "/?token=browser-token-1#names", 3) == 3
        assert p.evaluate("document.cookie") == ""                  # HttpOnly
        assert p.evaluate("fetch('/api/status').then(r => r.status)") == 200


def test_the_page_works_on_localhost_too(page):
    # localhost is another origin than 127.0.0.1: the page's requests must be let in there as well
    url = page.url.split("/#")[0].rstrip("/").replace("127.0.0.1", "localhost")
    with another_tab(page) as p:
        assert names_shown(p, url + "/#names", 4) == 4
        sent = p.evaluate("""fetch('/api/train/cancel', {method: 'POST', headers: {'Content-Type':
                             'application/json'}, body: '{}'}).then(r => r.json())""")
        assert sent["detail"] == "no training job is running"      # let in (not a 403), answered by the route


def test_a_quatrain_streams_line_by_line_with_its_rhyme_letters_and_syllables(page, shots):
    from seqlab.pretrained.lexicon import shakespeare_words
    from seqlab.text.form import write_form

    show(page, "poem")
    page.select_option("#poem-form [name=form]", "quatrain")
    assert page.is_disabled("#poem-form [name=length]") and page.is_disabled("#poem-form [name=beam]")
    prompt = "shall i compare thee to a summer's day"
    page.fill("#poem-form [name=prompt]", prompt)
    page.fill("#poem-form [name=seed]", "4")
    page.evaluate("""() => {
        window.rows = [];
        const out = document.querySelector('#poem-lines');
        new MutationObserver(() => window.rows.push(out.children.length)).observe(out, {childList: true});
    }""")
    page.click("#poem-form button[type=submit]")
    page.wait_for_function("document.querySelector('#poem-summary').textContent.includes('rhymes held')")
    rows = [n for n in page.evaluate("window.rows") if n]
    assert rows == sorted(rows) and len(set(rows)) >= 3 and rows[-1] == 4     # it came a line at a time
    expected = list(write_form(load_model("shakespeare"), prompt, "abab", temperature=0.8, seed=4,
                               words=shakespeare_words()))
    assert page.locator("#poem-lines .verse").all_inner_texts() == [ln.text for ln in expected]
    assert page.locator("#poem-lines .rhyme").all_inner_texts() == list("abab")
    assert page.locator("#poem-lines .syllables").all_inner_texts() == [str(ln.syllables) for ln in expected]
    assert page.is_hidden("#poem-out")
    shots(page, "playground-poem-form.png")
    page.select_option("#poem-form [name=form]", "free")
    assert not page.is_disabled("#poem-form [name=length]")
