"""The package's structure: no module reaches into another module's underscore names.

A name that starts with one underscore is its module's own business; a module that needs it
from elsewhere needs a public helper instead. Private *modules* (``micrograd_x._files``,
``micrograd_x.testing._reference``) may be imported by name, but their underscore-prefixed members
may not. The check reads the source with :mod:`ast`, so nothing of the package runs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "micrograd_x"

ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        # (module file relative to the package, "module.name" it reaches into).
        # Empty: every module uses only public names of the others. A case that cannot be fixed
        # at once is listed here, with the reason, so that the test still fails on any new one.
    }
)


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _module_exists(root: Path, dotted: str) -> bool:
    """Whether ``dotted`` (``micrograd_x.a.b``) names a module or package below ``root``."""
    parts = dotted.split(".")
    if parts[0] != root.name:
        return False
    base = root.joinpath(*parts[1:])
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _module_name(root: Path, path: Path) -> str:
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an ``from … import`` names, relative imports resolved."""
    if not node.level:
        return node.module or ""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _dotted(node: ast.expr) -> list[str] | None:
    """``a.b.c`` as ``["a", "b", "c"]``; ``None`` for anything but names and attributes."""
    names: list[str] = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id, *reversed(names)]


def private_reaches(root: Path, path: Path, source: str) -> Iterator[tuple[int, str]]:
    """Each place where ``source`` (the file ``path`` of the package at ``root``) uses another
    module's underscore name: its line and the name as ``module.name``."""
    tree = ast.parse(source)
    own = _module_name(root, path)
    modules: dict[str, str] = {}  # local name -> package module it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == root.name:
                    local = alias.asname or alias.name.split(".")[0]
                    modules[local] = alias.name if alias.asname else root.name
        elif isinstance(node, ast.ImportFrom):
            source_module = _absolute(own, path, node)
            if source_module.split(".")[0] != root.name:
                continue
            for alias in node.names:
                full = f"{source_module}.{alias.name}"
                if _module_exists(root, full):
                    modules[alias.asname or alias.name] = full
                elif _is_private(alias.name) and source_module != own:
                    yield node.lineno, full
    inner = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    for node in ast.walk(tree):
        chain: list[str] | None = None
        if isinstance(node, ast.Attribute) and id(node) not in inner:  # a chain's outermost
            chain = _dotted(node)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            chain = _dotted(node.args[0])
            chain = None if chain is None else [*chain, node.args[1].value]
        if not chain or chain[0] not in modules:
            continue
        current = modules[chain[0]]
        for name in chain[1:]:
            if _module_exists(root, f"{current}.{name}"):
                current = f"{current}.{name}"
                continue
            if _is_private(name) and current != own:
                yield node.lineno, f"{current}.{name}"
            break


def package_reaches(root: Path = PACKAGE) -> set[tuple[str, str, int]]:
    found: set[tuple[str, str, int]] = set()
    for path in sorted(root.rglob("*.py")):
        for line, name in private_reaches(root, path, path.read_text(encoding="utf-8")):
            found.add((path.relative_to(root).as_posix(), name, line))
    return found


def test_no_module_uses_another_modules_underscore_names() -> None:
    found = package_reaches()
    new = sorted(f"{f}:{line}: {name}" for f, name, line in found if (f, name) not in ALLOWED)
    assert not new, "modules reaching into other modules' private names:\n" + "\n".join(new)


def test_the_allow_list_is_not_stale() -> None:
    used = {(f, name) for f, name, _ in package_reaches()}
    assert used >= ALLOWED, f"fixed, remove from ALLOWED: {sorted(ALLOWED - used)}"


@pytest.mark.parametrize(
    ("file", "source", "expected"),
    [
        ("a.py", "from micrograd_x.graph import _walk\n", ["micrograd_x.graph._walk"]),
        ("a.py", "from .graph import walk, _walk\n", ["micrograd_x.graph._walk"]),
        ("testing/a.py", "from ..graph import _walk\n", ["micrograd_x.graph._walk"]),
        ("testing/a.py", "from ._reference import _x\n", ["micrograd_x.testing._reference._x"]),
        ("a.py", "from micrograd_x import graph\ngraph._walk(1)\n", ["micrograd_x.graph._walk"]),
        ("a.py", "import micrograd_x.graph as g\nf = g._walk\n", ["micrograd_x.graph._walk"]),
        ("a.py", "import micrograd_x\nmicrograd_x.graph._walk\n", ["micrograd_x.graph._walk"]),
        (
            "a.py",
            "import micrograd_x.testing._reference as r\nr._x\n",
            ["micrograd_x.testing._reference._x"],
        ),
        ("a.py", "from micrograd_x import ops\ngetattr(ops, '_dot')\n", ["micrograd_x.ops._dot"]),
        # Allowed: private modules by name, public names, dunders, one's own names, comments.
        ("a.py", "from micrograd_x import _files\n_files.write_atomic\n", []),
        ("a.py", "from micrograd_x._files import write_atomic\n", []),
        ("a.py", "from micrograd_x.testing import _reference\n", []),
        ("a.py", "from micrograd_x import __version__\n", []),
        ("a.py", "from micrograd_x.graph import walk\n# graph._walk was here\n", []),
        ("graph.py", "from micrograd_x import graph\ngraph._walk\n", []),
        ("a.py", "import json\njson._default_encoder\n", []),
        ("a.py", "from micrograd_x import graph\ngraph.walk(x)._private\n", []),
    ],
)
def test_the_check_sees_each_kind_of_reach(
    tmp_path: Path, file: str, source: str, expected: list[str]
) -> None:
    root = tmp_path / "micrograd_x"
    for module in ("__init__", "graph", "ops", "_files", "testing/__init__", "testing/_reference"):
        (root / module).parent.mkdir(parents=True, exist_ok=True)
        (root / module).with_suffix(".py").write_text("", encoding="utf-8")
    path = root / file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    assert [name for _, name in private_reaches(root, path, source)] == expected
