"""The Poem panel's forms: POST /api/poem with {form: "sonnet" | "quatrain" | "couplet"} streams the poem a
line at a time (seqlab.text.form), each line with its rhyme letter and syllables, then the report.

    event: start  {seed, model, form, scheme}
    event: line   {text, letter, syllables, partner, held}     (line 1 is the prompt)
    event: done   {lines, rhymes_held, rhyme_pairs, syllables, real_word_rate, nats_per_char, seconds}
    event: error  {detail}                                       (no line could be found; the poem stops)
"""

from __future__ import annotations

import time

from starlette.concurrency import run_in_threadpool

from seqlab.app.errors import FieldError
from seqlab.errors import UserError
from seqlab.pretrained.lexicon import shakespeare_words
from seqlab.text import prosody
from seqlab.text.form import SCHEMES, write_form
from seqlab.text.poem_report import report

FORM_TEMPERATURE = 0.8   # the candidates' temperature when the request names none


def check_form(body, lm) -> None:
    """422 for what a form cannot use: a beam, top-k, a length, a prompt of more than one line or of no word."""
    for name in ("beam", "top_k", "length"):
        if name in body.model_fields_set and getattr(body, name) is not None:
            raise FieldError(name, f"{name.replace('_', '-')} does not apply to a {body.form}: its lines are "
                                   f"searched for one by one")
    prompt = lm.normalize(body.prompt).strip()
    if "\n" in prompt:
        raise FieldError("prompt", f"prompt: a {body.form}'s prompt is its first line; it holds a line end")
    if not prosody.words_of(prompt):
        raise FieldError("prompt", f"prompt: it has no word; its last word sets the {body.form}'s first rhyme")


def _next(lines, lock):
    with lock:
        return next(lines, None)


def form_events(lm, body, seed: int, lock, sse):
    """The server-sent events of a poem in a form (see the module's docstring)."""
    temperature = body.temperature if "temperature" in body.model_fields_set else FORM_TEMPERATURE
    words = shakespeare_words() if body.model == "shakespeare" else None
    lines = write_form(lm, body.prompt, SCHEMES[body.form], temperature=temperature, top_p=body.top_p,
                       seed=seed, words=words)

    async def events():
        yield sse({"seed": seed, "model": body.model, "form": body.form, "scheme": SCHEMES[body.form]},
                  event="start")
        poem, start = [], time.perf_counter()
        try:
            while (line := await run_in_threadpool(_next, lines, lock)) is not None:
                poem.append(line)
                yield sse({"text": line.text, "letter": line.letter, "syllables": line.syllables,
                           "partner": line.partner, "held": line.held}, event="line")
        except UserError as exc:
            yield sse({"detail": str(exc)}, event="error")
            return
        finally:
            lines.close()
        rep = report(lm, poem, seconds=time.perf_counter() - start)
        yield sse({k: rep[k] for k in ("lines", "rhymes_held", "rhyme_pairs", "syllables", "real_word_rate",
                                       "nats_per_char", "seconds")}, event="done")
    return events()
