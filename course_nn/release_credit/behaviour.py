"""The behavioural leak search of the for-credit bundle (docs/releases.md, *Behavioural search*).

Book: none (instructor tooling; not in the bundle).

The semantic leak test (:mod:`.leaks`) compares code. This search compares what code
*does*: a function of the bundle's ``course_nn`` leaks an answer when, renamed or behind
one line of glue, it passes ``check()`` on a graded check's public cases (``logsumexp``
gives ``softmax`` as ``exp(Z - logsumexp(Z)[..., None])``). It runs in a fresh
interpreter whose ``course_nn`` is the bundle's (``PYTHONPATH=<bundle>``; never the
repository's), so the checks are the bundle's stored ones and every stub raises.

For every check of the bundle's registry and every top-level function ``f`` of its
``course_nn`` (instructor tooling, the command line and network fetchers excepted), a
*recipe* is tried on the public cases, case by case, dropped at its first miss:

* a **view** of the case's arguments: as given; permuted (two or three arguments);
  ``(a, a)`` for one argument; ``(W1, b1, W2, b2, ...)`` packed as a layer list
  ``[(W1, b1), ...]`` (after ``X``, or alone); a parameter vector with its layer sizes
  unpacked into that list (what a student's own ``vector_to_params`` gives); ``(P, y)``
  as confidences and correctness (also nudged by ``1e-9`` off the bin edges). A view that
  is itself the answer is skipped for that check;
* optionally a **transform** ``T`` first (the named pairs: ``bias_unit_form`` then
  ``mlp_forward_bias_unit``): ``T(*view[:k])`` replaces the first ``k`` arguments;
* a **call** of ``f``: positional, with ``axis=-1``/``axis=1`` (and ``keepdims=True``)
  when ``f`` takes them, ``f(a, b) - f(a, a)``, or, for a ``f(model, X, y, *, ...)`` trainer, a fresh
  ``torch.nn.Linear`` trained in place and asked for its labels and float32 parameters;
* one line of **glue** on the result: itself, ``-r``, ``exp(r)``, ``log(r)``, ``1 - r``,
  ``x - r``, ``exp(x - r)`` (with ``r`` expanded on its reduced axis), ``r.sum()``,
  ``r.mean()``, ``r.T``, ``argmax(r, 1)``, ``r[0]``/``r[1]``/``r[-1]``, a field or an
  ordered pair of fields of a named tuple or dataclass, and the count-weighted mean gap
  of two fields (``sum(n_b / n * |acc_b - conf_b|)``, the calibration error).

A recipe that survives every public case is run through the bundle's own ``check()``
(the student's path: tolerances, float errors, judges); one that passes is a finding.
Every call runs under a time limit, on copies of the arguments, with stdout silenced,
sockets refused and figures refused (a function that draws fails at once: a plot holds
no answer one line of glue could read). Functions annotated to return a plot or
nothing are skipped.

A student who adapts one function has written the other exercises: each graded stub is
filled with the instructor's solution of the same name and arguments (graded stubs are
no candidates), except the stubs of the exercise whose check is being searched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Modules (prefixes) whose functions are no candidates: instructor tooling, the
#: command line, the grading machinery itself.
SKIP_MODULES = ("course_nn.grading", "course_nn.release_credit", "course_nn.cli",
                "course_nn.release", "course_nn.book_cache", "course_nn.student_release",
                "course_nn.course_repository")
#: Functions that reach the network or the user's files (never called).
SKIP_FUNCTIONS = ("course_nn.datasets.idx.fetch", "course_nn.datasets.idx.load_mnist",
                  "course_nn.datasets.idx.load_fashion_mnist",
                  "course_nn.datasets.idx.default_data_dir", "course_nn.display.glue",
                  "course_nn.plotting.style.use_style")
#: Values for a trainer's required keyword-only arguments (``fit_torch``'s): ordinary
#: choices a student would type, not the course's tuned ones.
KEYWORD_VOCABULARY = {"l2": 1e-4, "learning_rate": 0.1, "epochs": 20, "batch_size": 32,
                      "momentum": 0.9, "seed": 0}


@dataclass(frozen=True)
class Finding:
    """A bundle function that passes a check behind a recipe."""

    check: str
    function: str  # "course_nn.softmax.logsumexp"
    recipe: str  # "view=args f=course_nn.softmax.logsumexp call=axis1 glue=exp(x-r)"


@dataclass(frozen=True)
class SearchReport:
    """What a search found, and how much it tried."""

    findings: list[Finding]
    course_nn: str  # where the child imported course_nn from
    candidates: int
    checks: int
    calls: int
    seconds: float
    timed_out_calls: int
    answered: list[str]  # stubs filled with the student's answers
    per_check: dict[str, list[float]]  # check -> [seconds, calls]
    slow: list[str]  # functions stopped by the time limit on some call (not searched there)


def student_side(root: Path) -> dict[str, Any]:
    """What the child needs from the instructor's repository: the graded functions (the
    bundle's stubs), the checks' exercises, and the solution cells (the student's answers)."""
    from course_nn.release_credit.graded import graded_functions, released_checks

    answers: dict[str, list[str]] = {}
    for notebook in sorted((root / "solutions").glob("*/*.ipynb")):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.get("cell_type") == "code" and meta.get("solution"):
                answers.setdefault(notebook.parent.name, []).append("".join(cell["source"]))
    return {"graded": [[g.module, g.name, g.check, g.exercise] for g in graded_functions(root)],
            "exercises": released_checks(root), "answers": answers}


def search(bundle: Path, root: Path | None = None, per_call: float = 2.0, budget: float = 600.0,
           checks: list[str] | None = None, functions: list[str] | None = None) -> SearchReport:
    """Run the search over ``bundle``'s ``course_nn`` in a fresh interpreter.

    ``checks``/``functions`` restrict it (names; ``None``: all). ``per_call`` bounds one
    call (seconds; a torch trainer gets 30), ``budget`` the whole search (it fails when
    the budget runs out). ``root`` is the instructor's repository (its solutions are the
    student's answers of the other exercises; default: this one)."""
    root = root or Path(__file__).resolve().parents[2]
    config = {"per_call": per_call, "budget": budget, "checks": checks, "functions": functions,
              **student_side(root)}
    data = _run_child(config, [bundle], budget + 300)
    return SearchReport(findings=[Finding(**f) for f in data["findings"]],
                        course_nn=data["course_nn"], candidates=data["candidates"],
                        checks=data["checks"], calls=data["calls"], seconds=data["seconds"],
                        timed_out_calls=data["timed_out"], answered=data["answered"],
                        per_check=data["per_check"], slow=data["slow"])


def run_adapted(pieces: list[dict[str, str]], bundle: Path | None, root: Path | None = None
                ) -> dict[str, Any]:
    """Run student code (see :func:`adapted_main`) against ``bundle``'s ``course_nn``, or the
    repository's when ``bundle`` is None; label -> {"passed", "raised"}, and "course_nn"."""
    root = root or Path(__file__).resolve().parents[2]
    student = student_side(root) if bundle is not None else {}  # the full course: live
    return _run_child({"pieces": pieces, **student}, [bundle] if bundle is not None else [], 900)


def _run_child(config: dict[str, Any], path: list[Path], timeout: float) -> dict[str, Any]:
    """Run this file in a fresh interpreter with ``PYTHONPATH=path`` in a scratch folder."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if path:
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in path)
    env.update(MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    with tempfile.TemporaryDirectory(prefix="course-nn-behaviour-") as cwd:
        env["HOME"] = cwd  # nothing a candidate writes lands in the user's home
        (Path(cwd) / "config.json").write_text(json.dumps(config), encoding="utf-8")
        run = subprocess.run([sys.executable, str(Path(__file__).resolve()), "config.json"],
                             cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if run.returncode != 0:
        raise RuntimeError(f"the behavioural search failed:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


# ============================================================================================
# The child: everything below runs in the bundle's interpreter. This file imports only the
# standard library at module level; NumPy, matplotlib, torch and course_nn (the bundle's)
# are imported inside the functions, so running it imports nothing of the repository.
# ============================================================================================
class _Timeout(Exception):
    pass


class _Child:
    """State of one search: the candidates and their signatures, the student's answers,
    the exercise being searched, and counters."""

    def __init__(self, config: dict[str, Any]):
        import numpy as np

        self.np = np
        self.per_call = float(config["per_call"])
        self.budget = float(config["budget"])
        self.only_checks = config.get("checks")
        self.only_functions = config.get("functions")
        self.calls = 0
        self.timed_out = 0
        self.started = 0.0
        self.candidates: dict[str, Any] = {}
        self.answered: set[str] = set()
        self.slow: set[str] = set()  # functions that ran out of time on some call
        self.faithful = False  # inside check(): NumPy's error state is the check's
        self.exercise: str | None = None  # the exercise of the check being searched
        self.signatures: dict[str, tuple[int, int, bool, frozenset, tuple, str]] = {}

    # --- guarded calls --------------------------------------------------------------------
    def call(self, func, args, kwargs=None, limit=None, copy_args=True):
        """``func(*args, **kwargs)`` on copies (unless ``copy_args`` is false: a model trained
        in place), bounded in time, silenced; raises on failure."""
        import contextlib
        import copy
        import io
        import signal
        import warnings

        np = self.np
        self.calls += 1
        copies = copy.deepcopy(args) if copy_args else args

        def alarm(signum, frame):
            raise _Timeout()

        previous = signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, limit or self.per_call)
        sink = io.StringIO()
        quiet = contextlib.nullcontext() if self.faithful else np.errstate(all="ignore")
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), quiet, \
                    warnings.catch_warnings():
                if not self.faithful:
                    warnings.simplefilter("ignore")
                return func(*copies, **(kwargs or {}))
        except _Timeout:
            self.timed_out += 1
            self.slow.add(f"{getattr(func, '__module__', '?')}.{getattr(func, '__name__', '?')}")
            raise
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            if "matplotlib.pyplot" in sys.modules:
                sys.modules["matplotlib.pyplot"].close("all")

    # --- the student's own answers ------------------------------------------------------------
    def install_answers(self, graded: list[list[str]], answers: dict[str, list[str]]) -> None:
        """Fill each stub of the bundle with the student's answer of its exercise (the
        instructor's solution function of the same name and arguments): a student who
        adapts ``mlp_forward_bias_unit`` has their own ``relu``. While a check is searched,
        the answers of its own exercise raise again (:attr:`exercise`)."""
        import importlib
        import inspect
        import types

        np = self.np
        spaces: dict[str, dict[str, Any]] = {}
        for exercise, cells in answers.items():
            space: dict[str, Any] = {"np": np, "__name__": f"student_{exercise}"}
            for cell in cells:
                try:
                    exec(compile(cell, f"<{exercise}>", "exec"), space)  # noqa: S102
                except Exception:
                    continue
            spaces[exercise] = space
        for module, name, _check, exercise in graded:
            stub = getattr(importlib.import_module(module), name, None)
            impl = spaces.get(exercise, {}).get(name)
            if not (inspect.isfunction(stub) and inspect.isfunction(impl)):
                continue
            mine = [p.name for p in inspect.signature(impl).parameters.values()]
            theirs = [p.name for p in inspect.signature(stub).parameters.values()]
            if mine != theirs[:len(mine)]:
                continue
            key = f"_student_answer_{name}"
            stub.__globals__[key] = self._dispatch(name, exercise, impl)
            source = f"def {name}(*args, **kwargs):\n    return {key}(*args, **kwargs)\n"
            code = compile(source, f"<student {exercise}>", "exec")
            stub.__code__ = next(c for c in code.co_consts if isinstance(c, types.CodeType))
            self.answered.add(f"{module}.{name}")

    def _dispatch(self, name: str, exercise: str, impl):
        def answer(*args, **kwargs):
            if exercise == self.exercise:
                raise NotImplementedError(f"{name}: the exercise being searched")
            return impl(*args, **kwargs)
        return answer

    # --- candidates -------------------------------------------------------------------------
    def collect(self, graded: set[str]) -> None:
        """Every top-level function of the bundle's ``course_nn`` that may be a candidate:
        not in :data:`SKIP_MODULES`/:data:`SKIP_FUNCTIONS`, not a graded stub (``graded``:
        those hold the student's answers), not annotated to draw."""
        import importlib
        import inspect
        import pkgutil

        import course_nn

        for info in pkgutil.walk_packages(course_nn.__path__, "course_nn."):
            if info.name.startswith(SKIP_MODULES):
                continue
            try:
                module = importlib.import_module(info.name)
            except Exception:
                continue
            for name, value in vars(module).items():
                full = f"{module.__name__}.{name}"
                if not inspect.isfunction(value) or value.__module__ != module.__name__ \
                        or full in SKIP_FUNCTIONS or full in graded:
                    continue
                if self.only_functions and full not in self.only_functions:
                    continue
                if _draws_only(value):
                    continue
                try:
                    params = list(inspect.signature(value).parameters.values())
                except (TypeError, ValueError):
                    continue
                positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY,
                                                              p.POSITIONAL_OR_KEYWORD)]
                required = sum(p.default is p.empty for p in positional)
                varargs = any(p.kind is p.VAR_POSITIONAL for p in params)
                kwonly = tuple(p.name for p in params
                               if p.kind is p.KEYWORD_ONLY and p.default is p.empty)
                names = frozenset(p.name for p in params)
                first = positional[0].name if positional else ""
                self.candidates[full] = value
                self.signatures[full] = (required, len(positional), varargs, names, kwonly, first)

    def accepts(self, name: str, n: int) -> bool:
        """Can candidate ``name`` be called with ``n`` positional arguments alone?"""
        required, total, varargs, _, kwonly, _ = self.signatures[name]
        return not kwonly and required <= n and (varargs or n <= total)

    # --- views of a case's arguments --------------------------------------------------------
    def views(self, args: tuple) -> dict[str, tuple]:
        """The argument tuples a student's one line could make of a case's ``args``, by name
        (see the module docstring)."""
        import itertools

        np = self.np
        out: dict[str, tuple] = {"args": args}
        if len(args) in (2, 3):
            for order in itertools.permutations(range(len(args))):
                if order != tuple(range(len(args))):
                    out["perm" + "".join(map(str, order))] = tuple(args[i] for i in order)
        if len(args) == 1:
            out["a,a"] = (args[0], args[0])
        layers = _as_layers(np, args[1:])
        if layers is not None and isinstance(args[0], np.ndarray) and args[0].ndim == 2:
            out["layers,X"] = (layers, args[0])
        layers = _as_layers(np, args)
        if layers is not None:
            out["layers"] = (layers,)
        if len(args) >= 2 and _is_probabilities(np, args[0]) and _is_labels(np, args[1]):
            P = np.asarray(args[0], dtype=float)
            correct = P.argmax(axis=1) == args[1]
            out["confidence,correct"] = (P.max(axis=1), correct, *args[2:])
            # a bin edge such as 0.6 = 3/5 falls on either side by rounding: nudged up
            out["confidence+1e-9,correct"] = (P.max(axis=1) + 1e-9, correct, *args[2:])
        if len(args) >= 2:
            unpacked = _unpack_theta(np, args[0], args[1])
            if unpacked is not None:
                out["unpack(theta,sizes)"] = (unpacked, *args[2:])
        return out

    # --- calls of a candidate ----------------------------------------------------------------
    def call_forms(self, name: str, view: tuple) -> list[str]:
        """The ways candidate ``name`` can be called on ``view`` (names for :meth:`run_form`)."""
        _, _, _, names, kwonly, first = self.signatures[name]
        forms = []
        if self.accepts(name, len(view)):
            forms.append("plain")
            if "axis" in names:
                forms += ["axis-1", "axis1"]
                if "keepdims" in names:
                    forms.append("axis-1,keepdims")
        if len(view) == 2 and self.accepts(name, 2):
            forms.append("f(a,b)-f(a,a)")
        if first == "model" and len(view) == 3 and set(kwonly) <= set(KEYWORD_VOCABULARY):
            forms.append("train-torch-model")
        return forms

    def run_form(self, form: str, func, view: tuple):
        """Call ``func`` on ``view`` the way ``form`` names; raises when the call fails."""
        if form == "plain":
            return self.call(func, view)
        if form == "axis-1":
            return self.call(func, view, {"axis": -1})
        if form == "axis1":
            return self.call(func, view, {"axis": 1})
        if form == "axis-1,keepdims":
            return self.call(func, view, {"axis": -1, "keepdims": True})
        if form == "f(a,b)-f(a,a)":
            np = self.np
            return np.asarray(self.call(func, view)) - np.asarray(self.call(func, (view[0],
                                                                                    view[0])))
        if form == "train-torch-model":
            return self._train_torch(func, view)
        raise KeyError(form)

    def _train_torch(self, func, view):
        """``func(model, X, y, **vocabulary)`` on a fresh linear model, then its labels on
        the third argument and its parameters as float32 (as a student's answer returns)."""
        import inspect

        import torch

        np = self.np
        X, y, X_test = view
        X, y = np.asarray(X), np.asarray(y)
        if X.ndim != 2 or y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            raise ValueError("not a classification split")
        torch.manual_seed(0)
        torch.set_num_threads(1)
        model = torch.nn.Linear(X.shape[1], int(y.max()) + 1, dtype=torch.float64)
        kwonly = [p.name for p in inspect.signature(func).parameters.values()
                  if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
        self.call(func, (model, X, y), {k: KEYWORD_VOCABULARY[k] for k in kwonly},
                  limit=max(self.per_call, 30.0), copy_args=False)
        with torch.no_grad():
            logits = model(torch.as_tensor(np.asarray(X_test), dtype=torch.float64))
        return (logits.argmax(dim=1).numpy(),
                [p.detach().numpy().astype(np.float32) for p in model.parameters()])

    # --- glue ---------------------------------------------------------------------------------
    def glues(self, result, view: tuple) -> list[tuple[str, Any]]:
        """(name, output) for every one-line glue that applies to ``result``."""
        np = self.np
        out: list[tuple[str, Any]] = [("r", result)]
        fields = _fields(result)
        for i, (fname, value) in enumerate(fields):
            out.append((f"r.{fname}", value))
            for j, (gname, other) in enumerate(fields):
                if i != j:
                    out.append((f"(r.{fname}, r.{gname})", (value, other)))
        if len(fields) >= 3:
            out += self._weighted_gaps(fields)
        if isinstance(result, (tuple, list)) and not fields and result:
            out += [("r[0]", result[0]), ("r[-1]", result[-1])]
            if len(result) > 1:
                out.append(("r[1]", result[1]))
        try:
            r = np.asarray(result, dtype=float)
        except (TypeError, ValueError):
            return out
        x = view[0] if view and isinstance(view[0], np.ndarray) else None
        x = x.astype(float) if x is not None and x.dtype.kind in "fiub" else None

        def expanded():
            return r[..., None] if x is not None and r.ndim == x.ndim - 1 else r

        numeric = {"-r": lambda: -r, "exp(r)": lambda: np.exp(r), "log(r)": lambda: np.log(r),
                   "1-r": lambda: 1 - r, "sum(r)": lambda: r.sum(), "mean(r)": lambda: r.mean(),
                   "r.T": lambda: r.T, "argmax(r,1)": lambda: np.argmax(r, axis=1),
                   "x-r": lambda: _same_shape(np, x - expanded(), x),
                   "exp(x-r)": lambda: _same_shape(np, np.exp(x - expanded()), x),
                   "r-x": lambda: _same_shape(np, expanded() - x, x)}
        with np.errstate(all="ignore"):
            for name, make in numeric.items():
                try:
                    out.append((name, make()))
                except Exception:
                    continue
        return out

    def _weighted_gaps(self, fields):
        """sum(w / sum(w) * |a - b|) over w > 0, for every ordered (w, a, b) of equal-length
        1-D fields (w whole numbers): the count-weighted mean gap of two per-bin values."""
        np = self.np
        arrays = [(n, np.asarray(v, dtype=float)) for n, v in fields
                  if isinstance(v, np.ndarray) and v.ndim == 1 and v.dtype.kind in "fiub"]
        out = []
        for wn, w in arrays:
            if not np.all(np.isfinite(w)) or not np.all(w == np.round(w)) or w.sum() <= 0:
                continue
            for an, a in arrays:
                for bn, b in arrays:
                    if len({wn, an, bn}) == 3 and w.shape == a.shape == b.shape:
                        full = w > 0
                        gap = float(np.sum(w[full] / w.sum() * np.abs(a[full] - b[full])))
                        out.append((f"weighted-gap(w=r.{wn}, r.{an}, r.{bn})", gap))
        return out

    # --- a recipe, end to end -----------------------------------------------------------------
    def transformed(self, view: tuple, transform: str | None, k: int):
        if transform is None:
            return view
        r = self.call(self.candidates[transform], view[:k])
        return (r, *view[k:])

    def run_recipe(self, recipe: dict, args: tuple):
        view = self.views(args).get(recipe["view"])
        if view is None:
            raise ValueError("no such view")
        view = self.transformed(view, recipe["transform"], recipe["k"])
        result = self.run_form(recipe["call"], self.candidates[recipe["f"]], view)
        for name, output in self.glues(result, view):
            if name == recipe["glue"]:
                return output
        raise ValueError("glue does not apply")

    # --- the search of one check ----------------------------------------------------------------
    def recipes_on_first_case(self, check, case, expected, deadline):
        """Every recipe whose output on the first public case is right."""
        hits = []
        for view_name, view in self.views(case.args).items():
            if view and _right(check, case, expected, view[0]):
                continue  # the view is the answer (a student's vector_to_params)
            heads: list[tuple[str | None, int, tuple]] = [(None, 0, view)]
            for k in range(1, len(view) + 1):
                if view_name.startswith("perm") or (k == len(view) and len(view) > 1):
                    continue
                for tname in self.candidates:
                    if not self.accepts(tname, k):
                        continue
                    try:
                        r = self.call(self.candidates[tname], view[:k])
                    except Exception:
                        continue
                    if _is_structure(r) and not _same_object(self.np, r, view[0]):
                        heads.append((tname, k, (r, *view[k:])))
            for tname, k, head in heads:
                for fname, func in self.candidates.items():
                    if tname is not None and fname == tname:
                        continue
                    for form in self.call_forms(fname, head):
                        if _now() > deadline:
                            return hits, False
                        try:
                            result = self.run_form(form, func, head)
                        except Exception:
                            continue
                        for glue, output in self.glues(result, head):
                            if _right(check, case, expected, output):
                                hits.append({"view": view_name, "transform": tname, "k": k,
                                             "f": fname, "call": form, "glue": glue})
        return hits, True

    def search_check(self, name: str, check, deadline) -> tuple[list[dict], bool]:
        import copy

        cases = check.cases(hidden=False)
        if not cases:
            return [], True
        try:
            expected = [check.expected(copy.deepcopy(c)) for c in cases]
        except LookupError:  # a by-hand item with numbers of one's own: no stored answer
            return [], True
        hits, complete = self.recipes_on_first_case(check, cases[0], expected[0], deadline)
        survivors = []
        for recipe in hits:
            ok = True
            for case, want in zip(cases[1:], expected[1:], strict=True):
                try:
                    got = self.run_recipe(recipe, case.args)
                except Exception:
                    ok = False
                if not ok or not _right(check, case, want, got):
                    ok = False
                    break
            if ok and self.passes_check(name, recipe):
                survivors.append(recipe)
        return survivors, complete

    def passes_check(self, name: str, recipe: dict) -> bool:
        """Does the recipe, as a student's function, pass the bundle's own ``check()``?

        Run as a student's code runs: NumPy's error state and the warnings filters are
        the check's (no ``errstate`` of this search around the calls), and the function
        is compiled from text, so ``check()`` reads no switch of this file into it."""
        import contextlib

        from course_nn.grading import check

        space = {"_recipe": lambda args: self.run_recipe(recipe, args)}
        exec(compile("def answer(*args):\n    return _recipe(args)\n", "<recipe>", "exec"),
             space)  # noqa: S102 (our own text)
        self.faithful = True
        try:
            with contextlib.redirect_stdout(None):
                check(name, space["answer"])
        except Exception:
            return False
        finally:
            self.faithful = False
        return True


#: Return annotations of functions that draw (or only act): no array answer comes out.
DRAWING_RETURNS = ("Axes", "Figure", "None")


def _draws_only(func) -> bool:
    """Is ``func`` annotated to return a plot (``-> Axes``) or nothing?"""
    annotation = str(getattr(func, "__annotations__", {}).get("return", ""))
    return annotation.rsplit(".", 1)[-1] in DRAWING_RETURNS


def _now() -> float:
    import time

    return time.monotonic()


def _right(check, case, expected, got) -> bool:
    from course_nn.grading.compare import compare_outputs

    try:
        if check.judge is not None:
            return check.judge(case, expected, got) is None
        return compare_outputs(expected, got, rtol=check.rtol, atol=check.atol) is None
    except Exception:
        return False


def _same_object(np, r, x) -> bool:
    if r is x:
        return True
    try:
        return isinstance(r, np.ndarray) and isinstance(x, np.ndarray) and r.shape == x.shape \
            and bool(np.array_equal(r, x))
    except Exception:
        return False


def _is_probabilities(np, P) -> bool:
    return isinstance(P, np.ndarray) and P.ndim == 2 and P.dtype.kind == "f" and bool(
        np.all(P >= 0)) and bool(np.allclose(P.sum(axis=1), 1.0))


def _is_labels(np, y) -> bool:
    return isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype.kind in "iu"


def _same_shape(np, value, x):
    if x is None or np.shape(value) != np.shape(x):
        raise ValueError("the glue changes the shape")
    return value


def _is_structure(value) -> bool:
    """A transform's output worth feeding to a second function: a list or plain tuple of
    arrays or of tuples of arrays (a layer list, parameters), not one array or a number."""
    import numpy as np

    if not isinstance(value, (list, tuple)) or hasattr(value, "_fields") or not value:
        return False
    return all(isinstance(v, np.ndarray) or (isinstance(v, (tuple, list)) and v and all(
        isinstance(w, np.ndarray) for w in v)) for v in value)


def _fields(result) -> list[tuple[str, Any]]:
    """(name, value) of a named tuple's or dataclass's fields; [] for anything else."""
    import dataclasses

    if isinstance(result, tuple) and hasattr(result, "_fields"):
        return list(zip(result._fields, result, strict=True))
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return [(f.name, getattr(result, f.name)) for f in dataclasses.fields(result)]
    return []


def _as_layers(np, args: tuple):
    """``(W1, b1, W2, b2, ...)`` as ``[(W1, b1), ...]`` when they chain as layers; else None."""
    if len(args) < 2 or len(args) % 2 or not all(isinstance(a, np.ndarray) for a in args):
        return None
    pairs = list(zip(args[::2], args[1::2], strict=True))
    for W, b in pairs:
        if W.ndim != 2 or b.shape != (W.shape[0],):
            return None
    return pairs


def _unpack_theta(np, theta, sizes):
    """A parameter vector split into ``[(W, b), ...]`` for ``sizes`` (row-major W, then b),
    as a student's own ``vector_to_params`` returns it; None if they do not fit."""
    if not (isinstance(theta, np.ndarray) and theta.ndim == 1 and isinstance(sizes, np.ndarray)
            and sizes.ndim == 1 and sizes.dtype.kind in "iu" and sizes.size >= 2):
        return None
    sizes = [int(s) for s in sizes]
    if sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True)) != theta.size:
        return None
    out, start = [], 0
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        W = theta[start:start + fan_in * fan_out].reshape(fan_out, fan_in).copy()
        start += fan_in * fan_out
        out.append((W, theta[start:start + fan_out].copy()))
        start += fan_out
    return out


def _refuse_sockets() -> None:
    import socket

    def refused(*args, **kwargs):
        raise OSError("the behavioural search allows no network")

    socket.socket.connect = refused  # type: ignore[method-assign]
    socket.create_connection = refused  # type: ignore[assignment]


def _refuse_figures() -> None:
    """Drawing fails at once: a figure holds no answer that one line of glue could read,
    and drawing thousands of axes would take most of the search's time."""
    import matplotlib.figure

    def refused(self, *args, **kwargs):
        raise RuntimeError("the behavioural search draws no figures")

    matplotlib.figure.Figure.__init__ = refused  # type: ignore[method-assign]


def child_main(config: dict[str, Any]) -> dict[str, Any]:
    import time

    import matplotlib

    matplotlib.use("Agg")
    _refuse_sockets()
    _refuse_figures()
    import course_nn
    from course_nn.grading import REGISTRY

    child = _Child(config)
    child.started = time.monotonic()
    deadline = child.started + child.budget
    graded = config.get("graded", [])
    child.install_answers(graded, config.get("answers", {}))
    child.collect({f"{module}.{name}" for module, name, _, _ in graded})
    exercises = config.get("exercises", {})
    findings, incomplete, per_check = [], [], {}
    for name in sorted(REGISTRY):
        if child.only_checks and name not in child.only_checks:
            continue
        child.exercise = exercises.get(name)
        start, calls = time.monotonic(), child.calls
        hits, complete = child.search_check(name, REGISTRY[name], deadline)
        per_check[name] = [round(time.monotonic() - start, 2), child.calls - calls]
        if not complete:
            incomplete.append(name)
        for recipe in hits:
            text = " ".join(f"{k}={recipe[k]}" for k in ("view", "transform", "f", "call", "glue")
                            if recipe[k] is not None)
            for function in filter(None, (recipe["f"], recipe["transform"])):
                findings.append({"check": name, "function": function, "recipe": text})
    if incomplete:
        raise SystemExit(f"the search ran out of its {child.budget:.0f} s budget at "
                         f"{', '.join(incomplete)}")
    checks = [n for n in REGISTRY if not child.only_checks or n in child.only_checks]
    return {"findings": findings, "course_nn": course_nn.__file__,
            "candidates": len(child.candidates), "checks": len(checks), "calls": child.calls,
            "seconds": round(time.monotonic() - child.started, 1),
            "timed_out": child.timed_out, "answered": sorted(child.answered), "slow": sorted(child.slow),
            "per_check": per_check}


def adapted_main(config: dict[str, Any]) -> dict[str, Any]:
    """Run pieces of student code through ``check()``: each ``{"label", "check", "code",
    "function"}`` defines ``function`` with ``code`` (which imports ``course_nn`` as it
    likes); reports whether it passes the public cases and what its first call raises."""
    import copy

    import matplotlib

    matplotlib.use("Agg")
    _refuse_sockets()
    import numpy as np

    import course_nn
    from course_nn.grading import REGISTRY, check

    child = _Child({"per_call": 120.0, "budget": 0.0})
    child.install_answers(config.get("graded", []), config.get("answers", {}))
    exercises = config.get("exercises", {})
    outcomes = {}
    for piece in config["pieces"]:
        child.exercise = exercises.get(piece["check"])
        space: dict[str, Any] = {"np": np, "__name__": "student"}
        exec(compile(piece["code"], f"<{piece['label']}>", "exec"), space)  # noqa: S102
        func = space[piece["function"]]
        first = REGISTRY[piece["check"]].cases(hidden=False)[0]
        try:
            child.call(func, copy.deepcopy(first.args), limit=120.0)
            raised = None
        except Exception as err:
            raised = f"{type(err).__name__}: {err}"
        try:
            child.call(check, (piece["check"], func), limit=300.0)
            passed = True
        except Exception:
            passed = False
        outcomes[piece["label"]] = {"passed": passed, "raised": raised}
    return {"course_nn": course_nn.__file__, "outcomes": outcomes}


if __name__ == "__main__":
    sys.path[:] = [p for p in sys.path if Path(p).resolve() != Path(__file__).resolve().parent]
    _config = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    print(json.dumps((adapted_main if "pieces" in _config else child_main)(_config)))
