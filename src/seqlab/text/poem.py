"""The poem writer's free verse: complete the beginning of a poem, sampled character by character or searched
with a beam. Both faces use it (`seqlab poem`, the playground's Poem panel); the form search (a sonnet, a
quatrain) is seqlab.text.form."""

from __future__ import annotations

from seqlab.text.sampling import beam_search, sample_steps

MAX_EXTRA = 400  # how far past `length` the completion may run while looking for the end of a line
MAX_BLANK_LINES = 1  # a beam's poem: a stanza break, not the run of empty lines it finds likeliest


def completion(lm, prompt: str, length: int, temperature: float = 1.0, top_k: int | None = None,
               seed: int | None = None, top_p: float | None = None, no_repeat_ngram: int | None = None):
    """The sampled characters of the completion of `prompt`, one at a time as each is chosen: at least
    `length` of them, ending at the first end of line from there on (at most length + MAX_EXTRA).
    no_repeat_ngram=N: no word N-gram twice (seqlab.text.sampling). Bad options are UserErrors raised by
    this call, before any character."""
    steps = sample_steps(lm, 1, prefix=prompt, max_len=length + MAX_EXTRA, temperature=temperature, top_k=top_k,
                         top_p=top_p, seed=seed, no_repeat_ngram=no_repeat_ngram)

    def chars():
        for t, (nxt, _) in enumerate(steps):
            ch = lm.vocab.chars[int(nxt[0])]
            yield ch
            if ch == "\n" and t + 1 >= length:
                return
    return chars()


def complete(lm, prompt: str, length: int, temperature: float = 1.0, seed: int | None = None, *,
             top_k: int | None = None, top_p: float | None = None, beam: int | None = None,
             no_repeat_ngram: int | None = None, on_char=None) -> str:
    """The completion of `prompt` (see `completion`), sampled, or with `beam` the likeliest such completion a
    beam of that width finds. on_char(c) is called with each sampled character as soon as it is chosen
    (with a beam: once, with the whole completion)."""
    if beam is not None:
        text = beam_search(lm, prompt, length + MAX_EXTRA, beam, stop_at_newline=True, min_len=length,
                           max_blank_lines=MAX_BLANK_LINES, no_repeat_ngram=no_repeat_ngram)[0][0]
        if on_char is not None:
            on_char(text)
        return text
    chars = []
    for ch in completion(lm, prompt, length, temperature, top_k, seed, top_p, no_repeat_ngram):
        chars.append(ch)
        if on_char is not None:
            on_char(ch)
    return "".join(chars)
