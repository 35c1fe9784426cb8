"""`seqlab data`: list, download or import the course datasets into the local cache."""

from __future__ import annotations

import argparse

from seqlab import data


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "data", help="list, fetch or import the course datasets",
        description="The datasets live in $SEQLAB_HOME (default ~/.cache/seqlab). `fetch` downloads them, "
                    "`import` copies local files in; both verify the sha256 first.")
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("list", help="show each dataset and whether it is present").set_defaults(func=_list)
    known = "\n".join(f"  {ds.name:18s} {ds.filename}: {ds.description}" for ds in data.DATASETS.values())
    f = sub.add_parser("fetch", help="download datasets by name and verify them", epilog=f"datasets:\n{known}",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    f.add_argument("names", nargs="+", metavar="NAME", help="dataset names (listed below)")
    f.set_defaults(func=_fetch)
    i = sub.add_parser("import", help="copy local dataset files into the cache after verifying them",
                       epilog=f"datasets (a file is recognised by its bytes, whatever its name):\n{known}",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    i.add_argument("paths", nargs="+", metavar="PATH", help="the dataset files to import")
    i.set_defaults(func=_import)


def _list(args) -> int:
    # The folder is said once above the table: a path on every row pushed the rows past 80 columns, and the
    # long file name (shakespeare-keras's) last, where its overflow breaks no column.
    print(f"datasets in {data.cache_dir()}:")
    rows = [("name", "present", "bytes", "file")]
    for ds in data.DATASETS.values():
        cached = data.cache_dir() / ds.filename
        # a file that is there with other bytes is not "no": it says what to do (import or fetch again)
        state = "yes" if data.is_present(ds.name) else "wrong sha256" if cached.is_file() else "no"
        rows.append((ds.name, state, f"{ds.size:,}", ds.filename))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.rjust(w) if i == 2 else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip())
    return 0


def _fetch(args) -> int:
    for name in args.names:
        data.dataset(name)  # unknown names fail before any download
    for name in args.names:
        print(f"{name}: {data.fetch(name)}")
    return 0


def _import(args) -> int:
    for p in data.import_files(args.paths):
        print(f"imported {p}")
    return 0
