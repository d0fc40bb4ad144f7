"""How the packages import: no circles, and nothing for tests or synthetic bundles at runtime."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGES = Path(__file__).parents[2] / "packages"


def _modules() -> dict[str, tuple[Path, bool]]:
    """Every module of every package (``src/``, or the package's own folder for the LiveKit
    plugin's namespace layout): dotted name → (file, is a package)."""
    found = {}
    for package in PACKAGES.iterdir():
        src = package / "src" if (package / "src").is_dir() else package
        for path in src.rglob("*.py"):
            parts = list(path.relative_to(src).with_suffix("").parts)
            package = parts[-1] == "__init__"
            found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


def _imports(name: str, path: Path, package: bool, modules: dict) -> set[str]:
    """The modules of ``modules`` that ``name`` imports, those under TYPE_CHECKING included:
    a circle a type checker has to untangle is a circle a reader has to untangle too."""
    here = name if package else name.rpartition(".")[0]
    edges: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            edges.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")[: len(here.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            submodules = {f"{target}.{a.name}" for a in node.names} & modules.keys()
            edges.update(submodules)
            if len(submodules) < len(node.names):  # names from the module itself
                edges.add(target)
    return (edges & modules.keys()) - {name}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while (top := stack.pop()) != node:
                component.append(top)
            if component:
                circles.append(sorted([node, *component]))

    for node in graph:
        if node not in index:
            visit(node)
    return circles


def test_no_package_has_an_import_circle() -> None:
    modules = _modules()
    assert len(modules) > 50  # every package was found
    graph = {name: _imports(name, *where, modules) for name, where in modules.items()}
    assert _circles(graph) == []


def test_the_circle_finder_finds_one() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize(
    ("statement", "absent"),
    [
        ("import supertonic_core", ("supertonic_core.synthetic", "onnx")),
        ("import supertonic_server", ("supertonic_server.testing",)),
        (
            "import supertonic_server.app",
            ("supertonic_server.testing", "supertonic_core.synthetic"),
        ),
    ],
)
def test_runtime_imports_leave_out_test_and_synthetic_code(
    statement: str, absent: tuple[str, ...]
) -> None:
    """``synthetic`` needs onnx (the ``synthetic`` extra) and ``testing`` is for tests: a
    runtime install has neither, so importing what it serves must not need them."""
    code = f"{statement}; import sys; print(sorted(set(sys.modules) & set({absent!r})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
