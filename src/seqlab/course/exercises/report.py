"""The grader's words: a table per file for the terminal, the small table under a `check` cell, and the JSON
shape {"exercises": [{"name", "passed", "points", "max_points", "message"}], "score", "max_score"}."""

from __future__ import annotations

MARK = {"passed": "✓", "failed": "✗", "error": "✗", "not attempted": "·", "skipped": "-"}


def to_json(results: list[dict]) -> dict:
    rows = [{k: r[k] for k in ("name", "passed", "points", "max_points", "message")} for r in results]
    return {"exercises": rows, "score": sum(r["points"] for r in results),
            "max_score": sum(r["max_points"] for r in results)}


def _indent(text: str, pad: str) -> str:
    return "\n".join(pad + line for line in text.splitlines())


def text(results: list[dict], title: str, load_errors=()) -> str:
    width = max([len(r["name"]) for r in results] + [8])
    lines = [title]
    for err in load_errors:
        lines.append(_indent("note: running the file raised (grading went on):\n" + err, "  "))
    for r in results:
        first, *rest = r["message"].splitlines() or [""]
        score = f"{r['points']:>2}/{r['max_points']:<2}"
        lines.append(f"  {MARK.get(r['status'], '?')} {r['name']:<{width}}  {score}  {first}")
        lines += [" " * (width + 13) + line for line in rest]
    js = to_json(results)
    n_ok = sum(r["passed"] for r in results)
    lines.append(f"  score {js['score']}/{js['max_score']} ({n_ok} of {len(results)} passed)")
    return "\n".join(lines)


def show_check(r: dict) -> None:
    """The table under a notebook's check cell: one row per check run, then the verdict."""
    rows = [(label, "ok") for label, _ in r["checks"]]
    if r["status"] != "passed":
        rows.append(("→", r["status"]))
    width = max([len(a) for a, _ in rows] + [10])
    print(f"{r['name']}: {r['status']} — {r['points']}/{r['max_points']} points")
    for label, verdict in rows:
        print(f"  {label:<{width}}  {verdict}")
    if r["status"] != "passed":
        print(_indent(r["message"], "  "))
