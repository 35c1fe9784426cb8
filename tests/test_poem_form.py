"""The poem in a form: CMUdict's syllables and rhymes and the fallback rule, the trie masks, a sonnet that keeps
its form, `seqlab poem --form` and its errors, and no word n-gram twice (sampling and a beam)."""

from __future__ import annotations

import ast
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pronouncing
import pytest

from conftest import dataset_path
from seqlab.cli import main
from seqlab.pretrained.lexicon import shakespeare_words
from seqlab.text import form, prosody
from seqlab.text.model import load_model
from seqlab.text.ngrams import WordNgrams
from seqlab.text.poem import complete
from seqlab.text.poem_report import longest_copied_run, rhyme_pairs
from seqlab.text.sampling import _read_prefix, beam_search, generate
from seqlab.text.wordtrie import WordTrie

PROMPT = "shall i compare thee to a summer's day"
SRC = Path(__file__).resolve().parents[1] / "src" / "seqlab"


@pytest.fixture(scope="module")
def lm():
    return load_model("shakespeare")


# --- where the poem writer lives ------------------------------------------------------------------------------
def imports(folder: str, pattern: str = "*.py") -> set[str]:
    found = set()
    for path in (SRC / folder).glob(pattern):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
    return found


def test_the_faces_import_the_poem_writer_not_each_other():
    app, commands = imports("app"), imports("commands", "poem*.py")   # (`seqlab serve` starts the app)
    assert "seqlab.text.poem" in app and "seqlab.text.poem" in commands
    assert not any(m.startswith("seqlab.commands") for m in app)
    assert not any(m.startswith("seqlab.app") for m in commands)
    assert not any(m.startswith(("seqlab.commands", "seqlab.app")) for m in imports("text"))


# --- syllables and rhymes -------------------------------------------------------------------------------------
@pytest.mark.parametrize("word", ["beauty", "summer", "compare", "melody", "eyes", "heaven", "temperate",
                                  "fire", "thee"])
def test_syllables_are_cmudicts_vowels(word):
    phones = pronouncing.phones_for_word(word)[0]
    assert prosody.syllables(word) == pronouncing.syllable_count(phones)


@pytest.mark.parametrize("word, count", [("beauty", 2), ("summer", 2), ("make", 1), ("little", 2),
                                         ("loved", 1), ("wanted", 2), ("feed'st", 1), ("provise", 2),
                                         ("o'er", 1), ("tree", 1)])
def test_the_fallback_counts_vowel_groups_less_silent_endings(word, count):
    assert prosody.fallback_syllables(word) == count
    if not prosody.in_dictionary(word):                     # a word CMUdict lacks is counted by the rule
        assert prosody.syllables(word) == count


def test_a_real_rhyme_is_the_same_rhyming_part_in_two_different_words():
    assert prosody.rhyming_parts("day") == prosody.rhyming_parts("away") == {"EY"}
    assert prosody.rhyming_parts("purple") == {"ER P AH L"}         # from the last stressed vowel on
    assert prosody.rhymes("day", "away") and prosody.rhymes("eyes", "lies")
    assert not prosody.rhymes("day", "day") and not prosody.rhymes("sight", "insight")
    assert not prosody.rhymes("thee", "melody")                    # IY vs EH L AH D IY
    assert not prosody.rhymes("them", "sum")                       # "them" rhymes as stressed EH M
    assert prosody.rhymes("provise", "wise")                       # not in CMUdict: spelled -ise
    assert not prosody.rhymes("provise", "praise")                 # -aise
    assert "wise" in prosody.rhyme_partners("provise", {"wise", "praise", "rise", "day"})
    assert not prosody.in_dictionary("provise")


def test_the_word_trie_gives_the_characters_that_stay_on_the_way_to_a_word():
    trie = WordTrie(["day", "days", "dawn", "away", "a"], "\n adnswy")
    assert trie.next_chars("") == "ad" and trie.next_chars("da") == "wy" and trie.next_chars("day") == "s"
    assert "day" in trie and "da" not in trie and trie.next_chars("x") == ""
    assert trie.next_mask("da").tolist() == [c in "wy" for c in "\n adnswy"]


def test_every_candidate_ends_on_the_rhyme_trie_within_the_syllables(lm):
    chars = "".join(lm.vocab.chars)
    only = shakespeare_words()
    lex, words = form._lexicon(chars, only)
    ends = form._Ends(["night", "light", "sight", "delight"], chars)
    last, states = _read_prefix(lm, PROMPT + "\n", 1)
    found = form._search(lm, last, states, lex, ends, 10, 48, np.random.default_rng(0), 0.8, None)
    assert len(found) >= 10                                         # most candidates reach an end
    for text, word, syl, lp in found:
        said = prosody.words_of(text)
        assert said[-1] == word and word in {"night", "light", "sight", "delight"}
        assert syl == sum(prosody.syllables(w) for w in said) and 9 <= syl <= 11
        assert all(w in words for w in said) and lp < 0


# --- a sonnet ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [101, 202])
def test_a_sonnet_keeps_its_form(lm, seed):
    lines = list(form.write_form(lm, PROMPT, form.SCHEMES["sonnet"], seed=seed,
                                 words=shakespeare_words()))
    assert len(lines) == 14 and lines[0].text == PROMPT
    assert "".join(ln.letter for ln in lines) == "ababcdcdefefgg"
    pairs = rhyme_pairs(lines)
    assert len(pairs) == 7 and sum(p["held"] for p in pairs) >= 6
    ends = [ln.word for ln in lines]
    assert len(set(ends)) == 14                                     # never the same word twice
    counts = [sum(prosody.syllables(w) for w in prosody.words_of(ln.text)) for ln in lines]
    assert counts == [ln.syllables for ln in lines] and sum(9 <= c <= 11 for c in counts) >= 13
    written = " ".join(ln.text for ln in lines[1:])
    assert all(w in shakespeare_words() for w in prosody.words_of(written))


@pytest.mark.data
def test_a_sonnets_words_are_shakespeares_and_it_copies_no_long_run():
    text = dataset_path("shakespeare").read_text(encoding="utf-8").lower()
    plays = dataset_path("tinyshakespeare").read_text(encoding="utf-8")
    known = set(prosody.words_of(text)) | set(prosody.words_of(plays))
    lm = load_model("shakespeare")
    lines = list(form.write_form(lm, "when i consider every thing that grows", form.SCHEMES["sonnet"], seed=303,
                                 words=shakespeare_words(), avoid=text))
    words = prosody.words_of(" ".join(ln.text for ln in lines[1:]))
    assert sum(w in known for w in words) / len(words) >= 0.97
    assert longest_copied_run("\n".join(ln.text for ln in lines[1:]), text)[0] < 40


def test_longest_copied_run_is_the_longest_shared_substring():
    assert longest_copied_run("xxabcdyy", "..abcd..bcdyy") == (5, "bcdyy")
    assert longest_copied_run("xxabcdyy", "..abcd..") == (4, "abcd")
    assert longest_copied_run("zz", "abc") == (0, "")


# --- the command ------------------------------------------------------------------------------------------------
def run(capsys, *args):
    status = main(["poem", *args])
    out = capsys.readouterr()
    return status, out.out, out.err


def test_poem_form_quatrain_prints_its_lines_and_reports_on_stderr(capsys):
    status, out, err = run(capsys, PROMPT, "--form", "quatrain", "--seed", "4")
    assert status == 0 and out.splitlines()[0] == PROMPT and len(out.splitlines()) == 4
    assert "rhyme letters: a b a b" in err and "rhymes held:" in err and "nats/char" in err
    status, again, _ = run(capsys, PROMPT, "--form", "quatrain", "--seed", "4", "--json")
    report = json.loads(again)
    assert report["lines"] == out.splitlines() and report["letters"] == "abab" and report["seed"] == 4
    assert len(report["syllables"]) == 4 and len(report["rhyme_pairs"]) == 2
    assert 0 < report["nats_per_char"] < 3


def test_a_scheme_of_ones_own(capsys):
    status, out, err = run(capsys, "my love is as a fever", "--rhyme-scheme", "aa bb", "--syllables", "8",
                           "--seed", "1", "--json")
    report = json.loads(out)
    assert status == 0 and report["letters"] == "aabb" and err == ""
    assert all(7 <= s <= 9 for s in report["syllables"][1:])


@pytest.mark.parametrize("args, words", [
    ([PROMPT, "--rhyme-scheme", "ab1"], "--rhyme-scheme"),
    ([PROMPT, "--form", "sonnet", "--syllables", "2"], "--syllables"),
    ([PROMPT, "--form", "sonnet", "--beam", "2"], "--beam does not apply"),
    ([PROMPT, "--form", "sonnet", "--candidates", "0"], "--candidates"),
    (["--form", "sonnet"], "needs PROMPT"),
    (["!!!", "--form", "sonnet"], "has no word"),
    ([PROMPT, "--form", "sonnet", "--temperature", "-1"], "temperature"),
    ([PROMPT, "--beam", "2", "--no-repeat-ngram", "99"], "--no-repeat-ngram"),
    ([PROMPT, "--json"], "--json applies to a poem in a form"),
    ([PROMPT, "--syllables", "8"], "--syllables applies"),
])
def test_poem_form_bad_input_exits_2_with_one_line(capsys, args, words):
    status, out, err = run(capsys, *args)
    assert status == 2 and out == "" and words in err and err.count("\n") == 1


# --- no word n-gram twice ---------------------------------------------------------------------------------------
def repeated(text: str, n: int) -> list[tuple[str, ...]]:
    words = prosody.WORD.findall(text)
    grams = Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))
    return [g for g, c in grams.items() if c > 1]


def test_word_ngrams_refuse_the_end_of_a_repeated_ngram():
    g = WordNgrams(2, "to thee to")
    assert not g.would_repeat()                       # "to" as the word being written: (thee, to) not yet seen
    g.push(" ")
    for c in "thee":
        g.push(c)
    assert g.would_repeat()                           # (to, thee) again
    g.push("s")
    assert not g.would_repeat()                       # "thees" is another word


def test_a_beam_that_looped_no_longer_does(lm):
    prompt = PROMPT + "\n"
    loop = beam_search(lm, prompt, 160, 3, stop_at_newline=True, min_len=120, max_blank_lines=1)[0][0]
    assert repeated(prompt + loop, 2)                 # the likeliest poem repeats itself ...
    fixed = beam_search(lm, prompt, 160, 3, stop_at_newline=True, min_len=120, max_blank_lines=1,
                        no_repeat_ngram=2)[0][0]
    assert not repeated(prompt + fixed, 2) and len(fixed) >= 120     # ... and now does not


def test_sampling_without_a_word_twice(lm):
    texts = generate(lm, 3, prefix="when i", max_len=120, temperature=0.7, seed=3, no_repeat_ngram=1)
    whole = [t.rstrip("abcdefghijklmnopqrstuvwxyz'") for t in texts]     # the last word may be cut short
    assert all(not repeated("when i" + t, 1) for t in whole)
    plain = generate(lm, 3, prefix="when i", max_len=120, temperature=0.7, seed=3)
    assert any(repeated("when i" + t, 1) for t in plain)


def test_poem_beam_defaults_to_no_repeated_word_pairs(capsys, lm):
    status, out, _ = run(capsys, PROMPT, "--beam", "2", "--length", "80")
    assert status == 0 and out == PROMPT + complete(lm, PROMPT, 80, beam=2, no_repeat_ngram=2)
    assert not repeated(out, 2)


def test_the_default_sampling_and_plain_sampling(capsys, lm):
    _, out, _ = run(capsys, "when i", "--seed", "2", "--length", "60")
    assert out == "when i" + complete(lm, "when i", 60, 0.7, 2) + ("" if out.endswith("\n") else "\n")
    _, plain, _ = run(capsys, "when i", "--seed", "2", "--length", "60", "--temperature", "1")
    assert plain.startswith("when i" + complete(lm, "when i", 60, 1.0, 2)) and plain != out


# --- the playground's route -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from fastapi.testclient import TestClient

    from app_helpers import LOCAL, models_folder
    from seqlab.app.server import create_app

    with TestClient(create_app(models_folder(tmp_path_factory.mktemp("models"))), base_url=LOCAL) as c:
        yield c


def test_the_poem_route_streams_a_quatrain_line_by_line(client, lm):
    from app_helpers import parse_sse

    r = client.post("/api/poem", json={"prompt": PROMPT, "form": "quatrain", "seed": 4})
    assert r.status_code == 200
    events = parse_sse(r.text)
    lines = [data for event, data in events if event == "line"]
    expected = list(form.write_form(lm, PROMPT, "abab", temperature=0.8, seed=4, words=shakespeare_words()))
    assert [ln["text"] for ln in lines] == [ln.text for ln in expected]
    assert [ln["letter"] for ln in lines] == list("abab")
    assert [ln["syllables"] for ln in lines] == [ln.syllables for ln in expected]
    done = [data for event, data in events if event == "done"][0]
    assert done["rhymes_held"] == sum(p["held"] for p in done["rhyme_pairs"]) and len(done["rhyme_pairs"]) == 2


@pytest.mark.parametrize("body, field", [
    ({"form": "sonnet", "beam": 2}, "beam"),
    ({"form": "sonnet", "length": 100}, "length"),
    ({"form": "sonnet", "prompt": "when i\nconsider"}, "prompt"),
    ({"form": "sonnet", "prompt": "!!"}, "prompt"),
    ({"form": "villanelle"}, "'quatrain'"),            # the choices, named
])
def test_the_poem_route_refuses_what_a_form_cannot_use(client, body, field):
    r = client.post("/api/poem", json={"prompt": PROMPT, **body})
    assert r.status_code == 422 and field in r.text


def test_a_strict_rhyme_is_one_on_both_first_pronunciations():
    assert prosody.first_part("kinds") == "AY N D Z" and "AY N Z" in prosody.rhyming_parts("kinds")
    assert prosody.rhymes("declines", "kinds") and not prosody.rhymes_strictly("declines", "kinds")
    assert prosody.rhymes_strictly("day", "away") and prosody.rhymes_strictly("provise", "wise")
