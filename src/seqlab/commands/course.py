"""`seqlab course`: the course's exercises with blanks (list, start) and an offline grader (grade)."""

from __future__ import annotations

import json
import sys
import textwrap


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "course", help="do the course: exercises with blanks, and a grader that names the mistake",
        description="The course's graded functions as exercise notebooks (or .py files) and an offline grader: "
                    "the course's own tests, hidden cases, gradient checks, and the mistake named when known.")
    sub = p.add_subparsers(dest="course_command", metavar="ACTION", parser_class=type(p))
    ls = sub.add_parser("list", help="the exercises, by assignment, with points")
    ls.set_defaults(func=run_list)
    st = sub.add_parser("start", help="write the exercise notebooks (never over a file already there)")
    st.add_argument("dir", nargs="?", default="course", help="folder to write into (default: course)")
    st.add_argument("--format", choices=("ipynb", "py"), default="ipynb", help="notebooks (default) or .py files")
    st.add_argument("--force", action="store_true", help="replace existing files, keeping each as FILE.bak")
    st.set_defaults(func=run_start)
    gr = sub.add_parser("grade", help="grade a notebook or .py file (exit 0: all passed, 1: not all)")
    gr.add_argument("file", help="a .ipynb or .py file defining the exercises by their course names")
    gr.add_argument("--exercise", metavar="NAME", help="grade this function only")
    gr.add_argument("--json", action="store_true", help="print the result as JSON")
    gr.add_argument("--time-limit", type=float, default=10.0, metavar="S", help="seconds per function (10)")
    gr.set_defaults(func=run_grade)
    p.set_defaults(func=lambda args: p.print_help() or 0)


def run_list(args) -> int:
    from seqlab.course.exercises.catalogue import ASSIGNMENTS, of_assignment

    for a in ASSIGNMENTS:
        exs = of_assignment(a.key)
        print(f"{a.title}  [{a.key}, {sum(e.points for e in exs)} points]")
        print(textwrap.fill(a.blurb, 100, initial_indent="  ", subsequent_indent="  "))
        for e in exs:
            extra = "  (needs PyTorch)" if e.needs else ""
            print(f"  {e.name:<20} {e.points} point{'s' if e.points > 1 else ''}{extra}")
    return 0


def run_start(args) -> int:
    from pathlib import Path

    from seqlab.course.exercises.templates import write_all
    from seqlab.errors import UserError

    folder = Path(args.dir)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder} is a file; expected a folder to write the exercises into")
    try:
        done = write_all(folder, args.format, args.force)
    except OSError as exc:
        raise UserError(f"cannot write into {folder}: {exc.strerror or exc}") from None
    for path, what, copy in done:
        if what == "kept":
            print(f"{path}: already there, left as it is (--force replaces it, keeping a copy as {path.name}.bak)")
        elif what == "replaced":
            print(f"{path}: replaced" + (f" (the previous file is {copy.name})" if copy else
                                         " (it was the untouched template)"))
        else:
            print(f"{path}: written")
    print(f"Fill in the blanks, run each check(\"…\") cell, or: seqlab course grade {folder}/FILE")
    return 0


def run_grade(args) -> int:
    from seqlab.course.exercises import report
    from seqlab.course.exercises.files import grade_file
    from seqlab.errors import UserError

    if not args.time_limit > 0:
        raise UserError(f"--time-limit: expected a positive number of seconds, got {args.time_limit:g}")
    results, load_errors = grade_file(args.file, args.exercise, args.time_limit)
    if args.json:
        json.dump(report.to_json(results), sys.stdout, indent=1, ensure_ascii=False)
        print()
    else:
        print(report.text(results, str(args.file), load_errors))
    return 0 if all(r["passed"] or r["status"] == "skipped" for r in results) else 1
