"""Write the for-credit bundle's code: stubs for graded functions, checks from stored data.

Book: none (instructor tooling; not in the bundle). Design: docs/releases.md.

* :func:`stub_source` keeps a module as it is except its graded functions and classes:
  each keeps its signature and the job part of its docstring (:func:`stub_docstring`:
  the summary, parameters, returns and shapes; not the formulas that state the answer,
  issue 23), and its body (every method's, for a class: the layers of exercise 8)
  becomes a ``NotImplementedError`` that names the exercise asking for it. Private
  helpers that only graded functions used are dropped with them.
* :func:`check_module_source` writes a ``chNN.py`` that registers the module's checks
  from ``chNN.json``/``chNN.npz`` (see :mod:`course_nn.release_credit.stored`). A
  check's ``judge`` (right in more than one way, so not a stored output) ships as code,
  with the constants and helpers it names; it must not call ``course_nn`` code.
"""

from __future__ import annotations

import ast
import dis
import inspect
import re
import sys
import textwrap
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from course_nn.release_credit.graded import GradedFunction

#: What the compare helpers a judge may use are imported from in the bundle.
SHIPPED_IMPORTS = {"course_nn.grading.compare", "course_nn.grading.core"}
#: Where a judge that needs a left-out function gets its stand-in and wrapper.
ON_SUBMISSION = "course_nn.release_credit.on_submission"


def stub_message(graded: GradedFunction) -> str:
    if graded.kind == "equivalent":
        return (f"{graded.name} is not available in the for-credit release of course_nn: its "
                f"code gives an answer of {graded.exercise}, so it is left out like the graded "
                f"functions (write yours in exercises/{graded.exercise})")
    return (f"{graded.name} answers {graded.exercise}, and this for-credit copy of course_nn "
            f"holds no answer: write it yourself in exercises/{graded.exercise}")


def _top_level_functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def _top_level_definitions(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.ClassDef]:
    return {node.name: node for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))}


#: numpydoc sections a stub's docstring keeps: what to write, not how (issue 23). Math,
#: Notes, Examples, References and free paragraphs after the summary are dropped.
KEPT_SECTIONS = ("Parameters", "Other Parameters", "Returns", "Yields", "Raises", "Attributes")
#: A summary line's closing formula (``..., :math:`\sum_l (s_{l-1} + 1) s_l`.``): the answer.
CLOSING_FORMULA = re.compile(r"\s*[,;:]\s*:math:`[^`]*`\s*(?=\.?\s*$)")


def _is_rule(line: str) -> bool:
    return len(line.strip()) >= 3 and set(line.strip()) == {"-"}


def _entries(lines: list[str]) -> list[list[str]]:
    """A numpydoc section's lines as entries: a ``name : type`` line and the more
    indented description under it (blank lines end an entry)."""
    entries: list[list[str]] = []
    for line in lines:
        starts = line.strip() and (len(line) - len(line.lstrip())) == 0
        if starts or not entries or not line.strip():
            entries.append([line])
        else:
            entries[-1].append(line)
    return entries


def stub_docstring(doc: str) -> str:
    """What a stub's docstring keeps of ``doc``: the summary (without a closing formula),
    and the sections of :data:`KEPT_SECTIONS`, where an entry whose description holds a
    formula (``:math:``) keeps its ``name : type`` line only. The formulas, worked
    examples and notes that state the answer go (issue 23)."""
    lines = inspect.cleandoc(doc).splitlines()
    end = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    summary = CLOSING_FORMULA.sub("", " ".join(x.strip() for x in lines[:end]))
    if summary and not summary.endswith((".", "?", "!", ":")):
        summary += "."
    sections: list[tuple[str, list[str]]] = []
    for i, line in enumerate(lines[end:], start=end):
        if i + 1 < len(lines) and _is_rule(lines[i + 1]) and line.strip():
            sections.append((line.strip(), []))
        elif sections and not _is_rule(line):
            sections[-1][1].append(line)
    kept: list[str] = [summary]
    for title, body in sections:
        if title not in KEPT_SECTIONS:
            continue
        entries = [e if not any(":math:" in x for x in e) else e[:1] for e in _entries(body)]
        text = [x for e in entries for x in e if ":math:" not in x]
        while text and not text[-1].strip():
            text.pop()
        if text:
            kept += ["", title, "-" * len(title), *text]
    return "\n".join(kept)


def _docstring_lines(doc: str, indent: str) -> str | None:
    """The stub docstring of ``doc`` as source lines at ``indent`` (None: it cannot be
    written back as a plain triple-quoted literal)."""
    text = stub_docstring(doc)
    if '"""' in text or text.endswith(("\\", '"')):
        return None
    prefix = "r" if "\\" in text else ""
    body = "\n".join(f"{indent}{line}" if line.strip() and k else line
                     for k, line in enumerate(text.splitlines()))
    closing = f"\n{indent}" if "\n" in text else ""
    return f'{indent}{prefix}"""{body}{closing}"""'


def _docstring(node: ast.AST) -> ast.Expr | None:
    body = getattr(node, "body", [])
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
            and isinstance(first.value.value, str):
        return first
    return None


def _slim_docstring(lines: list[str], node: ast.AST) -> None:
    """The docstring of ``node`` (a class) becomes its :func:`stub_docstring` (in place)."""
    doc = _docstring(node)
    if doc is None:
        return
    text = _docstring_lines(doc.value.value, " " * doc.col_offset)
    if text is not None:
        start, end = doc.lineno - 1, doc.end_lineno
        lines[start:end] = [text] + [None] * (end - start - 1)  # type: ignore[list-item]


def _replace_body(lines: list[str], node: ast.FunctionDef, message: str) -> None:
    """The docstring of ``node`` becomes its :func:`stub_docstring`, and the lines after
    it one ``raise`` (in place)."""
    body = node.body
    doc = _docstring(node)
    indent = " " * (body[0].col_offset)
    stub = f"{indent}raise NotImplementedError({message!r})"
    start, end = body[0].lineno - 1, node.end_lineno
    if doc is not None:
        text = _docstring_lines(doc.value.value, indent)
        if text is None:  # keep it as written
            text = "\n".join(lines[doc.lineno - 1:doc.end_lineno])
        new = [f"{text}\n{stub}"]
    else:
        new = [stub]
    lines[start:end] = new + [None] * (end - start - 1)  # type: ignore[list-item]


def _stub_definition(lines: list[str], node: ast.FunctionDef | ast.ClassDef,
                     message: str) -> None:
    """Stub a function, or every method of a class (its docstring slimmed too)."""
    if isinstance(node, ast.FunctionDef):
        _replace_body(lines, node, message)
        return
    _slim_docstring(lines, node)
    methods = [m for m in node.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for item in methods:
        _replace_body(lines, item, message)  # type: ignore[arg-type]
    if not any(m.name == "__init__" for m in methods):  # making one must raise too
        first, doc = node.body[0], _docstring(node)
        indent = " " * first.col_offset
        init = (f"{indent}def __init__(self, *args, **kwargs):\n"
                f"{indent}    raise NotImplementedError({message!r})")
        if doc is not None:
            lines[doc.lineno - 1] = f"{lines[doc.lineno - 1]}\n\n{init}"
        else:
            lines[first.lineno - 1] = f"{init}\n\n{lines[first.lineno - 1]}"


def _names_used(tree: ast.AST, skip: set[str]) -> set[str]:
    """Names read anywhere outside the top-level functions named in ``skip``."""
    used: set[str] = set()
    for node in tree.body:  # type: ignore[attr-defined]
        if isinstance(node, ast.FunctionDef) and node.name in skip:
            continue
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                used.add(sub.id)
            elif isinstance(sub, ast.Attribute):
                used.add(sub.attr)
            elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                used.update(sub.value.replace(",", " ").split())  # __all__ entries
    return used


def stub_source(source: str, graded: list[GradedFunction], imported: set[str]) -> str:
    """``source`` with every graded function stubbed and its now-unused private helpers gone.

    ``imported`` holds names other modules import from this one (kept in any case).
    """
    tree = ast.parse(source)
    defs = _top_level_definitions(tree)
    targets = {g.name: g for g in graded if g.name in defs}
    if not targets:
        return source
    lines: list[Any] = source.splitlines()
    for name, g in targets.items():
        _stub_definition(lines, defs[name], stub_message(g))
    stubbed = ast.parse("\n".join(x for x in lines if x is not None))
    dropped: set[str] = set()
    while True:  # private helpers only the removed code used
        used = _names_used(stubbed, dropped)
        unused = {n for n in _top_level_functions(stubbed) if n.startswith("_") and n not in used
                  and n not in imported and n not in dropped}
        if not unused:
            break
        dropped |= unused
    text = "\n".join(x for x in lines if x is not None).splitlines()
    answers = _answer_constants(tree, set(targets), _names_read(stubbed, dropped | set(targets)))
    removed = [n for n in stubbed.body if isinstance(n, ast.FunctionDef) and n.name in dropped]
    blanked = [n for n in stubbed.body if isinstance(n, (ast.Assign, ast.AnnAssign))
               and _assigned(n) & answers]
    for node in sorted(removed + blanked, key=lambda n: -n.lineno):
        start = (node.decorator_list[0].lineno if getattr(node, "decorator_list", None)
                 else node.lineno) - 1
        names = ", ".join(sorted(_assigned(node))) if node in blanked else ""
        text[start:node.end_lineno] = [f"{names} = None  # an answer: not in the for-credit release"
                                       ] if names else []
    return "\n".join(text) + "\n"


def _names_read(tree: ast.Module, skip: set[str]) -> set[str]:
    """Names loaded outside the top-level functions in ``skip``."""
    return {sub.id for node in tree.body
            if not (isinstance(node, ast.FunctionDef) and node.name in skip)
            for sub in ast.walk(node) if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load)}


def _assigned(node: ast.AST) -> set[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return {t.id for t in targets if isinstance(t, ast.Name)}


def _answer_constants(tree: ast.Module, graded: set[str], used_elsewhere: set[str]) -> set[str]:
    """Module constants (UPPER_CASE) that only graded functions read: the answer is in them
    (hand-set weights that an exercise asks for)."""
    constants = {name for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
                 for name in _assigned(node) if name.isupper()}
    read_by_graded = {sub.id for node in tree.body if isinstance(node, ast.FunctionDef)
                      and node.name in graded for sub in ast.walk(node)
                      if isinstance(sub, ast.Name)}
    return (constants & read_by_graded) - used_elsewhere


# --- generated check modules --------------------------------------------------------------
#: Course functions a shipped judge or hint may call, by an equivalent built from a
#: library (lines: imports first, then the binding). A judge that runs a student's
#: network needs its activation; the course's own code for it stays out of the bundle.
#: ReLU is NumPy's ``maximum`` with 0, as the ReLU hints of exercise 2 say in words.
EQUIVALENTS = {
    ("course_nn.activations", "sigmoid"): ("from scipy.special import expit as sigmoid",),
    ("course_nn.activations", "relu"): ("import functools",
                                        "relu = functools.partial(np.maximum, 0.0)"),
}


def lambda_source(func: Callable[..., Any]) -> str | None:
    """The text of a one-line ``lambda`` (as written in a dict or a call), or ``None``."""
    try:
        line = inspect.getsource(func).splitlines()[0]
    except (OSError, TypeError, IndexError):
        return None
    start = line.find("lambda")
    if start < 0 or line.count("lambda") > 1:
        return None
    text = line[start:].rstrip()
    while text:  # drop what follows the lambda (",", ")", a comment) until it parses alone
        try:
            if isinstance(ast.parse(text, mode="eval").body, ast.Lambda):
                return text
        except SyntaxError:
            pass
        text = text[:-1].rstrip()
    return None


def _value_source(value: Any) -> str | None:
    """Python text for a plain value (numbers, strings, arrays, dicts, one-line lambdas)."""
    if isinstance(value, (bool, int, float, str, type(None))) and not isinstance(value, np.generic):
        return repr(value)
    if isinstance(value, np.floating):
        return repr(float(value))
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return f"np.array({value.tolist()!r}, dtype=np.{value.dtype.name})"
    if isinstance(value, (tuple, list)):
        items = [_value_source(v) for v in value]
        if None in items:
            return None
        body = ", ".join(items) + ("," if isinstance(value, tuple) and len(items) == 1 else "")
        return f"({body})" if isinstance(value, tuple) else f"[{body}]"
    if isinstance(value, dict):
        items = [(_value_source(k), _value_source(v)) for k, v in value.items()]
        if any(k is None or v is None for k, v in items):
            return None
        return "{" + ", ".join(f"{k}: {v}" for k, v in items) + "}"
    if isinstance(value, types.FunctionType) and value.__name__ == "<lambda>":
        return lambda_source(value)
    return None


def _constant_source(name: str, value: Any) -> str | None:
    text = _value_source(value)
    return None if text is None else f"{name} = {text}"


def function_source(func: Callable[..., Any], done: dict[str, str] | None = None,
                    left_out: bool = False) -> dict[str, str]:
    """Source of ``func`` (a function or class) and of the constants and check helpers it
    needs, by name.

    Raises ``ValueError`` when it needs anything else (a ``course_nn`` function above all),
    unless ``left_out``: then a course function is bound to a stand-in that raises
    (:func:`course_nn.release_credit.on_submission.left_out`).
    """
    done = {} if done is None else done
    done[func.__name__] = textwrap.dedent(inspect.getsource(func))
    methods = [m for m in vars(func).values() if isinstance(m, types.FunctionType)] \
        if isinstance(func, type) else [func]
    for method in methods:
        _dependencies(method, done, left_out)
    return done


def _is_course_function(value: Any) -> bool:
    module = getattr(value, "__module__", "") or ""
    return (isinstance(value, types.FunctionType) and module.startswith("course_nn.")
            and not module.startswith("course_nn.grading"))


def _dependencies(func: Callable[..., Any], done: dict[str, str], left_out: bool = False
                  ) -> None:
    """Add what ``func``'s global names stand for to ``done`` (see :func:`function_source`)."""
    scope = func.__globals__
    stack, names = [func.__code__], set()
    while stack:
        code = stack.pop()
        names |= {i.argval for i in dis.get_instructions(code) if i.opname == "LOAD_GLOBAL"}
        stack += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    for name in sorted(names):
        if name in done or name not in scope:
            continue  # a builtin, or already written
        value = scope[name]
        module = getattr(value, "__module__", "") or ""
        if value is np:
            done[name] = "import numpy as np"
        elif isinstance(value, types.ModuleType) and value.__name__ in sys.stdlib_module_names:
            done[name] = (f"import {value.__name__}" if name == value.__name__
                          else f"import {value.__name__} as {name}")
        elif (module, getattr(value, "__name__", "")) in EQUIVALENTS:
            *imports, binding = EQUIVALENTS[module, value.__name__]
            done.setdefault("np", "import numpy as np")
            for line in imports:
                done.setdefault(line, line)
            done[name] = binding
        elif callable(value) and module in SHIPPED_IMPORTS:
            alias = "" if value.__name__ == name else f" as {name}"
            done[name] = f"from {module} import {value.__name__}{alias}"
        elif isinstance(value, (types.FunctionType, type)) and module.startswith(
                "course_nn.grading.checks") and not (isinstance(value, types.FunctionType)
                                                     and value.__name__ == "<lambda>"):
            function_source(value, done, left_out)
        elif (line := _constant_source(name, value)) is not None:
            done[name] = line
            _lambda_dependencies(value, done, left_out)
        elif left_out and _is_course_function(value):
            done["left_out"] = f"from {ON_SUBMISSION} import left_out"
            done[name] = f"{name} = left_out({value.__name__!r})"
        else:
            raise ValueError(f"{func.__name__} needs {name} ({type(value).__name__}), "
                             "which the for-credit bundle cannot ship")


def _lambda_dependencies(value: Any, done: dict[str, str], left_out: bool = False) -> None:
    """What the one-line lambdas in a shipped value (alone, or in a dict, list or tuple)
    name: ``lambda X: _count(X) % 2`` needs ``_count``."""
    if isinstance(value, types.FunctionType):
        _dependencies(value, done, left_out)
    elif isinstance(value, dict):
        for item in value.values():
            _lambda_dependencies(item, done, left_out)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _lambda_dependencies(item, done, left_out)


def judge_source(key: str, judge: Callable[..., Any], done: dict[str, str],
                 on_submission: tuple[str, str] | None = None) -> str:
    """Code binding ``key`` to a copy of ``judge`` (or of a hint); a closure is rebuilt by a
    small maker that sets its free variables (plain values, one-line lambdas) first.
    ``on_submission``: (mode, check) of a judge that may need left-out course functions
    (:data:`.graded.GRADED_ON_SUBMISSION`): they become stand-ins, and the copy is wrapped
    by :func:`course_nn.release_credit.on_submission.on_submission`."""
    if on_submission is not None:
        mode, check = on_submission
        done["on_submission"] = f"from {ON_SUBMISSION} import on_submission"
        body = _judge_binding(key, judge, done, left_out=True).rsplit("\n", 1)
        head, last = ([""] + body)[-2:]
        value = last.split(" = ", 1)[1]
        wrapped = f"{key} = on_submission({value}, {mode!r}, {check!r})"
        return f"{head}\n{wrapped}" if head else wrapped
    return _judge_binding(key, judge, done)


def _judge_binding(key: str, judge: Callable[..., Any], done: dict[str, str],
                   left_out: bool = False) -> str:
    if not judge.__closure__:
        if judge.__name__ == "<lambda>":
            _dependencies(judge, done, left_out)
            text = lambda_source(judge)
            if text is None:
                raise ValueError(f"{key}: a lambda that is not on one line")
            return f"{key} = {text}"
        function_source(judge, done, left_out)
        return f"{key} = {judge.__name__}"
    _dependencies(judge, done, left_out)
    lines = [f"def _make_{key}():"]
    for name, cell in zip(judge.__code__.co_freevars, judge.__closure__, strict=True):
        value = cell.cell_contents
        line = _constant_source(name, value)
        if line is None and isinstance(value, types.FunctionType):
            _dependencies(value, done, left_out)
        elif line is not None:
            _lambda_dependencies(value, done, left_out)
        if line is None:
            raise ValueError(f"{key}: the free variable {name} is not a plain value")
        lines.append(f"    {line}")
    lines.append(textwrap.indent(textwrap.dedent(inspect.getsource(judge)).rstrip(), "    "))
    lines += [f"    return {judge.__name__}", "", "", f"{key} = _make_{key}()"]
    return "\n".join(lines)


def _functions_reached(func: Callable[..., Any]) -> list[Callable[..., Any]]:
    """``func``, the functions in its closure, and the check helpers it calls, transitively."""
    from course_nn.release_credit.graded import global_functions

    found, stack = [], [func]
    while stack:
        current = stack.pop()
        if any(current is f for f in found):
            continue
        found.append(current)
        stack += [g for g in global_functions(current)
                  if (g.__module__ or "").startswith("course_nn.grading")]
    return found


def reads_inputs(hint: Callable[..., Any]) -> bool:
    """Does a hint (or anything it calls in the checks) read ``case.args``? A hint that
    does not sees only the expected output and the student's: it cannot compute an
    answer from the inputs, so it may ship as code."""
    for func in _functions_reached(hint):
        stack = [func.__code__]
        while stack:
            code = stack.pop()
            if any(i.opname in ("LOAD_ATTR", "LOAD_METHOD") and i.argval == "args"
                   for i in dis.get_instructions(code)):
                return True
            stack += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    return False


def shippable(hint: Callable[..., Any]) -> bool:
    try:
        judge_source("probe", hint, {})
    except (ValueError, OSError, TypeError):
        return False
    return True


def code_hints(hints: tuple[Callable[..., Any], ...], outputs_are_numbers: bool
               ) -> dict[int, Callable[..., Any]]:
    """The hints that ship as code, by position: those that do not read the inputs and
    need nothing the bundle cannot hold; all of them when the outputs are not numbers
    (there is no table to make), or ``ValueError``."""
    chosen = {i: h for i, h in enumerate(hints) if not reads_inputs(h) and shippable(h)}
    if not outputs_are_numbers and len(chosen) < len(hints):
        missing = [getattr(h, "__name__", "?") for i, h in enumerate(hints) if i not in chosen]
        raise ValueError(f"hints {missing} read the inputs of a check whose outputs are not "
                         "numbers: the for-credit bundle can neither ship nor tabulate them")
    return chosen


def check_module_source(module: str, exercise: str | None,
                        judges: dict[str, Callable[..., Any]],
                        hints: dict[str, dict[int, Callable[..., Any]]] | None = None,
                        on_submission: dict[str, tuple[str, str]] | None = None) -> str:
    """A generated ``chNN.py``: register the stored checks, with the judges as code
    (``judges`` maps the key a check's JSON entry names to the live judge), and the hints
    that ship as code (check name -> {position: hint}); ``on_submission`` maps a judge's
    key to (mode, check) for a judge that needs left-out functions."""
    parts: dict[str, str] = {}
    hints = hints or {}
    on_submission = on_submission or {}
    bindings = [judge_source(key, judge, parts, on_submission.get(key))
                for key, judge in judges.items()]
    hint_keys: dict[str, dict[int, str]] = {}
    for name, functions in hints.items():
        hint_keys[name] = {i: f"hint_{name}_{i}" for i in functions}
        bindings += [judge_source(hint_keys[name][i], f, parts) for i, f in functions.items()]
    imports = sorted({v for v in parts.values() if v.startswith(("import ", "from "))},
                     key=lambda v: (v.startswith("from "), v))
    code_starts = ("def ", "@", "class ")
    constants = sorted(v for v in parts.values() if not v.startswith(("import ", "from ",
                                                                      *code_starts)))
    functions = [v for v in parts.values() if v.startswith(code_starts)]
    short = module.rsplit(".", 1)[-1]
    about = f"exercise {exercise}" if exercise else "no released exercise"
    code = ["\n\n\n".join(f.rstrip() for f in functions + bindings)] if bindings else []
    judge_map = ", ".join(f"{key!r}: {key}" for key in judges)
    hint_map = ", ".join(
        f"{name!r}: {{{', '.join(f'{i}: {k}' for i, k in keys.items())}}}"
        for name, keys in hint_keys.items() if keys)
    body = [
        f'"""Checks of {short} ({about}), generated for the for-credit release.\n\n'
        f"Public cases, expected outputs and the hints for typical mistakes are stored in\n"
        f"{short}.json and {short}.npz (docs/releases.md); hidden cases are not here.\n"
        '"""',
        "",
        "from __future__ import annotations",
        "",
        *imports,
        "from course_nn.release_credit.stored import register_stored",
        "",
        *constants,
        *(["", ""] if constants else [""]),
        *code,
        *(["", ""] if code else []),
        f"register_stored(__file__, judges={{{judge_map}}}, hints={{{hint_map}}})",
    ]
    return "\n".join(body) + "\n"
