"""Temperature: how dividing the log-probabilities by T reshapes what a sampler picks.

    result = temperature_report(lm, prefix="", temperatures=(0.5, 1.0, 1.5), seed=0)
    result["temperatures"]   # as given
    result["entropy"]        # nats, one per temperature: H(p_T) = −Σ p_T log p_T, p_T = softmax(log p / T)
    result["top"]            # per temperature, the top characters [[char, p], …], likeliest first
    result["samples"]        # per temperature, one continuation of the prefix sampled at that temperature
    result["curve"]          # {"temperature": (M,), "entropy": (M,)}: the entropy over a fine grid
    result["max_entropy"]    # log V, the entropy of the uniform distribution over the vocabulary
    fig = draw_sampling(result)

The model first reads the start token '\\n' and then the normalised prefix, as `seqlab sample` does; the
distribution is that of the next character. The sampler is seqlab.text.sampling's.
"""

from __future__ import annotations

import textwrap

import numpy as np

from seqlab.errors import UserError
from seqlab.explore.figures import new_figure
from seqlab.explore.threads import one_blas_thread
from seqlab.text.sampling import generate, next_distribution

DEFAULT_TEMPERATURES = (0.5, 1.0, 1.5)
CURVE = np.geomspace(0.05, 5.0, 61)


def entropy(p: np.ndarray) -> float:
    """−Σ p log p in nats over a probability vector (terms with p = 0 count 0)."""
    nz = p[p > 0]
    return float(-(nz * np.log(nz)).sum())


@one_blas_thread
def temperature_report(lm, prefix: str = "", temperatures=DEFAULT_TEMPERATURES, top: int = 10,
                       length: int = 100, seed: int = 0) -> dict:
    """The numbers of the sampling explorer (see the module docstring); a prefix character outside the
    vocabulary, a temperature <= 0 or an empty list of temperatures is a UserError."""
    temperatures = [float(t) for t in temperatures]
    if not temperatures:
        raise UserError("no temperatures given; expected positive numbers")
    for t in temperatures:
        if not np.isfinite(t) or t <= 0:
            raise UserError(f"a temperature must be a positive number, got {t}")
    if top < 1 or length < 1:
        raise UserError(f"--top and --length must be at least 1, got {top} and {length}")
    ids = np.concatenate([[lm.start_id], lm.encode(prefix)]).astype(np.int64)   # UserError on unknown chars
    lp, _ = lm.model.log_probs(ids[:, None])
    last = lp[-1]                                                                # (1, V)
    chars = lm.vocab.chars
    out = {"temperatures": temperatures, "entropy": [], "top": [], "samples": []}
    for k, t in enumerate(temperatures):
        p = next_distribution(last, t)[0]
        order = np.argsort(-p, kind="stable")[:top]
        out["entropy"].append(entropy(p))
        out["top"].append([[chars[i], float(p[i])] for i in order])
        out["samples"].append(generate(lm, 1, prefix=prefix, max_len=length, temperature=t,
                                       rng=np.random.default_rng([seed, k]))[0])
    out["curve"] = {"temperature": CURVE.copy(),
                    "entropy": np.array([entropy(next_distribution(last, t)[0]) for t in CURVE])}
    out["max_entropy"] = float(np.log(len(chars)))
    out["prefix"] = lm.normalize(prefix)
    return out


def shown(ch: str) -> str:
    """A character as a label: the newline and the space made visible."""
    return {"\n": "↵", " ": "␣", "\t": "⇥"}.get(ch, ch)


def draw_sampling(result: dict, title: str | None = None):
    """A Figure: one bar chart of the top characters per temperature (its sample below it) and the entropy
    against the temperature."""
    temps = result["temperatures"]
    n = len(temps)
    fig, axes = new_figure(max(3.0 * n, 7.0), 6.4)
    fig.delaxes(axes)
    # hspace: room for the samples under the bars (four lines at most), no more (it was an empty band)
    grid = fig.add_gridspec(2, n, height_ratios=[1.35, 1.0], hspace=0.62, wspace=0.3)
    ymax = max(p for top in result["top"] for _, p in top) * 1.08
    for k, (t, top) in enumerate(zip(temps, result["top"])):
        ax = fig.add_subplot(grid[0, k])
        labels = [shown(c) for c, _ in top]
        ax.bar(range(len(top)), [p for _, p in top], color="#4c72b0")
        ax.set_xticks(range(len(top)))
        ax.set_xticklabels(labels, family="monospace", fontsize=9)
        ax.set_ylim(0, ymax)
        ax.set_title(f"T = {t:g}: entropy {result['entropy'][k]:.2f} nats", fontsize=9)
        if k == 0:
            ax.set_ylabel("probability of the next character", fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
        sample = result["prefix"] + result["samples"][k]
        sample = sample.replace("\n", "↵ ")
        wrapped = "\n".join(textwrap.wrap(sample, 34)[:4])
        ax.set_xlabel(f"sample:\n{wrapped}", fontsize=7.5, family="monospace", loc="left")
    ax = fig.add_subplot(grid[1, :])
    ax.semilogx(result["curve"]["temperature"], result["curve"]["entropy"], color="#4c72b0", lw=2)
    ax.plot(temps, result["entropy"], "o", color="#c44e52")
    ax.axhline(result["max_entropy"], color="#777", ls="--", lw=1,
               label=f"uniform over the vocabulary (log V = {result['max_entropy']:.2f})")
    top = max(float(np.max(result["curve"]["entropy"])), result["max_entropy"])
    ax.set_ylim(0, top * 1.08)   # the uniform line in the legend is on the plot too (it used to fall above it)
    ax.set_xlabel("temperature T")
    ax.set_ylabel("entropy (nats)")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, alpha=0.3)
    prefix = result["prefix"]
    default = (f"The next character after {prefix!r}" if prefix else
               "The first character (after the start token, the start of a line)")
    fig.suptitle(title or default, fontsize=11)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.09)
    _close_up(fig, fig.axes[:n], ax)
    return fig


def _close_up(fig, above, below, gap: float = 0.03) -> None:
    """Raise the top of `below` to `gap` (figure fraction) under the lowest text of the axes `above`: short
    samples left a large empty band between the rows."""
    renderer = fig.canvas.get_renderer()
    lowest = min(a.get_tightbbox(renderer).transformed(fig.transFigure.inverted()).y0 for a in above)
    pos = below.get_position()
    below.set_position([pos.x0, pos.y0, pos.width, max(lowest - gap - pos.y0, pos.height)])
