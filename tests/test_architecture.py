"""The hard lines of the architecture, checked on the source itself."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "eeextract_plugin"
QT_OR_QGIS = ("qgis", "PyQt5", "PyQt6", "PySide2", "PySide6", "sip")


def _imported_modules(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def _python_files(*subpackages: str):
    for sub in subpackages:
        yield from sorted((PACKAGE / sub).rglob("*.py"))


@pytest.mark.parametrize("subpackage", ["core", "sandbox"])
def test_core_and_sandbox_import_no_qgis_or_qt(subpackage):
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
        for path in _python_files(subpackage)
        for line, module in _imported_modules(path)
        if module.split(".")[0] in QT_OR_QGIS
    ]
    assert not offenders, "\n".join(offenders)


def test_qt_is_imported_only_through_qgis_pyqt():
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, module in _imported_modules(path)
        if module.split(".")[0] in ("PyQt5", "PyQt6", "PySide2", "PySide6")
    ]
    assert not offenders, "\n".join(offenders)


def test_package_init_defines_only_a_lazy_class_factory():
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    top_level_imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert not top_level_imports, "eeextract_plugin/__init__.py must import nothing at module level"
    functions = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert functions == ["classFactory"]


def test_the_core_imports_without_qgis_in_a_clean_interpreter():
    import subprocess
    import sys

    code = (
        "import sys, pkgutil, importlib\n"
        "import eeextract_plugin.core as core, eeextract_plugin.sandbox as sb\n"
        "for pkg in (core, sb):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        if m.name.endswith('__main__'): continue\n"
        "        importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('qgis', 'PyQt5', 'PyQt6')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=PACKAGE.parent)


# -- the core's own import graph ----------------------------------------------------------------

CORE = PACKAGE / "core"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _core_modules():
    return {_module_name(p): p for p in sorted(CORE.rglob("*.py"))}


def _resolve(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _core_imports(name: str, path: Path, modules: dict):
    """(line, imported core module, inside a function?) for every import of a core module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    in_function = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(fn):
                in_function.add(id(inner))
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(node, name, path.name == "__init__.py")
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in modules else module for a in node.names]
        for target in targets:
            if target in modules and target != name:
                yield node.lineno, target, id(node) in in_function


def test_no_import_cycle_inside_the_core():
    """Every import between core modules, at module level or inside a function, counts: a cycle
    held open by an import inside a function is still a cycle."""
    modules = _core_modules()
    graph = {name: sorted({t for _l, t, _f in _core_imports(name, path, modules)}) for name, path in modules.items()}

    def is_package_init(importer: str, target: str) -> bool:
        # A package's __init__ importing its own submodules is how a package exposes them.
        return modules[importer].name == "__init__.py" and target.startswith(importer + ".")

    state: dict = {}
    cycles = []

    def visit(node: str, stack: list) -> None:
        state[node] = "visiting"
        for nxt in graph[node]:
            if is_package_init(node, nxt):
                continue
            if state.get(nxt) == "visiting":
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for name in graph:
        if name not in state:
            visit(name, [name])
    assert not cycles, "import cycles in the core:\n" + "\n".join(cycles)


def test_the_core_imports_its_own_modules_at_module_level():
    """No import of a core module hides inside a function (that is how cycles were held open)."""
    modules = _core_modules()
    hidden = [f"{path.relative_to(PACKAGE.parent)}:{line} imports {target} inside a function"
              for name, path in modules.items()
              for line, target, in_function in _core_imports(name, path, modules) if in_function]
    assert not hidden, "\n".join(hidden)


def test_the_core_imports_neither_qgis_nor_the_sandbox_nor_a_front_end():
    front_ends = ("eeextract_plugin.sandbox", "eeextract_plugin.cli", "eeextract_plugin.gui",
                  "eeextract_plugin.processing", "eeextract_plugin.tasks", "eeextract_plugin.layers",
                  "eeextract_plugin.plugin")
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
        for path in _python_files("core")
        for line, module in _imported_modules(path)
        if module.split(".")[0] in QT_OR_QGIS or module.startswith(front_ends)
    ]
    assert not offenders, "\n".join(offenders)


def test_the_core_uses_absolute_imports_and_one_logger_name():
    relative, loggers = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if path.is_relative_to(CORE):
            relative += [f"{path.name}:{n.lineno}" for n in ast.walk(tree)
                         if isinstance(n, ast.ImportFrom) and n.level]
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and \
                    getattr(node.value.func, "attr", "") == "getLogger":
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
                if names != ["log"]:
                    loggers.append(f"{path.relative_to(PACKAGE.parent)}: {names}")
    assert not relative, f"relative imports: {relative}"
    assert not loggers, "module loggers are named `log`: " + ", ".join(loggers)
