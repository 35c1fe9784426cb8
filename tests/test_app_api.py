"""The playground's API through FastAPI's test client: every endpoint, its limits and its errors.

Bad requests must get HTTP 422 with a message naming the field (never a 500, never a traceback).
"""

from __future__ import annotations

import functools
import io
import wave

import pytest
from fastapi.testclient import TestClient

from app_helpers import LOCAL, NAMES_TEXT, models_folder, parse_sse, wait_for
from seqlab.app.errors import Busy
from seqlab.app.jazz_routes import SOLOS_KEPT
from seqlab.app.server import create_app
from seqlab.music.bundle import load_bundle
from seqlab.music.changes import CHANGES, parse_changes
from seqlab.music.perform import figures, perform
from seqlab.text.model import load_model as _load_model
from seqlab.text.poem import complete
from seqlab.text.sampling import sample_lines
from seqlab.text.train_config import TrainConfig


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return models_folder(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def client(folder):
    with TestClient(create_app(folder), base_url=LOCAL, raise_server_exceptions=False) as c:
        yield c


@functools.lru_cache(maxsize=None)
def load_model(name):
    return _load_model(name)


def refused(r, field):
    """The one-line 422 answer naming `field`; returns its message."""
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["errors"] and body["detail"] == body["errors"][0]["message"]
    fields = [e["field"] for e in body["errors"]]
    assert field in fields, body
    message = body["errors"][fields.index(field)]["message"]
    assert "Traceback" not in r.text and "\n" not in message
    return message


# --- the page and the models --------------------------------------------------------------------------------
def test_the_page_and_its_files_are_served_and_load_nothing_from_the_network(client):
    page = client.get("/")
    assert page.status_code == 200 and "seqlab playground" in page.text
    for name, kind in (("app.js", "javascript"), ("app.css", "text/css")):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and kind in r.headers["content-type"]
        assert "http://" not in r.text and "https://" not in r.text
    assert "http://" not in page.text and "https://" not in page.text
    assert client.get("/static/../server.py").status_code == 404
    assert client.get("/api/nothing-here").status_code == 404


def test_models_lists_the_text_models_of_the_folder_with_settings_and_score(client):
    models = {m["name"]: m for m in client.get("/api/models").json()["models"]}
    assert sorted(models) == ["dinos", "shakespeare"]                   # jazz.npz is not a text model
    d = models["dinos"]
    assert (d["mode"], d["cell"], d["hidden"], d["layers"], d["vocab_size"]) == ("lines", "lstm", 128, 1, 27)
    assert d["heldout_nats_per_char"] == pytest.approx(load_model("dinos").meta["heldout"]["nats_per_char"])
    assert d["parameters"] == load_model("dinos").model.num_params
    assert models["shakespeare"]["mode"] == "stream" and d["source"] == "bundled"
    status = client.get("/api/status").json()
    assert status["models"] == ["dinos", "shakespeare"] and status["training"] is False


def test_the_default_folders_are_the_bundled_models_and_the_playground_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLAB_HOME", str(tmp_path))
    with TestClient(create_app(), base_url=LOCAL) as c:
        names = [m["name"] for m in c.get("/api/models").json()["models"]]
    assert "dinos" in names and "shakespeare" in names and "jazz" not in names
    assert (tmp_path / "playground").is_dir()


def test_files_left_out_of_the_models_list_are_named_with_the_reason(tmp_path):
    # a cut or foreign .npz used to vanish from the list without a word, and then was an "unknown model"
    folder = models_folder(tmp_path / "models")
    whole = (folder / "dinos.npz").read_bytes()
    (folder / "broken.npz").write_bytes(whole[:len(whole) // 2])
    (folder / "text.npz").write_bytes(b"hello")
    (folder / "my dinos.npz").write_bytes(whole)
    with TestClient(create_app(folder), base_url=LOCAL, raise_server_exceptions=False) as c:
        body = c.get("/api/models").json()
    assert [m["name"] for m in body["models"]] == ["dinos", "shakespeare"]          # jazz.npz: not a text model
    why = {f["file"]: f["why"] for f in body["skipped"]}
    assert sorted(why) == ["broken.npz", "my dinos.npz", "text.npz"]
    assert "truncated" in why["broken.npz"] and "not a model name" in why["my dinos.npz"]
    assert "not a seqlab checkpoint" in why["text.npz"] and str(folder) not in str(body)   # no server paths


@pytest.mark.parametrize("name", ["../dinos", "/etc/passwd", "dinos.npz", "..", "models/dinos", "nope", ""])
def test_model_names_outside_the_listing_are_refused(client, name):
    message = refused(client.post("/api/names", json={"model": name}), "model")
    assert "dinos, shakespeare" in message


# --- names ---------------------------------------------------------------------------------------------------
def test_names_are_the_samplers_lines_with_their_novelty_marked(client):
    body = {"model": "dinos", "n": 12, "temperature": 0.9, "top_k": 10, "prefix": "Ste", "seed": 5}
    r = client.post("/api/names", json=body)
    assert r.status_code == 200
    out = r.json()
    lm = load_model("dinos")
    expected = sample_lines(lm, 12, prefix="Ste", max_len=40, temperature=0.9, top_k=10, seed=5)
    assert [x["name"] for x in out["names"]] == [s.capitalize() for s in expected]
    assert [x["new"] for x in out["names"]] == [s not in lm.training_lines for s in expected]
    assert out["new"] == sum(x["new"] for x in out["names"]) and out["count"] == 12 and out["seed"] == 5
    # a known name is marked as such: at a low temperature the model recites training names
    cold = client.post("/api/names", json={"n": 30, "temperature": 0.05, "seed": 1}).json()
    assert any(x["new"] is False for x in cold["names"])


def test_names_with_top_p_are_the_nucleus_samplers(client):
    lm = load_model("dinos")
    out = client.post("/api/names", json={"n": 8, "top_p": 0.5, "seed": 2}).json()
    expected = sample_lines(lm, 8, max_len=40, top_p=0.5, seed=2)
    assert [x["name"] for x in out["names"]] == [s.capitalize() for s in expected]
    assert expected != sample_lines(lm, 8, max_len=40, seed=2)   # the nucleus made a difference


def test_names_without_a_seed_report_the_one_they_used(client):
    first = client.post("/api/names", json={"n": 5}).json()
    again = client.post("/api/names", json={"n": 5, "seed": first["seed"]}).json()
    assert again["names"] == first["names"]


@pytest.mark.parametrize("field,value,words", [
    ("n", 0, "at least 1"), ("n", 101, "at most 100"), ("n", 2.5, "whole number"), ("n", "ten", "whole number"),
    ("temperature", 0, "at least 0.05"), ("temperature", 5.5, "at most 5"), ("temperature", "hot", "number"),
    ("top_k", 0, "at least 1"), ("top_k", 1001, "at most 1000"), ("max_len", 0, "at least 1"),
    ("top_p", 0, "top-p must be more than 0"), ("top_p", 1.5, "top-p must be at most 1"),
    ("max_len", 201, "at most 200"), ("prefix", "x" * 101, "at most 100 characters"), ("seed", -1, "at least 0"),
    ("seed", 2**32, "at most"), ("prefix", "Tyr#", "'#'"), ("colour", "red", "unknown field"),
    ("prefix", "a\nb", "holds a line end"),              # gave names with a line break inside
    ("n", True, "whole number"), ("seed", True, "whole number"),   # were taken as 1 (strict JSON types)
])
def test_names_limits(client, field, value, words):
    assert words in refused(client.post("/api/names", json={field: value}), field)


@pytest.mark.parametrize("content", ["not json", "[1, 2]"])
def test_a_body_that_is_not_a_json_object_is_refused(client, content):
    r = client.post("/api/names", content=content, headers={"content-type": "application/json"})
    refused(r, None)     # a body of another type (a form's) is a 415: tests/test_app_doors.py


def test_an_oversized_request_is_refused_before_it_is_read(client):
    r = client.post("/api/names", content=b"x" * 300_000, headers={"content-type": "application/json"})
    assert "at most 262,144 bytes" in refused(r, None)


def test_a_chunked_body_is_held_to_the_same_limit_and_otherwise_reaches_the_route(client):
    # a body without a Content-Length (chunked) used to pass the length check and then fail as a 400 "error
    # parsing the body" once it ran over the limit
    big = client.post("/api/names", content=(b"x" * 1024 for _ in range(300)),
                      headers={"content-type": "application/json"})
    assert "at most 262,144 bytes" in refused(big, None)
    pieces = (part.encode() for part in ('{"model": "dinos", ', '"n": 3, "seed": 1}'))
    small = client.post("/api/names", content=pieces, headers={"content-type": "application/json"})
    assert small.status_code == 200 and small.json() == client.post(
        "/api/names", json={"model": "dinos", "n": 3, "seed": 1}).json()


@pytest.mark.parametrize("method,path,allow", [("GET", "/api/names", "POST"), ("DELETE", "/api/poem", "POST"),
                                               ("POST", "/api/status", "GET"), ("PUT", "/api/models", "GET")])
def test_an_endpoint_asked_with_the_wrong_method_says_which_it_takes(client, method, path, allow):
    # GET on a POST endpoint used to answer 404 "no such API endpoint", as if it were not there
    r = client.request(method, path)
    assert r.status_code == 405 and r.headers["allow"] == allow
    assert r.json()["detail"] == f"{path} takes {allow}, not {method}"


def test_unknown_endpoints_are_404_whatever_the_method(client):
    for method in ("GET", "POST", "DELETE"):
        r = client.request(method, "/api/nothing-here")
        assert r.status_code == 404 and r.json()["detail"] == "no such API endpoint: /api/nothing-here"


@pytest.mark.parametrize("path", ["/", "/api/status", "/static/app.js"])
def test_head_is_get_without_the_body(client, path):
    # HEAD answered 405 on the page and the API's GET routes
    head, get = client.head(path), client.get(path)
    assert head.status_code == get.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    if path != "/api/status":     # the status counts change between the two requests; files do not
        assert int(head.headers["content-length"]) == len(get.content)


def test_the_solo_files_answer_byte_ranges_and_old_ones_leave_the_disk(client):
    # Safari asks for bytes 0-1 of an audio file before it plays it, and plays nothing without a 206
    d = client.post("/api/jazz", json={"changes": "ii-v-i", "seed": 4}).json()
    whole = client.get(d["wav"]).content
    part = client.get(d["wav"], headers={"Range": "bytes=0-1"})
    assert part.status_code == 206 and part.content == whole[:2] == b"RI"
    assert part.headers["content-range"] == f"bytes 0-1/{len(whole)}"
    tail = client.get(d["wav"], headers={"Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.content == whole[-100:]
    assert client.get(d["wav"], headers={"Range": f"bytes={len(whole) + 10}-"}).status_code == 416
    solos = client.app.state.solos
    first = solos.get(d["id"], "wav")
    assert first.read_bytes() == whole
    for seed in range(SOLOS_KEPT):
        client.post("/api/jazz", json={"changes": "ii-v-i", "seed": seed})
    assert solos.get(d["id"], "wav") is None and not first.parent.exists()
    assert client.get(d["wav"]).status_code == 404


# --- poem ----------------------------------------------------------------------------------------------------
def test_the_poem_streams_exactly_the_poem_commands_completion(client):
    prompt = "Shall I compare thee to a summer's day?\n"
    r = client.post("/api/poem", json={"prompt": prompt, "length": 300, "temperature": 0.7, "seed": 3})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(r.text)
    assert events[0] == ("start", {"seed": 3, "model": "shakespeare"})
    pieces = [d["text"] for e, d in events if e == "message"]
    text = "".join(pieces)
    assert text == complete(load_model("shakespeare"), prompt, 300, 0.7, 3)
    assert len(text) >= 300 and text.endswith("\n")
    assert events[-1] == ("done", {"chars": len(text)})


def test_a_poem_with_top_p_streams_the_nucleus_completion(client):
    r = client.post("/api/poem", json={"prompt": "when i", "length": 120, "top_p": 0.8, "seed": 4})
    text = "".join(d["text"] for e, d in parse_sse(r.text) if e == "message")
    assert text == complete(load_model("shakespeare"), "when i", 120, 1.0, 4, top_p=0.8)


@pytest.mark.parametrize("field, value", [("temperature", 0.5), ("temperature", 1.0), ("top_k", 3), ("top_p", 0.9),
                                          ("seed", 4)])
def test_a_beam_refuses_the_sampling_options_it_would_ignore(client, field, value):
    r = client.post("/api/poem", json={"prompt": "shall i", "length": 20, "beam": 2, field: value})
    assert "does not apply with a beam" in refused(r, field)


def test_a_poem_with_a_beam_is_the_likeliest_completion_in_one_piece(client):
    body = {"prompt": "shall i compare thee", "length": 100, "beam": 3}
    events = parse_sse(client.post("/api/poem", json={**body, "top_k": None, "top_p": None}).text)  # empty fields
    assert events[0] == ("start", {"beam": 3, "model": "shakespeare"})
    pieces = [d["text"] for e, d in events if e == "message"]
    assert pieces == [complete(load_model("shakespeare"), "shall i compare thee", 100, beam=3)]
    assert events[-1] == ("done", {"chars": len(pieces[0])})
    again = parse_sse(client.post("/api/poem", json=body).text)   # the same every time
    assert [d["text"] for e, d in again if e == "message"] == pieces


@pytest.mark.parametrize("field,value,words", [
    ("prompt", "a" * 5001, "at most 5,000 characters"), ("length", 0, "at least 1"),
    ("beam", 0, "beam must be at least 1"), ("beam", 9, "beam must be at most 8"), ("top_p", -0.1, "more than 0"),
    ("length", 5001, "at most 5000"), ("temperature", 0.01, "at least 0.05"), ("prompt", "thee ♥", "'♥'"),
    ("model", "../shakespeare", "unknown model"),
])
def test_poem_limits(client, field, value, words):
    assert words in refused(client.post("/api/poem", json={field: value}), field)


def test_a_5000_character_prompt_is_accepted(client):
    r = client.post("/api/poem", json={"prompt": "o " * 2500, "length": 1, "seed": 0})
    assert r.status_code == 200 and parse_sse(r.text)[-1][0] == "done"


# --- jazz ----------------------------------------------------------------------------------------------------
def test_the_built_in_changes_and_instruments_are_listed(client):
    d = client.get("/api/changes").json()
    listed = {c["name"]: c for c in d["changes"]}
    assert set(CHANGES) < set(listed) and listed["own"]["chords"].count("|") == listed["own"]["measures"] - 1
    assert all(listed[k]["chords"] == v and listed[k]["measures"] == len(parse_changes(v)) for k, v in CHANGES.items())
    assert "Trumpet" in d["instruments"] and d["instrument"] in d["instruments"]


def test_a_solo_over_typed_chords_comes_as_wav_png_and_midi_as_perform_makes_it(client):
    body = {"chords": "Dm7 G7 | Cmaj7 | %", "choruses": 2, "bpm": 150, "instrument": "trumpet",
            "swing": 0.6, "temperature": 0.5, "seed": 2}
    r = client.post("/api/jazz", json=body)
    assert r.status_code == 200, r.text
    d = r.json()
    assert (d["measures"], d["bpm"], d["instrument"], d["changes"]) == (6, 150, "Trumpet", "your chords")
    take = perform(changes=body["chords"], choruses=2, bpm=150, instrument="Trumpet", swing=0.6,
                   temperature=0.5, seed=2)
    assert d["notes"] == figures(take, load_bundle())["notes"] > 0 and d["monophonic"]
    wav = client.get(d["wav"])
    assert wav.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(wav.content)) as w:
        seconds = w.getnframes() / w.getframerate()
    assert d["seconds"] == pytest.approx(6 * 4 * 60 / 150)          # 6 measures of 4 beats at 150 bpm
    assert d["seconds"] <= seconds <= d["seconds"] + 1.5             # plus a release
    assert client.get(d["png"]).content[:8] == b"\x89PNG\r\n\x1a\n"
    midi = client.get(d["midi"]).content
    assert midi[:4] == b"MThd"
    again = client.post("/api/jazz", json=body).json()
    assert client.get(again["midi"]).content == midi                 # seeded: the same solo
    assert again["id"] != d["id"]
    assert client.get(f"/api/jazz/{d['id']}/solo.exe").status_code == 404
    assert client.get("/api/jazz/0123456789abcdef/solo.wav").status_code == 404


def test_a_built_in_progression_and_the_models_own(client):
    blues = client.post("/api/jazz", json={"changes": "ii-v-i", "seed": 1}).json()
    assert blues["measures"] == 4 and blues["changes"] == "ii-v-i"
    own = client.post("/api/jazz", json={"changes": "own", "choruses": 1}).json()
    assert own["measures"] == len(load_bundle().progression) and own["changes"] == "own"


@pytest.mark.parametrize("body,field,words", [
    ({"bpm": 39}, "bpm", "at least 40"), ({"bpm": 301}, "bpm", "at most 300"),
    ({"choruses": 0}, "choruses", "at least 1"), ({"choruses": 17}, "choruses", "at most 16"),
    ({"changes": "blues", "choruses": 6}, "choruses", "72 measures; at most 64"),
    ({"swing": 0.9}, "swing", "at most 0.75"), ({"swing": 0.4}, "swing", "at least 0.5"),
    ({"temperature": -0.1}, "temperature", "at least 0"), ({"seed": -3}, "seed", "at least 0"),
    ({"changes": "../blues"}, "changes", "unknown progression"),
    ({"changes": "bogus", "chords": "Dm7 G7 | Cmaj7"}, "changes", "unknown progression"),   # was ignored
    ({"chords": " | ".join(["C"] * 65)}, "chords", "the changes last 65 measures; at most 64"),  # not choruses'
    ({"chords": "Dm7 | Xq9"}, "chords", "Xq9"), ({"chords": "Dm7 || G7"}, "chords", "measure"),
    ({"chords": "C" * 5001}, "chords", "at most 5,000 characters"),
    ({"instrument": "Kazoo9000"}, "instrument", "unknown instrument"),
])
def test_jazz_limits(client, body, field, words):
    assert words in refused(client.post("/api/jazz", json=body), field)


# --- train ---------------------------------------------------------------------------------------------------
def _train(client, text: bytes | str = NAMES_TEXT, filename="my names.txt", **form):
    data = {"mode": "lines", "hidden": "16", "steps": "20", **{k: str(v) for k, v in form.items()}}
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return client.post("/api/train", data=data, files={"file": (filename, raw, "text/plain")})


def _finished(client):
    return wait_for(lambda: (j := client.get("/api/train").json()["job"]) and j["status"] != "running" and j)


def test_a_training_run_reports_its_curve_and_its_model_appears_in_models(client, folder):
    r = _train(client, steps=40)
    assert r.status_code == 202, r.text
    job = r.json()["job"]
    assert job["name"] == "my-names" and job["steps"] == 40
    events = parse_sse(client.get("/api/train/events").text)   # follows the job to its end
    kinds = [d["type"] for _, d in events]
    assert kinds[0] == "job" and kinds[-1] == "done"
    evals = [d for _, d in events if d["type"] == "eval"]
    assert [e["step"] for e in evals] == list(range(1, 41))
    assert evals[-1]["train"] < evals[0]["train"]              # the loss falls
    assert any(d["type"] == "sample" and d["samples"] for _, d in events)
    done = _finished(client)
    assert done["status"] == "done" and done["name"] == "my-names"
    assert (folder / "my-names.npz").is_file() and not list((folder / ".staging").iterdir())
    listed = {m["name"]: m for m in client.get("/api/models").json()["models"]}
    assert listed["my-names"]["source"] == "trained" and listed["my-names"]["hidden"] == 16
    names = client.post("/api/names", json={"model": "my-names", "n": 3, "seed": 0})
    assert names.status_code == 200 and len(names.json()["names"]) == 3
    # the same name again gets a fresh one, said at the start: nothing is overwritten
    again = _train(client, steps=10)
    assert again.status_code == 202 and again.json()["job"]["name"] == "my-names-2"
    assert _finished(client)["name"] == "my-names-2"
    # events resume after the last one seen (EventSource's Last-Event-ID)
    whole = parse_sse(client.get("/api/train/events").text)
    tail = parse_sse(client.get("/api/train/events", headers={"Last-Event-ID": "5"}).text)
    assert tail[0][1]["type"] == "job" and tail[1:] == whole[1 + 6:] and len(tail) > 2


def test_one_job_at_a_time_and_a_cancelled_job_leaves_nothing(client, folder):
    before = sorted(p.name for p in folder.iterdir())
    r = _train(client, NAMES_TEXT * 20, "long.txt", steps=20000, hidden=64)
    assert r.status_code == 202
    second = _train(client, steps=10)
    assert second.status_code == 409 and "already running" in second.json()["detail"]
    assert client.get("/api/status").json()["training"] is True
    # an upload that was read while the slot was free, then lost it to another: its folder goes at once
    trainer = client.app.state.trainer
    late = trainer.staging / "upload-late"
    late.mkdir()
    (late / "corpus.txt").write_text(NAMES_TEXT)
    with pytest.raises(Busy):
        trainer.start(late / "corpus.txt", "late.txt", TrainConfig(), "late")
    assert not late.exists()
    assert client.post("/api/train/cancel").status_code == 200
    job = _finished(client)
    assert job["status"] == "cancelled" and job["step"] < 20000
    assert sorted(p.name for p in folder.iterdir()) == before
    assert not list((folder / ".staging").iterdir())
    assert "no training job" in refused(client.post("/api/train/cancel"), None)


@pytest.mark.parametrize("text,form,field,words", [
    (b"\xff\xfe\x00\x01bytes", {}, "file", "looks binary"),
    ("caf\u00e9\n".encode("latin-1") * 50, {}, "file", "not UTF-8"),
    (b"", {}, "file", "empty"),
    ("aaaa\n" * 30, {}, "file", "distinct"),
    (b"x" * (5 * 1024 * 1024 + 1), {}, "file", "at most 5 MB"),
    (NAMES_TEXT, {"mode": "words"}, "mode", "one of"),
    (NAMES_TEXT, {"steps": 9}, "steps", "at least 10"),
    (NAMES_TEXT, {"steps": 20001}, "steps", "at most 20000"),
    (NAMES_TEXT, {"hidden": 4}, "hidden", "at least 8"),
    (NAMES_TEXT, {"layers": 4}, "layers", "at most 3"),
    (NAMES_TEXT, {"name": "../evil"}, "name", "letters, digits"),
    (NAMES_TEXT, {"name": "/etc/x"}, "name", "letters, digits"),
])
def test_train_limits(client, folder, text, form, field, words):
    before = sorted(p.name for p in folder.iterdir())
    assert words in refused(_train(client, text, **form), field)
    assert sorted(p.name for p in folder.iterdir()) == before
    assert not list((folder / ".staging").glob("upload-*"))


def test_train_without_a_file_is_refused(client):
    r = client.post("/api/train", data={"mode": "lines", "steps": "20"})
    assert "file is required" in refused(r, "file")
