"""One name per concept: every name table says what it holds, and retired names stay retired (issue 19 item 4)."""
from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import npsnn_edu
from npsnn_edu.errors import UnknownNameError
from npsnn_edu.registry import Registry

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "npsnn_edu"

#: Every name table of the package and the kind of thing it holds (the word its error message uses).
#: A new Registry must be added here: its label is then a deliberate choice, checked below.
REGISTRY_KINDS = {
    "ADAPTERS": "adapter",
    "BRANCHES": "operator branch",
    "CONSTANTS": "energy constant set",
    "FAMILIES": "operator family",
    "INTEGRATORS": "integrator",
    "POTENTIALS": "potential",
    "PRIORS": "prior",
    "PROBLEMS": "problem",
    "REPRESENTATION_NAMES": "representation",
    "SYSTEMS": "system",
}


def _package_registries() -> dict[str, Registry]:
    """Every module-level Registry of the package, by its variable name (imports every module once)."""
    found: dict[str, Registry] = {}
    for info in pkgutil.walk_packages(npsnn_edu.__path__, "npsnn_edu."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, Registry):
                assert found.get(name, value) is value, f"two different registries are called {name}"
                found[name] = value
    return found


def test_every_registry_is_labelled_with_what_it_holds():
    registries = _package_registries()
    assert set(registries) == set(REGISTRY_KINDS), "add a new Registry to REGISTRY_KINDS with the kind it holds"
    for name, table in registries.items():
        assert table.kind == REGISTRY_KINDS[name], f"{name} holds {REGISTRY_KINDS[name]}s, labelled {table.kind!r}"
        expected = f"unknown {REGISTRY_KINDS[name]} 'pendulum'; choose one of: {', '.join(sorted(table.names()))}"
        with pytest.raises(UnknownNameError) as err:
            table.get("pendulum")
        assert str(err.value) == expected


def _factories():
    from npsnn_edu.gpr.priors import get_prior
    from npsnn_edu.integrators import get_integrator
    from npsnn_edu.potentials import get_potential
    from npsnn_edu.spiking import get_problem
    from npsnn_edu.spiking.energy import priced_counts
    from npsnn_edu.spiking.operator import OperatorConfig
    from npsnn_edu.spiking.operator_families import get_family
    from npsnn_edu.systems import get_system

    return [
        (lambda: get_problem("pendulum"), "unknown problem 'pendulum'; choose one of: double_well, harmonic, lj3, "
                                          "morse"),
        (lambda: get_family("pendulum"), "unknown operator family 'pendulum'; choose one of: harmonic, lj3d, morse"),
        (lambda: get_potential("pendulum"), "unknown potential 'pendulum'; choose one of: double_well, harmonic, "
                                            "lennard_jones, morse"),
        (lambda: get_system("pendulum"), "unknown system 'pendulum'; choose one of: double_well, harmonic, "
                                         "lennard_jones, morse"),
        (lambda: get_integrator("pendulum", 0.1), "unknown integrator 'pendulum'; choose one of: euler, langevin, "
                                                  "rk4, symplectic_euler, velocity_verlet"),
        (lambda: get_prior("pendulum"), "unknown prior 'pendulum'; choose one of: median, mf1, mf2, mf3, mf4, mf5, "
                                        "training_max"),
        (lambda: priced_counts({}, "pendulum"), "unknown energy constant set 'pendulum'; choose one of: fp32, fpsnn"),
        (lambda: OperatorConfig(branch="pendulum").validate(), "unknown operator branch 'pendulum'; choose one of: "
                                                               "spikes_only, spiking, tanh"),
    ]


def test_each_factory_names_the_kind_it_was_asked_for():
    """``get_problem("pendulum")`` says "unknown problem" (not "unknown system") and lists the problems."""
    for call, message in _factories():
        with pytest.raises(UnknownNameError) as err:
            call()
        assert str(err.value) == message


# ------------------------------------------------------------------------------------------- retired names
#: Names retired by issue 19 (one name per concept) -> what to use instead.  A merge that brings one back fails.
RETIRED = {
    r"\bmake_problem\b": "get_problem",
    r"\bsynaptic_energy\b": "operation_counts(model, n)['total_pJ']",
    r"\bstability_table\b": "stability.stability_limits (chapter 2) or gpr.experiments.crash_table (chapter 3)",
    r"gpr_widgets import[^\n]*[ ,]crash_table\b|gpr_widgets\.crash_table\b":
        "viz.gpr_widgets.render_crash_table (gpr.experiments.crash_table runs the MD)",
    r"\baccuracy_table\b": "gpr.experiments.accuracy per prior",
    r"\bsingle_row\b|\bspread_row\b": "spiking.compare.result_row",
    r"\bmarkdown_table\b": "tables.markdown(results_table(rows), missing='-')",
    r"\bevaluate_coefficients\b": "trajectory_errors_of_coefficients",
    r"\bsummarise\w*\(": "summarize_errors / summarize_rows / summarize_runs / summarize_store",
    r"\bcheck_find_largest_stable_dt\b": "check_find_dt_limits",
    # Playwright's page.evaluate (and its locators q, c) in the browser tests is a different API
    r"\b(?!page\b|q\b|c\b)\w+\.evaluate\b|`evaluate\b":
        "energy_and_forces_unchecked (potentials, GP models), trajectory_errors (PINN and operator trainers), "
        "reason_and_deviation (CrashCriterion)",
    r"\b(Trainer|trainer|DtScanResult|scan)\.summary\b": "report() (text); a summary() is a dict of JSON-able values",
    # the layout (issue 19 item 2): chapters 1-2 in npsnn_edu.md, course tooling in npsnn_edu.course
    r"npsnn_edu[./](analysis|stability)\b|from npsnn_edu import (analysis|stability)\b":
        "npsnn_edu.md.analysis / npsnn_edu.md.stability",
    r"npsnn_edu[./](assignments|notebook_runner|site|lesson_stats)\b"
    r"|from npsnn_edu import [\w, ]*\b(assignments|notebook_runner|site|lesson_stats)\b":
        "npsnn_edu.course.assignments / .notebook_runner / .site / .lesson_stats",
    r"npsnn_edu\.course (link|z2jh)|npsnn_edu\.course import (nbgitpuller_link|z2jh)|npsnn_edu/course\.py":
        "npsnn_edu.course.hub (nbgitpuller links and the z2jh config)",
}


def _texts():
    paths = [*PACKAGE.rglob("*.py"), *(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").rglob("*.py"),
             *(ROOT / "research").rglob("*.py"), *(ROOT / "notebooks").glob("*.ipynb"), *(ROOT / "docs").rglob("*.md"),
             ROOT / "README.md"]
    for path in paths:
        # test_line_counts.py counts older revisions, so it names the flat layout's paths on purpose
        if path.name not in ("test_names.py", "test_line_counts.py") and path.is_file():
            yield path.relative_to(ROOT), path.read_text(errors="replace")


def test_retired_names_stay_retired():
    offenders = []
    for rel, text in _texts():
        for n, line in enumerate(text.splitlines(), 1):
            for pattern, instead in RETIRED.items():
                if re.search(pattern, line):
                    offenders.append(f"{rel}:{n}: {line.strip()[:100]}  -> use {instead}")
    assert not offenders, "retired names are back:\n" + "\n".join(offenders)


def test_the_retired_names_check_can_fail():
    lines = ["prob = make_problem('harmonic')", "e, f = pot.evaluate(x)", "ev = trainer.evaluate()",
             "* :meth:`evaluate`: the fast path", "`OperatorTrainer.evaluate` warns", "print(res.trainer.summary())",
             "from npsnn_edu.viz.gpr_widgets import proton_trace_figure, crash_table",
             "summarise(errors)", "from npsnn_edu import stability as st", "python -m npsnn_edu.site prepare",
             "see npsnn_edu/analysis.py", "python -m npsnn_edu.course link --hub H",
             "from npsnn_edu import assignments, lesson_stats"]
    for line in lines:
        assert any(re.search(p, line) for p in RETIRED), line
    fine = ["text = page.evaluate('document.body.textContent')", "rows = summarize_runs(runs)",
            "rows, runs = crash_table(models, ref)", "from npsnn_edu.viz.gpr_widgets import render_crash_table",
            "out = run.summary()", "shipped_crash_table(result, 'force_trained')",
            "from npsnn_edu.md import stability as st", "python -m npsnn_edu.course.site prepare",
            "python -m npsnn_edu.course.hub link --hub H", "benchmarks/gpr_stability.py"]
    for line in fine:
        assert not any(re.search(p, line) for p in RETIRED), line


def _method_defs(name: str):
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name == name:
                yield path.relative_to(ROOT), node


def test_no_evaluate_and_summary_is_always_a_dict():
    """``evaluate`` had four meanings: each has its own name now.  ``summary()`` returns a dict everywhere (a text
    rendering is ``report()``)."""
    assert [f"{p}:{n.lineno}" for p, n in _method_defs("evaluate")] == []
    summaries = list(_method_defs("summary"))
    assert summaries, "MDRun.summary() is expected"
    for path, node in summaries:
        assert node.returns is not None and ast.unparse(node.returns).startswith("dict"), f"{path}:{node.lineno}"


@pytest.mark.parametrize("old, new", [("npsnn_edu.analysis", "npsnn_edu.md.analysis"),
                                      ("npsnn_edu.stability", "npsnn_edu.md.stability"),
                                      ("npsnn_edu.assignments", "npsnn_edu.course.assignments"),
                                      ("npsnn_edu.notebook_runner", "npsnn_edu.course.notebook_runner"),
                                      ("npsnn_edu.site", "npsnn_edu.course.site"),
                                      ("npsnn_edu.lesson_stats", "npsnn_edu.course.lesson_stats")])
def test_the_layout_has_one_place_per_module(old, new):
    """Chapters 1-2 live in ``npsnn_edu.md``, course tooling in ``npsnn_edu.course``: the old flat modules are gone
    (no alias keeps a second path alive) and the new ones import."""
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(old)
    assert importlib.import_module(new).__name__ == new
