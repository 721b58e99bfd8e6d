"""Every user-visible string of the QGIS side goes through Qt's translation, and the Brazilian
Portuguese translation is complete.

- A walk over the QGIS side's Python (the AST, not the text) finds string literals handed to Qt's
  text setters, the message bar, Processing's parameters, feedback and exceptions, a task's
  description, ``displayName``/``group``/``shortHelpString`` without :func:`tr`.
- ``tr`` is called in the forms ``pylupdate5`` extracts (a literal text, a literal or None
  disambiguation, the count third), and the strings ``pylupdate5`` put in the ``.ts`` are the ones
  the code asks for at run time.
- ``i18n/eeextract_pt_BR.ts`` holds every string of the current sources, none unfinished,
  obsolete or empty; placeholders (``{name}``, ``%n``) and markup survive translation.

The dock, the settings dialog and the algorithms under a translation that marks every string
it is asked for are in tests/qgis/test_translated_ui.py (what the code builds at run time:
labels from dictionaries, help put together from parts).
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import translations  # noqa: E402  (scripts/translations.py)

#: Methods whose arguments a user reads: name → positions of the text arguments ("*": all).
TEXT_METHODS = {
    "setText": (0,), "setToolTip": (0,), "setPlaceholderText": (0,), "setWindowTitle": (0,),
    "setTitle": (0,), "setStatusTip": (0,), "setWhatsThis": (0,), "setSpecialValueText": (0,),
    "setSuffix": (0,), "setPrefix": (0,), "setTabText": (1,), "setTabToolTip": (1,),
    "setItemText": (1,), "setHeaderLabel": (0,), "setHeaderLabels": (0,), "addItem": (0, 1),
    "insertItem": (1, 2), "addItems": (0,), "setLabelText": (0,), "showMessage": (0,),
    "setProgressText": (0,), "setFormat": (0,), "setCheckedItems": (), "single_output": (2,),
    # the message bar and Processing's feedback
    "pushMessage": "*", "pushWarning": "*", "pushInfo": "*", "pushSuccess": "*", "pushCritical": "*",
    "pushCommandInfo": "*", "pushConsoleInfo": "*", "pushFormattedMessage": "*", "reportError": "*",
    "createMessage": "*",
    # dialogs: (parent, title, text) and (parent, caption, directory, filter)
    "question": (1, 2), "warning": (1, 2), "information": (1, 2), "critical": (1, 2), "about": (1, 2),
    "getSaveFileName": (1, 3), "getOpenFileName": (1, 3), "getOpenFileNames": (1, 3),
    "getExistingDirectory": (1,),
}
TEXT_KEYWORDS = {"text", "title", "message", "caption", "filter", "description", "reason", "label", "toolTip"}
#: Constructors whose text arguments a user reads (all positional text, and TEXT_KEYWORDS).
TEXT_CLASSES = re.compile(
    r"^(QAction|QPushButton|QCheckBox|QLabel|QRadioButton|QGroupBox|QToolButton|QMenu|QgsDockWidget"
    r"|QgsProcessingParameter\w+|QgsProcessingOutput\w+|QgsProcessingException|QgsTask|CallableTask"
    r"|SettingsError|FormError|BadInput|SessionError|Cancelled|SignInError|SignInRefused|SignInCancelled|ZonalError"
    r"|QgsMessageBarItem)$")
#: Where a class's text arguments start (parameters and outputs: after their name).
TEXT_FROM = {"QgsProcessingParameter": 1, "QgsProcessingOutput": 1}
#: Functions whose return value a user reads (Processing's algorithm and provider).
TEXT_RETURNS = {"displayName", "group", "shortHelpString", "shortDescription", "longName", "helpString"}
#: A line may say why a literal stays as it is (a name, a file name, code).
EXEMPT = re.compile(r"#.*\bi18n: (?:not translated|notr)\b")


@dataclass
class Finding:
    path: str
    line: int
    what: str
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}: {self.text!r}"


def _literal_words(node: ast.AST) -> str:
    """The literal text of an expression built from string literals (f-strings, +, %, .format,
    conditional choices), words only; "" when it holds no words (", ", "<br>", "{n} %")."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.JoinedStr):
        text = " ".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        text = _literal_words(node.left) + " " + _literal_words(node.right)
    elif isinstance(node, ast.IfExp):
        text = _literal_words(node.body) + " " + _literal_words(node.orelse)
    elif isinstance(node, ast.BoolOp):
        text = " ".join(_literal_words(v) for v in node.values)
    elif isinstance(node, (ast.List, ast.Tuple)):
        text = " ".join(_literal_words(e) for e in node.elts)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join"):
        text = _literal_words(node.func.value) + " " + " ".join(_literal_words(a) for a in node.args)
    else:
        return ""
    text = re.sub(r"<[^>]*>|\{[^}]*\}|&\w+;|%\w", " ", text)  # markup, placeholders, entities
    return " ".join(re.findall(r"[A-Za-z]{2,}", text))


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _is_super_init(node: ast.Call) -> bool:
    func = node.func
    return (isinstance(func, ast.Attribute) and func.attr == "__init__" and isinstance(func.value, ast.Call)
            and isinstance(func.value.func, ast.Name) and func.value.func.id == "super")


def _text_args(node: ast.Call) -> Iterator[Tuple[str, ast.AST]]:
    """The arguments of ``node`` a user reads, with what they are."""
    name = _call_name(node)
    func = node.func
    if isinstance(func, ast.Attribute) and name in TEXT_METHODS:
        positions = TEXT_METHODS[name]
        for i, arg in enumerate(node.args):
            if positions == "*" or i in positions:
                yield f"{name}() argument {i + 1}", arg
        for kw in node.keywords:
            if kw.arg in TEXT_KEYWORDS:
                yield f"{name}({kw.arg}=)", kw.value
    elif TEXT_CLASSES.match(name) or _is_super_init(node):
        start = next((n for prefix, n in TEXT_FROM.items() if name.startswith(prefix)), 0)
        for arg in node.args[start:]:
            yield f"{name or 'super().__init__'}()", arg
        for kw in node.keywords:
            if kw.arg in TEXT_KEYWORDS:
                yield f"{name}({kw.arg}=)", kw.value


def untranslated(path: Path) -> List[Finding]:
    """User-visible literals of one module that do not go through tr()."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    rel = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    found: List[Finding] = []

    def report(node: ast.AST, what: str, value: ast.AST) -> None:
        words = _literal_words(value)
        if not words:
            return
        line = getattr(value, "lineno", getattr(node, "lineno", 1))
        end = getattr(value, "end_lineno", line) or line
        if any(EXEMPT.search(lines[i - 1]) for i in range(getattr(node, "lineno", line), end + 1)):
            return
        found.append(Finding(rel, line, what, words[:80]))

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for what, value in _text_args(node):
                report(node, what, value)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in TEXT_RETURNS:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and inner.value is not None:
                    report(inner, f"{node.name}() returns", inner.value)
    return found


_LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}


def loose_sentences(path: Path) -> List[Finding]:
    """Every other literal of a module that reads as words ("two words", "a phrase: like this"),
    not passed through tr(): whatever path it takes to the screen (a dictionary of labels, a
    constant, a helper's argument), it is either translated or says why not on its line
    (``# i18n: not translated (why)``). Docstrings and log messages (the log panel is the
    developers' English, as QGIS's own) are not looked at."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                skip.add(id(body[0].value))
        elif isinstance(node, ast.Call):
            func = node.func
            is_log = (isinstance(func, ast.Attribute) and func.attr in _LOG_METHODS
                      and isinstance(func.value, ast.Name) and func.value.id in ("log", "logger", "logging"))
            if is_log or (isinstance(func, ast.Name) and func.id == "tr"):
                skip.update(id(sub) for sub in ast.walk(node))
        elif isinstance(node, ast.JoinedStr):  # an f-string is read whole, its parts not again
            skip.update(id(v) for v in node.values)
    rel = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        else:
            continue
        text = re.sub(r"<[^>]*>|\{[^}]*\}|&\w+;|%\w", " ", text)
        if not re.search(r"[A-Za-z]{2,}[ ,:;]+[A-Za-z]{2,}", text):
            continue
        span = range(node.lineno, (node.end_lineno or node.lineno) + 1)
        if any(EXEMPT.search(lines[i - 1]) for i in span):
            continue
        found.append(Finding(rel, node.lineno, "words outside tr()", " ".join(text.split())[:80]))
    return found


def qgis_side_modules() -> List[Path]:
    py, _ui = translations.sources()
    return py


@dataclass
class TrCall:
    path: str
    line: int
    text: Optional[str]
    disambiguation: Optional[str]
    numerus: bool
    problem: str = ""


def tr_calls(path: Path) -> List[TrCall]:
    """Every ``tr(...)`` of a module, and what is wrong with its form (if anything)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = str(path.relative_to(ROOT))
    calls = []
    in_fstring = {id(sub) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for sub in ast.walk(node)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if id(node) in in_fstring and isinstance(node.func, ast.Name) and node.func.id == "tr":
            calls.append(TrCall(rel, node.lineno, None, None, False,
                                "tr() inside an f-string: pylupdate5 reads the f-string as one string and "
                                "never sees it"))
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("tr", "translate", "trUtf8") and path.name != "i18n.py":
            calls.append(TrCall(rel, node.lineno, None, None, False,
                                f".{func.attr}() (a class context pylupdate5 gives it): use eeextract_plugin.i18n.tr"))
            continue
        if not (isinstance(func, ast.Name) and func.id == "tr"):
            continue
        args = node.args
        text = args[0].value if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str) else None
        problem = ""
        if node.keywords:
            problem = "keyword arguments (pylupdate5 reads positions): tr(text, disambiguation, n)"
        elif text is None:
            problem = "the text is not a string literal (pylupdate5 cannot extract it)"
        elif len(args) > 3:
            problem = "more than three arguments"
        disambiguation = None
        if len(args) >= 2:
            d = args[1]
            if isinstance(d, ast.Constant) and (d.value is None or isinstance(d.value, str)):
                disambiguation = d.value or None
            else:
                problem = problem or "the disambiguation is not a literal or None"
        numerus = len(args) == 3
        if text is not None and not problem and numerus != bool(re.search(r"%L?n", text)):
            problem = "a count needs %n (or %Ln) in the text, and %n needs the count (third argument)"
        calls.append(TrCall(rel, node.lineno, text, disambiguation, numerus, problem))
    return calls


# ---------------------------------------------------------------------------------- the tests
def test_the_checker_sees_untranslated_strings(tmp_path):
    """The walk finds what it is meant to find (and lets translated and word-less text pass)."""
    module = tmp_path / "probe.py"
    module.write_text(
        "from eeextract_plugin.i18n import tr\n"
        "label.setText('Asset ID')\n"
        "label.setText(tr('Asset ID'))\n"
        "label.setText(f'{n} file(s)')\n"
        "label.setText(tr('{n} file(s)').format(n=n))\n"
        "label.setText(', '.join(names))\n"
        "bar.pushWarning('EE Extract', 'Cannot start: ' + str(exc))\n"
        "x = QgsProcessingParameterString('ASSET', 'Asset ID')\n"
        "raise QgsProcessingException(f'Job {name} failed')\n"
        "task = CallableTask('EE Extract: estimate', work)\n"
        "class A:\n"
        "    def displayName(self):\n"
        "        return 'Extract image'\n"
        "    def __init__(self):\n"
        "        super().__init__('EE Extract', parent)\n"
        "label.setText('job-2024')  # i18n: not translated (a job name)\n",
        encoding="utf-8")
    found = untranslated(module)
    lines = sorted({f.line for f in found})
    assert lines == [2, 4, 7, 8, 9, 10, 13, 15], "\n".join(map(str, found))


def test_every_user_visible_string_of_the_qgis_side_goes_through_tr():
    found = [f for path in qgis_side_modules() for f in untranslated(path)]
    assert not found, "user-visible text not passed through tr():\n" + "\n".join(map(str, found))


def test_no_words_escape_tr_on_the_qgis_side():
    """Labels in dictionaries, constants, helpers' arguments: translated, or exempted with a reason."""
    found = [f for path in qgis_side_modules() for f in loose_sentences(path)]
    assert not found, "words not passed through tr() (wrap them, or say on the line why not: " \
        "# i18n: not translated (why)):\n" + "\n".join(map(str, found))


def test_the_loose_check_sees_a_dictionary_of_labels(tmp_path):
    module = tmp_path / "probe.py"
    module.write_text(
        '"""A docstring, with words."""\n'
        'LABELS = {"mosaic": "Mosaic (one raster)", "chips": tr("Chips around points")}\n'
        'log.info("words in the log: %s", x)\n'
        'KEY = "eeextract/workdirs"\n'
        'NAME = "EE Extract"  # i18n: not translated (a name)\n'
        'text = f"<b>{name}</b> and more"\n', encoding="utf-8")
    assert sorted(f.line for f in loose_sentences(module)) == [2, 6]


def test_tr_is_called_in_the_forms_pylupdate5_extracts():
    bad = [c for path in qgis_side_modules() for c in tr_calls(path) if c.problem]
    assert not bad, "\n".join(f"{c.path}:{c.line}: {c.problem}" for c in bad)


@pytest.fixture(scope="module")
def pt_br_ts() -> Path:
    ts = ROOT / "i18n" / "eeextract_pt_BR.ts"
    assert ts.is_file(), "i18n/eeextract_pt_BR.ts is missing"
    return ts


@pytest.fixture(scope="module")
def pt_br_problems(pt_br_ts):
    translations.tool("pylupdate5")  # a clear message when the tool is missing
    return translations.problems(pt_br_ts)


def test_pylupdate5_extracts_the_strings_tr_asks_for(pt_br_ts, pt_br_problems):
    """The strings of the .ts (pylupdate5's reading of the sources, in the EEExtract context)
    are exactly the ones the code's tr() calls ask for at run time, with the same
    disambiguation and plural flag."""
    asked = {(c.text, c.disambiguation or "", c.numerus)
             for path in qgis_side_modules() for c in tr_calls(path) if not c.problem}
    missing = pt_br_problems["missing from the .ts (run make translations)"]
    extracted = {(m.source, m.comment, m.numerus) for m in translations.read_ts(pt_br_ts)
                 if m.context == translations.CONTEXT and m.kind not in ("obsolete", "vanished")}
    extracted |= {(m.source, m.comment, m.numerus) for m in missing if m.context == translations.CONTEXT}
    assert asked - extracted == set(), f"asked for at run time, not extracted: {sorted(asked - extracted)[:10]}"
    assert extracted - asked == set(), f"extracted, never asked for: {sorted(extracted - asked)[:10]}"


def test_ui_contexts_are_the_ones_uic_translates_in():
    """A form's strings are looked up in the context uic gives them: the one the .ts has."""
    import io

    from qgis.PyQt import uic

    _py, forms = translations.sources()
    assert forms
    for form in forms:
        code = io.StringIO()
        uic.compileUi(str(form), code)
        contexts = set(re.findall(r'_translate\("([^"]+)"', code.getvalue()))
        assert contexts == {translations.ui_context(form)}, (form, contexts)


def test_the_brazilian_portuguese_translation_is_complete(pt_br_problems):
    report = [f"{what}: {m.context}: {m.source[:90]!r}" for what, found in pt_br_problems.items() for m in found]
    assert not report, f"{len(report)} problem(s) in i18n/eeextract_pt_BR.ts (make translations, then translate):\n" \
        + "\n".join(report[:40])


def _placeholders(text: str) -> List[str]:
    return sorted(re.findall(r"\{[^}]*\}|%L?n|%\d", text))


def _tags(text: str) -> List[str]:
    return sorted(re.findall(r"</?\s*([a-zA-Z0-9]+)", text))


def test_translations_keep_placeholders_and_markup(pt_br_ts):
    """``{name}`` and ``%n`` come back in the translation (``.format`` would fail or show the
    wrong value otherwise), and so do the HTML tags."""
    bad = []
    for m in translations.read_ts(pt_br_ts):
        if m.kind in ("obsolete", "vanished", "unfinished"):
            continue
        for form in m.translations:
            wanted, got = _placeholders(m.source), _placeholders(form)
            if m.numerus:  # a singular form may write "um" instead of %n
                wanted, got = ([p for p in wanted if p not in ("%n", "%Ln")],
                               [p for p in got if p not in ("%n", "%Ln")])
            if wanted != got or _tags(m.source) != _tags(form):
                bad.append(f"{m.source[:60]!r} → {form[:60]!r}")
    assert not bad, "\n".join(bad)


def test_a_label_reads_the_same_in_code_and_in_the_forms(pt_br_ts):
    """The dock's messages name fields by their labels ("Asset ID: …"): the code's translation
    of a label (context EEExtract) is the form's (the .ui's context), so a message names the
    field as the form shows it."""
    by_context = {}
    for m in translations.read_ts(pt_br_ts):
        if m.kind not in ("obsolete", "vanished") and not m.numerus:
            by_context.setdefault((m.source, m.comment), {})[m.context] = m.translations[0]
    differ = {source: seen for source, seen in by_context.items() if len(set(seen.values())) > 1}
    assert not differ, differ


def test_make_translations_compiles_a_qm(tmp_path, pt_br_ts):
    """lrelease turns the .ts into a .qm a QTranslator loads (the ZIP carries it)."""
    qm = translations.compile_ts(pt_br_ts, tmp_path / "eeextract_pt_BR.qm")
    assert qm.stat().st_size > 1000
