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
