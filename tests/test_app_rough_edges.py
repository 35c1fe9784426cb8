"""The rough edges a newcomer met in the playground (issue 35, items 10, 13-15, and the Train panel's settings):
through the API, and in the page in a real Chromium (the browser and server of test_app_browser)."""

from __future__ import annotations

import io
import re
from dataclasses import fields

import pytest
from PIL import Image

from app_helpers import NAMES_TEXT
from seqlab.app.jazz_routes import MAX_MEASURES, own_chords
from seqlab.app.train_routes import MAX_HELDOUT_STREAM, TrainForm, config_for
from seqlab.music.bundle import load_bundle
from seqlab.music.changes import CHANGES, name_progression, parse_changes
from seqlab.music.render import piano_roll
from seqlab.text.model import load_model
from seqlab.text.sampling import novelty_summary, sample_lines
from seqlab.text.train_config import TrainConfig
from test_app_api import client, folder, refused  # noqa: F401  (fixtures)
from test_app_browser import page, shots, show  # noqa: F401  (fixtures)


# --- 10: Names with a stream model ------------------------------------------------------------------------------
def test_names_refuses_a_stream_model_naming_the_lines_models(client):  # noqa: F811
    message = refused(client.post("/api/names", json={"model": "shakespeare", "n": 3}), "model")
    assert "shakespeare is a stream model" in message and "(dinos)" in message


# --- 13: distinct names ------------------------------------------------------------------------------------------
def test_names_count_distinct_new_names(client):  # noqa: F811
    body = {"model": "dinos", "n": 5, "prefix": "Tyr", "seed": 1}
    d = client.post("/api/names", json=body).json()
    lines = sample_lines(load_model("dinos"), 5, prefix="Tyr", max_len=40, seed=1)
    assert len(set(lines)) < 5                                   # the seed that draws two names twice
    known = load_model("dinos").training_lines
    assert (d["count"], d["distinct"], d["new"]) == (5, len(set(lines)), len(set(lines) - known))
    assert d["summary"] == novelty_summary(5, len(set(lines)), len(set(lines) - known))   # the CLI's line


# --- 14: which step the weights are from --------------------------------------------------------------------------
def test_models_say_the_step_their_weights_come_from(client):  # noqa: F811
    models = {m["name"]: m for m in client.get("/api/models").json()["models"]}
    for name in ("dinos", "shakespeare"):
        meta = load_model(name).meta
        assert models[name]["weights_step"] == meta["validation"]["step"] < models[name]["step"] == meta["step"]


def test_a_trained_models_weights_step_is_its_best_evaluations(tmp_path):
    from seqlab.app.store import ModelStore
    from seqlab.cli import main

    corpus = tmp_path / "n.txt"
    corpus.write_text(NAMES_TEXT, encoding="utf-8")
    common = ["--hidden", "8", "--quiet", "--checkpoint-every", "0", "--sample-every", "0"]
    # no evaluation: the weights are the last step's; evaluations: the kept one's (or the last, when better)
    assert main(["train", str(corpus), "-o", str(tmp_path / "a.npz"), "--steps", "3", *common]) == 0
    assert main(["train", str(corpus), "-o", str(tmp_path / "b.npz"), "--steps", "7", "--eval-every", "2",
                 *common]) == 0
    info = {e.name: e.info for e in ModelStore([tmp_path], tmp_path).entries()}
    assert (info["a"]["step"], info["a"]["weights_step"]) == (3, 3)
    kept = load_model(tmp_path / "b.npz").meta["train"]["model"]["step"]
    assert info["b"]["step"] == 7 and info["b"]["weights_step"] == kept


# --- 15: the Jazz panel's data: the own chords, the bound --------------------------------------------------------
def test_the_own_progression_is_listed_with_its_chords_and_as_not_editable(client):  # noqa: F811
    listed = {c["name"]: c for c in client.get("/api/changes").json()["changes"]}
    own = listed["own"]
    assert own["chords"] == name_progression(load_bundle().progression) == own_chords()
    assert len(own["chords"].split(" | ")) == own["measures"] == len(load_bundle().progression)
    assert own["editable"] is False and all(listed[k]["editable"] for k in CHANGES)


def test_the_own_chords_as_shown_play_the_own_progression(client):  # noqa: F811
    shown = client.post("/api/jazz", json={"changes": "own", "chords": own_chords(), "seed": 1}).json()
    plain = client.post("/api/jazz", json={"changes": "own", "seed": 1}).json()
    assert shown["changes"] == plain["changes"] == "own" and shown["notes"] == plain["notes"]


def test_the_piano_roll_keeps_its_size_whatever_the_length():
    b = load_bundle()
    from seqlab.music.perform import perform

    for choruses in (1, 5):
        take = perform(b, changes=CHANGES["blues"], choruses=choruses, seed=0)
        fig = piano_roll(take.heard(), take.solo.chords, take.solo.beats)
        assert fig.get_figwidth() * fig.dpi <= 1100            # near the page's width, never a 4000-px strip
        measures = 12 * choruses
        assert len(fig.axes) == -(-measures // 8)              # rows of 8 measures
        texts = [t.get_text() for ax in fig.axes for t in ax.texts]
        assert texts == [str(c) for m in parse_changes(CHANGES["blues"]) for c in m] * choruses


# --- the Train panel trains as `seqlab train` does, and says so -----------------------------------------------------
@pytest.mark.parametrize("mode,chars", [("lines", 30_000), ("stream", 30_000), ("stream", 1_000)])
def test_the_playground_trains_with_the_commands_defaults(mode, chars):
    cfg = config_for(TrainForm(mode=mode, hidden=64, layers=2, steps=200), chars)
    default = TrainConfig()
    differ = {f.name for f in fields(TrainConfig) if getattr(cfg, f.name) != getattr(default, f.name)}
    watching = {"eval_every", "sample_every", "checkpoint_every"}      # they see the run, they do not change it
    asked = {"hidden", "layers", "steps"} | ({"mode"} if mode == "stream" else set())
    capped = {"holdout"} if mode == "stream" and chars * 0.1 > MAX_HELDOUT_STREAM else set()
    assert differ == asked | watching | capped
    if capped:
        assert cfg.holdout * chars == pytest.approx(MAX_HELDOUT_STREAM)


def test_the_train_panel_says_what_it_trains_with(client):  # noqa: F811
    text = " ".join(re.sub(r"<[^>]+>", "", client.get("/").text).split())
    d = TrainConfig()
    said = (f"with the command's other defaults (an {d.cell.upper()}, batch {d.batch_size}, sequences of "
            f"{d.seq_len} characters, learning rate {d.lr:g}, {d.holdout:.0%} held out), except that in stream "
            f"mode the held-out end of the text is at most {MAX_HELDOUT_STREAM:,} characters")
    assert said in text


# --- in the page --------------------------------------------------------------------------------------------------
def test_names_offers_lines_models_and_counts_distinct_names(page):  # noqa: F811
    show(page, "names")
    page.wait_for_selector('#names-form .model-select option[value="dinos"]', state="attached")
    options = page.eval_on_selector_all("#names-form .model-select option", "os => os.map(o => o.value)")
    assert "dinos" in options and "shakespeare" not in options
    page.fill("#names-form [name=n]", "5")
    page.fill("#names-form [name=prefix]", "Tyr")
    page.fill("#names-form [name=seed]", "1")
    page.fill("#names-form [name=temperature]", "1")
    page.click("#names-form button[type=submit]")
    page.wait_for_function("document.querySelector('#names-summary').textContent.includes('seed 1')")
    lines = sample_lines(load_model("dinos"), 5, prefix="Tyr", max_len=40, seed=1)
    distinct, new = len(set(lines)), len(set(lines) - load_model("dinos").training_lines)
    which = f"all {new}" if new == distinct else f"{new} of them"
    assert page.inner_text("#names-summary").startswith(f"{distinct} distinct of 5, {which} not in the training data")
    show(page, "models")
    page.wait_for_selector("#models-table td:text-is('shakespeare')")
    row = page.locator("#models-table tr", has=page.locator("td:text-is('shakespeare')"))
    assert row.locator("button").all_inner_texts() == ["poem"]          # no Names for a stream model


def test_the_models_list_shows_the_weights_step(page, shots):  # noqa: F811
    show(page, "models")
    page.wait_for_selector("#models-table td:text-is('dinos')")
    headers = [" ".join(h.split()) for h in page.locator("#models-table th").all_inner_texts()]
    column = headers.index("weights from step")
    cells = {r.locator("td").nth(0).inner_text(): " ".join(r.locator("td").nth(column).inner_text().split())
             for r in page.locator("#models-table tbody tr").all()}
    assert cells["dinos"] == "6,200 trained to 7,200" and cells["shakespeare"] == "150 trained to 300"
    width = page.evaluate("document.querySelector('#models-table').getBoundingClientRect().right")
    assert width <= page.viewport_size["width"]                  # the Use buttons stay on the page
    shots(page, "rough-edges-models.png")


def test_the_jazz_panel_shows_the_real_chords_and_bound_and_no_stale_solo(page, shots):  # noqa: F811
    show(page, "jazz")
    page.wait_for_selector('#jazz-changes option[value="own"]', state="attached")
    page.select_option("#jazz-changes", "own")
    assert page.input_value("#jazz-chords") == own_chords() and page.is_disabled("#jazz-chords")
    own = len(load_bundle().progression)
    assert page.inner_text("#jazz-choruses-bound") == f"1–{MAX_MEASURES // own}"
    page.select_option("#jazz-changes", "blues")
    assert page.input_value("#jazz-chords") == CHANGES["blues"] and not page.is_disabled("#jazz-chords")
    assert page.get_attribute("#jazz-chords", "placeholder") == CHANGES["blues"]   # an emptied box plays these
    assert page.inner_text("#jazz-choruses-bound") == f"1–{MAX_MEASURES // 12}"
    page.fill("#jazz-chords", "Dm7 G7 | Cmaj7")
    assert page.inner_text("#jazz-choruses-bound") == "1–16"
    page.select_option("#jazz-changes", "blues")
    page.fill("#jazz-form [name=choruses]", "4")
    page.click("#jazz-form button[type=submit]")
    page.wait_for_selector("#jazz-result:not([hidden])")
    assert "over blues: 48 measures" in page.inner_text("#jazz-summary")
    assert re.search(r"in [A-G][♭♯]? (major|minor)$", page.inner_text("#jazz-summary"))   # not music21's B-
    page.wait_for_function("document.querySelector('#jazz-roll').complete && "
                           "document.querySelector('#jazz-roll').naturalWidth > 0")
    shown, natural = page.evaluate("[document.querySelector('#jazz-roll').clientWidth, "
                                   "document.querySelector('#jazz-roll').naturalWidth]")
    assert shown / natural >= 0.8, (shown, natural)        # drawn near its size: its labels stay readable
    png = page.evaluate("fetch(document.querySelector('#jazz-roll').src).then(r => r.arrayBuffer())"
                        ".then(b => Array.from(new Uint8Array(b)))")
    assert Image.open(io.BytesIO(bytes(png))).size[0] == natural
    shots(page, "rough-edges-jazz.png", full_page=True)
    page.fill("#jazz-form [name=choruses]", "6")             # 72 measures: refused
    page.click("#jazz-form button[type=submit]")
    page.locator('#jazz-form [data-error-for="choruses"]').wait_for(state="visible")
    assert page.locator("#jazz-result").is_hidden() and page.inner_text("#jazz-summary") == ""
    page.fill("#jazz-form [name=choruses]", "1")
