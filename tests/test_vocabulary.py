"""The shared vocabulary: validation helpers, name registry, run modes, tables, precomputed results."""
from __future__ import annotations

import math

import numpy as np
import pytest

from npsnn_edu import config
from npsnn_edu.errors import (
    DataFormatError,
    InvalidParameterError,
    InvalidStateError,
    NotFittedError,
    ShapeMismatchError,
    UnknownNameError,
)
from npsnn_edu.precomputed import available_results, load_result, save_result
from npsnn_edu.registry import Registry, normalise_name
from npsnn_edu.tables import markdown, results_table
from npsnn_edu.validation import (
    at_least,
    check_fitted,
    finite,
    finite_array,
    in_range,
    one_of,
    positive,
    positive_or_none,
    probability,
)


@pytest.mark.parametrize("bad", [0, -1.0, math.nan, math.inf, "x", None, True])
def test_positive_rejects_with_name_and_hint(bad):
    with pytest.raises(InvalidParameterError, match=r"dt must be a positive finite number.*e\.g\. dt=0\.005"):
        positive("dt", bad, hint="e.g. dt=0.005")


def test_positive_and_friends_convert():
    assert positive("dt", "0.5") == 0.5
    assert positive("n", 3.0, integer=True) == 3 and isinstance(positive("n", 3.0, integer=True), int)
    with pytest.raises(InvalidParameterError, match="positive integer"):
        positive("n", 2.5, integer=True)
    assert positive_or_none("x", None) is None
    assert at_least("n_steps", 0, 0, integer=True) == 0
    with pytest.raises(InvalidParameterError, match=r"n_steps must be an integer >= 1"):
        at_least("n_steps", 0, 1, integer=True)
    assert finite("e", -2) == -2.0
    with pytest.raises(InvalidParameterError, match="finite"):
        finite("e", math.nan)
    assert in_range("p", 0.5, 0, 1) == 0.5
    with pytest.raises(InvalidParameterError, match=r"\(0, 1\)"):
        in_range("p", 1.0, 0, 1, closed=False)
    with pytest.raises(InvalidParameterError, match=r"\[0, 1\]"):
        probability("p", 1.5)


def test_one_of_normalises_and_lists_choices():
    assert one_of("mode", " Class-Room ".replace("-", ""), ("fast", "classroom")) == "classroom"
    with pytest.raises(UnknownNameError, match="choose one of: classroom, fast"):
        one_of("mode", "slow", ("fast", "classroom"))


def test_finite_array_shapes_and_nan():
    assert finite_array("x", [[1, 2]], shape=(None, 2)).shape == (1, 2)
    with pytest.raises(ShapeMismatchError, match=r"shaped \(N, 3\)"):
        finite_array("x", [[1, 2]], shape=(None, 3))
    with pytest.raises(ShapeMismatchError, match="2 dimension"):
        finite_array("x", [1, 2], ndim=2)
    with pytest.raises(InvalidStateError, match="NaN"):
        finite_array("x", [np.nan])
    with pytest.raises(InvalidStateError, match="numeric"):
        finite_array("x", ["a"])


def test_check_fitted():
    class Model:
        alpha = None

    with pytest.raises(NotFittedError, match="Model is not fitted yet; call fit"):
        check_fitted(Model(), "alpha")
    m = Model()
    m.alpha = 1
    check_fitted(m, "alpha")
    assert issubclass(NotFittedError, ValueError)


def test_registry_aliases_and_errors():
    reg: Registry[int] = Registry("integrator")
    reg.register("velocity_verlet", 1, aliases=("verlet", "vv"))
    reg.register("rk4", 2)
    assert reg.resolve("Velocity-Verlet") == "velocity_verlet" and reg.get(" VV ") == 1
    assert "verlet" in reg and "leapfrog" not in reg and len(reg) == 2 and list(reg) == ["velocity_verlet", "rk4"]
    with pytest.raises(UnknownNameError, match="unknown integrator 'leapfrog'; choose one of: rk4, velocity_verlet"):
        reg.get("leapfrog")
    with pytest.raises(ValueError, match="twice"):
        reg.register("vv", 3)
    assert normalise_name("A b-c") == "a_b_c"


@pytest.fixture
def clean_mode(monkeypatch, tmp_path):
    monkeypatch.delenv(config.MODE_ENV_VAR, raising=False)
    monkeypatch.delenv(config.FAST_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    config.set_mode(None)
    yield tmp_path
    config._session_mode = None


def test_modes_precedence(clean_mode, monkeypatch):
    assert config.mode_source() == ("full", "default")
    assert config.pick(full=10, classroom=5, fast=1) == 10
    sub = clean_mode / "course" / "week1"
    sub.mkdir(parents=True)
    (clean_mode / config.MODE_FILE).write_text("classroom\n")
    monkeypatch.chdir(sub)
    assert config.mode() == "classroom" and config.pick(10, 1, classroom=5) == 5
    assert config.pick(10, 1) == 10  # no classroom size given: the full one
    monkeypatch.setenv(config.FAST_ENV_VAR, "1")
    assert config.mode() == "fast" and config.fast_mode()
    monkeypatch.setenv(config.MODE_ENV_VAR, "full")
    assert config.mode() == "full"
    assert config.set_mode("Classroom") == "classroom"
    assert config.mode_source() == ("classroom", "set_mode()")


def test_bad_mode_says_where(clean_mode, monkeypatch):
    monkeypatch.setenv(config.MODE_ENV_VAR, "turbo")
    with pytest.raises(InvalidParameterError, match=r"unknown mode 'turbo'.*NPSNN_EDU_MODE"):
        config.mode()
    with pytest.raises(InvalidParameterError, match="set_mode"):
        config.set_mode("turbo")


def test_results_table_and_markdown():
    frame = results_table([{"prior": "MF5", "mae": 0.25, "n": 8}, {"prior": "MF2", "mae": 0.3, "n": 8}],
                          columns=["prior", "mae"], index="prior", rename={"mae": "MAE (kcal/mol)"})
    assert list(frame.columns) == ["MAE (kcal/mol)"] and frame.loc["MF2", "MAE (kcal/mol)"] == 0.3
    text = markdown(frame, index=True)
    assert text.splitlines()[0] == "| prior | MAE (kcal/mol) |" and "| MF5 | 0.25 |" in text
    with pytest.raises(ShapeMismatchError, match="no column"):
        results_table([{"a": 1}], columns=["b"])


def test_precomputed_round_trip(tmp_path):
    path = save_result("demo", {"x": [1, 2]}, command="python make_demo.py", seeds=range(3), directory=tmp_path)
    assert path.exists() and available_results(tmp_path) == ["demo"]
    result = load_result("demo", tmp_path)
    assert result.data == {"x": [1, 2]} and result.command == "python make_demo.py"
    assert result.provenance["seeds"] == [0, 1, 2] and "numpy" in result.provenance["versions"]
    with pytest.raises(UnknownNameError, match="demo"):
        load_result("nope", tmp_path)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DataFormatError, match="regenerate"):
        load_result("bad", tmp_path)


def test_describe_mode_reads_timings(clean_mode, monkeypatch, tmp_path):
    import json

    path = tmp_path / "timings.json"
    path.write_text(json.dumps({"notebooks": {"01_x": {"fast": {"seconds": 30}, "full": {"seconds": 240}}}}))
    monkeypatch.setattr(config, "TIMINGS_FILE", path)
    config.set_mode("classroom")
    line = config.describe_mode("01_x")
    assert line.startswith("Run mode: classroom (from set_mode())") and "fast 0.5 min, full 4.0 min" in line
    assert "Measured" not in config.describe_mode("02_unknown")


# -- one vocabulary across the package: invariants checked on the source ---------------------------
import ast  # noqa: E402
from pathlib import Path  # noqa: E402

PACKAGE = Path(__file__).resolve().parents[1] / "npsnn_edu"
#: The core: imported by everything, imports none of its adapters, chapters or widgets.
CORE = ("potentials", "integrators", "trajectory", "systems", "units", "validation", "registry", "config",
        "errors", "progress", "tables", "analytic")


def _sources():
    return sorted(PACKAGE.rglob("*.py"))


def test_no_string_test_of_an_integrator_name_outside_the_integrator_module():
    offenders = []
    for path in _sources():
        if path.name == "integrators.py":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if any(pattern in line for pattern in ('== "langevin"', "== 'langevin'", '!= "langevin"',
                                                     '== "euler"', '!= "euler"', '_wants_kb')):
                offenders.append(f"{path.relative_to(PACKAGE)}:{n}: {line.strip()}")
    assert not offenders, "ask integrator_class(name).thermostat / .options instead:\n" + "\n".join(offenders)


def test_the_private_evaluation_is_only_called_inside_potentials():
    offenders = []
    for path in _sources():
        if path.name == "potentials.py":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if "._energy_and_forces(" in line or "._energy_and_forces " in line:
                offenders.append(f"{path.relative_to(PACKAGE)}:{n}: {line.strip()}")
    assert not offenders, ("call Potential.energy_and_forces_unchecked (fast) or energy_and_forces (validated):\n"
                           + "\n".join(offenders))


def test_core_modules_do_not_import_their_ase_adapter():
    for name in CORE:
        path = PACKAGE / f"{name}.py"
        text = path.read_text()
        assert "ase_interop" not in text, f"{path.name} mentions ase_interop: the adapter depends on the core"
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom):
                upward = ("ase_interop", "stability", "viz", "gpr", "spiking")
                assert node.module not in upward, (path.name, node.module)


def test_ase_adapter_registers_its_converters():
    from npsnn_edu import ase_interop
    from npsnn_edu.registry import ADAPTERS, adapter

    assert set(ADAPTERS.names()) >= {"potential_calculator", "trajectory_to_atoms", "write_trajectory",
                                     "read_trajectory"}
    assert adapter("trajectory_to_atoms") is ase_interop.trajectory_to_atoms
    with pytest.raises(ImportError, match="not registered"):
        adapter("no_such_adapter")


def test_factories_resolve_names_through_registries():
    from npsnn_edu.integrators import INTEGRATORS, LangevinBAOAB, get_integrator
    from npsnn_edu.potentials import POTENTIALS, LennardJones, get_potential
    from npsnn_edu.systems import SYSTEMS, get_system

    for table in (INTEGRATORS, POTENTIALS, SYSTEMS):
        assert isinstance(table, Registry)
    assert POTENTIALS.resolve("LJ") == "lennard_jones" and isinstance(get_potential("Lennard-Jones"), LennardJones)
    assert SYSTEMS.resolve("doublewell") == "double_well" and get_system("DOUBLE_WELL").name == "double-well"
    assert isinstance(get_integrator("baoab", 0.1, temperature=1.0), LangevinBAOAB)
    with pytest.raises(UnknownNameError, match="choose one of: double_well, harmonic, lennard_jones, morse"):
        get_potential("spring")


def test_registry_replace_allows_re_registration():
    table = Registry("thing")
    table.register("a", 1)
    with pytest.raises(ValueError, match="twice"):
        table.register("a", 2)
    table.register("a", 3, replace=True)
    assert table.get("a") == 3
