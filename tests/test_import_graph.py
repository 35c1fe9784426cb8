"""The package's import graph, read from the source (ast, no imports run): no two modules import each other,
directly or round a circle (an import inside a function counts: it is still a dependency), no two domain
packages do, and the domain never imports a face.

Layers, as the founders' guide has them: the faces (commands/, app/) import the domain (text/, music/,
course/, explore/, pretrained/, torch_backend/, engine/, the top-level modules), never the other way round.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
FACES = ("commands", "app")


def _modules(root: Path) -> dict[str, Path]:
    """"seqlab.text.trainer" -> its file, for every module under root/seqlab (a package is its __init__)."""
    out = {}
    for path in sorted((root / "seqlab").rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> dict[str, int]:
    """The seqlab modules `name` imports anywhere in its file (outside `if TYPE_CHECKING:`), each with the
    line of its first import. `from P import x` names module P.x when that is a module, else P."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for n in ast.walk(node)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: dict[str, int] = {}
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:   # seqlab.x.y.attr -> seqlab.x.y
                target = target.rpartition(".")[0]
            if target and target != name:
                found.setdefault(target, node.lineno)
    return found


def _graph(root: Path = SRC) -> dict[str, dict[str, int]]:
    modules = _modules(root)
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    """One circle of the directed graph as [a, b, ..., a], or None."""
    colour, stack = {}, []

    def visit(node):
        colour[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if colour.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if colour.get(nxt) is None:
                found = visit(nxt)
                if found:
                    return found
        colour[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if colour.get(node) is None:
            found = visit(node)
            if found:
                return found
    return None


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (SRC / "seqlab" / parts[-1]).is_dir() else module


def _packages(graph) -> dict[str, dict[str, str]]:
    """Package -> {package it imports: one module edge that does it}; the faces left out (only their
    imports of each other would make a circle there, and the faces rule below is about the domain)."""
    out: dict[str, dict[str, str]] = {}
    for a, targets in graph.items():
        for b in targets:
            pa, pb = _package(a), _package(b)
            if pa != pb and pa not in FACES and pb not in FACES:
                out.setdefault(pa, {}).setdefault(pb, f"{a} -> {b}")
    return out


def _say(cycle, graph) -> str:
    return " -> ".join(cycle) + "  (" + "; ".join(
        f"{a} line {graph[a][b]}" for a, b in zip(cycle, cycle[1:])) + ")"


def test_no_two_modules_import_each_other():
    graph = _graph()
    assert {"seqlab.text.trainer", "seqlab.torch_backend.distributed", "seqlab.pretrained.build"} <= set(graph)
    cycle = _cycle(graph)
    assert cycle is None, "import circle: " + _say(cycle, graph)


def test_no_two_domain_packages_import_each_other():
    packages = _packages(_graph())
    cycle = _cycle({a: dict.fromkeys(b) for a, b in packages.items()})
    assert cycle is None, "package circle: " + "; ".join(packages[a][b] for a, b in zip(cycle, cycle[1:]))


def test_the_domain_imports_no_face():
    bad = [f"{a} imports {b} (line {line})" for a, targets in _graph().items() for b, line in targets.items()
           if _package(a) not in FACES and _package(b) in FACES and a != "seqlab.cli"]
    assert not bad, "; ".join(bad)


def _tree(tmp_path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / "seqlab" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@pytest.mark.parametrize("files, circle", [
    # the trainer <-> torch backend circle this package had: a lazy import inside a function counts
    ({"__init__.py": "", "text/__init__.py": "", "text/trainer.py": "def f():\n    from seqlab.b.d import g\n",
      "b/__init__.py": "", "b/d.py": "from seqlab.text.trainer import f\n"},
     ["seqlab.b.d", "seqlab.text.trainer", "seqlab.b.d"]),
    # relative imports and `from package import module`
    ({"__init__.py": "", "p/__init__.py": "", "p/build.py": "from . import recipe\n",
      "p/recipe.py": "from .build import main\n"},
     ["seqlab.p.build", "seqlab.p.recipe", "seqlab.p.build"]),
    ({"__init__.py": "", "p/__init__.py": "", "p/a.py": "import typing\nif typing.TYPE_CHECKING:\n"
      "    from seqlab.p.b import X\n", "p/b.py": "from seqlab.p import a\n"}, None),
])
def test_the_walk_finds_circles(tmp_path, files, circle):
    assert _cycle(_graph(_tree(tmp_path, files))) == circle


def test_the_walk_finds_a_package_circle_and_a_domain_importing_a_face(tmp_path):
    root = _tree(tmp_path, {"__init__.py": "", "music/__init__.py": "", "music/bundle.py": "import seqlab.pretrained\n",
                            "pretrained/__init__.py": "", "pretrained/build.py": "from seqlab.music.bundle import x\n",
                            "commands/__init__.py": "", "commands/c.py": "", "text/t.py": "import seqlab.commands.c\n"})
    graph = _graph(root)
    assert _cycle(graph) is None                 # no circle of modules ...
    packages = _packages(graph)
    assert _cycle({a: dict.fromkeys(b) for a, b in packages.items()}) in (
        ["music", "pretrained", "music"], ["pretrained", "music", "pretrained"])   # ... but one of packages
    assert graph["seqlab.text.t"] == {"seqlab.commands.c": 1}
