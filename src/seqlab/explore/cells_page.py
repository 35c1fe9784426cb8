"""The cells explorer's page and figures: the text coloured by one cell's value per character, in the style
of Karpathy et al.'s figures (blue below 0, red above, white at 0; values in [−1, 1]).

    html = cells_html(result, title)   # one self-contained page: inline CSS, no script, nothing fetched
    fig = draw_cells(result)           # the same blocks as an image (the first lines of the text)
    fig = draw_saturation(result)      # fraction of characters each gate spends < 0.1 and > 0.9 (Fig. 3)

`result` is what seqlab.explore.cells.explain returns.
"""

from __future__ import annotations

import html
import re

import numpy as np

from seqlab.explore.figures import figure_bytes, new_figure

LEVELS = 21                       # colour classes from −1 to 1
NEG, POS = np.array([33, 102, 172]), np.array([178, 24, 43])   # blue, red at the ends


def colour(v: float) -> str:
    """#rrggbb for a value in [−1, 1] (clipped): white at 0, blue towards −1, red towards +1."""
    v = float(np.clip(v, -1.0, 1.0))
    end = POS if v > 0 else NEG
    rgb = np.round(255 + (end - 255) * abs(v)).astype(int)
    return "#" + "".join(f"{c:02x}" for c in rgb)


def _level(v: np.ndarray) -> np.ndarray:
    return np.round((np.clip(v, -1, 1) + 1) / 2 * (LEVELS - 1)).astype(int)


def _css() -> str:
    levels = "\n".join(f".v{k}{{background:{colour(-1 + 2 * k / (LEVELS - 1))}}}" for k in range(LEVELS))
    return ("body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}"
            "h1{font-size:20px}h2{font-size:15px;margin:22px 0 6px}p.note{color:#555;font-size:13px}"
            ".text{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;line-height:1.5;"
            "white-space:pre-wrap;word-break:break-all;border:1px solid #ddd;padding:8px;max-height:420px;"
            "overflow:auto}.text span{border-radius:1px}.nl{color:#999}"
            "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;"
            "text-align:right}th{background:#f4f4f4}.legend span{display:inline-block;width:18px;height:14px}"
            "svg{max-width:100%;height:auto}\n" + levels)


def _spans(text: str, values: np.ndarray) -> str:
    parts = []
    for ch, k in zip(text, _level(values).tolist()):
        if ch == "\n":
            parts.append(f'<span class="v{k} nl">↵</span>\n')
        else:
            parts.append(f'<span class="v{k}">{html.escape(ch)}</span>')
    return "".join(parts)


def _inline_svg(fig) -> str:
    svg = figure_bytes(fig, "svg").decode("utf-8")
    svg = svg[svg.index("<svg"):]                  # drop the XML prologue and doctype
    # the metadata block (a date, Dublin Core namespaces) and its namespace declarations: not needed inline
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    return re.sub(r'\s+xmlns:(dc|cc|rdf)="[^"]*"', "", svg)


def cells_html(result: dict, title: str) -> str:
    """The page: a colour legend, one block per shown cell (its correlation above it), the saturation
    table and scatter of every gated layer."""
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{html.escape(title)}</title>", f"<style>{_css()}</style></head><body>",
           f"<h1>{html.escape(title)}</h1>",
           '<p class="note legend">Each character is coloured by the cell\'s value after reading it: '
           + "".join(f'<span class="v{k}"></span>' for k in range(LEVELS))
           + " from −1 (blue) through 0 (white) to +1 (red). r is Pearson's correlation of the value with "
           "the feature over every character of the text.</p>"]
    if result.get("skipped"):
        skipped = html.escape(", ".join(result["skipped"]))
        out.append(f'<p class="note">Left out, constant over this text: {skipped}.</p>')
    for block in result["shown"]:
        out.append(f"<h2>{html.escape(block['title'])}</h2>")
        out.append(f'<div class="text">{_spans(result["text"], block["values"])}</div>')
    sat = result["saturation"]
    if sat:
        out.append("<h2>Gate saturation (the paper's Fig. 3)</h2>")
        out.append('<p class="note">Mean over the cells of each layer of the fraction of characters at which '
                   "a gate is left-saturated (&lt; 0.1) and right-saturated (&gt; 0.9); each dot of the figure "
                   "is one cell's gate.</p>")
        out.append("<table><tr><th>layer</th><th>gate</th><th>left-saturated</th><th>right-saturated</th></tr>")
        for layer, gates in sat.items():
            for gate, f in gates.items():
                out.append(f"<tr><td>{layer}</td><td>{gate}</td><td>{np.mean(f['left']):.3f}</td>"
                           f"<td>{np.mean(f['right']):.3f}</td></tr>")
        out.append("</table>")
        out.append(_inline_svg(draw_saturation(result)))
    out.append("</body></html>")
    return "\n".join(out)


def _grid(text: str, values: np.ndarray, rows: int, cols: int):
    """The first `rows` lines of the text, each cut at `cols`: (chars, values (rows, cols) NaN-padded)."""
    chars = [[""] * cols for _ in range(rows)]
    grid = np.full((rows, cols), np.nan)
    r = c = 0
    for ch, v in zip(text, values):
        if r >= rows:
            break
        if c < cols:
            chars[r][c] = "↵" if ch == "\n" else ch
            grid[r, c] = v
        c += 1
        if ch == "\n":
            r, c = r + 1, 0
    return chars, grid


def draw_cells(result: dict, rows: int = 6, cols: int = 64):
    """A Figure with one panel per shown block: the first `rows` lines of the text (cut at `cols`
    characters), each character on its cell's colour."""
    from matplotlib.colors import LinearSegmentedColormap

    blocks = result["shown"] or []
    n = max(len(blocks), 1)
    fig, axes = new_figure(cols * 0.115 + 0.4, n * (rows * 0.2 + 0.45), nrows=n, ncols=1, squeeze=False)
    cmap = LinearSegmentedColormap.from_list("cells", [colour(-1), "#ffffff", colour(1)]).with_extremes(
        bad="#ffffff")
    for ax, block in zip(axes[:, 0], blocks):
        start = block.get("start", 0)
        chars, grid = _grid(result["text"][start:], block["values"][start:], rows, cols)
        ax.imshow(grid, cmap=cmap, vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
        for r, line in enumerate(chars):
            for c, ch in enumerate(line):
                if ch.strip():
                    ax.text(c, r, ch, ha="center", va="center", fontsize=7.5, family="monospace",
                            color="#999" if ch == "↵" else "#111")
        ax.set_title(block["title"], fontsize=8.5, loc="left")
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[len(blocks):, 0]:
        ax.axis("off")
    fig.tight_layout(pad=0.4, h_pad=0.6)
    return fig


GATE_COLOURS = {"input": "#1f77b4", "forget": "#2ca02c", "output": "#d62728", "reset": "#ff7f0e",
                "keep": "#9467bd"}


def draw_saturation(result: dict):
    """A Figure per gated layer: x = fraction of characters with the gate < 0.1, y = > 0.9, one dot per cell's
    gate (the paper's Fig. 3)."""
    sat = result["saturation"]
    n = max(len(sat), 1)
    fig, axes = new_figure(3.3 * n + 0.4, 3.4, nrows=1, ncols=n, squeeze=False)
    for ax, (layer, gates) in zip(axes[0], sat.items()):
        ax.plot([0, 1], [1, 0], color="#bbb", lw=0.8)
        for gate, f in gates.items():
            ax.scatter(f["left"], f["right"], s=9, alpha=0.6, color=GATE_COLOURS.get(gate), label=gate)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.set_title(f"layer {layer}", fontsize=9)
        ax.set_xlabel("fraction left-saturated (< 0.1)", fontsize=8)
        ax.set_ylabel("fraction right-saturated (> 0.9)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig
