"""Parameters are declared once per class (``_parameter_constraints``) and checked centrally (issue 19 item 5).

For every class that declares a table: every dataclass field / ``__init__`` parameter is declared (a new field
cannot go unchecked), and every declared parameter refuses a bad value with a typed error whose message names the
parameter and says what to change.  The central checker itself is tested on its own below.
"""
from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

import npsnn_edu
from npsnn_edu.ase_interop import AseCalculatorPotential, PotentialCalculator
from npsnn_edu.course.notebook_runner import RssSampler
from npsnn_edu.errors import InvalidParameterError, NotFittedError, NpsnnError, ShapeMismatchError, UnknownNameError
from npsnn_edu.exercises.chapter2 import PairSpring
from npsnn_edu.gpr.calculator import GPRCalculator
from npsnn_edu.gpr.campaign import Job, make_jobs
from npsnn_edu.gpr.data import GenerationSettings
from npsnn_edu.gpr.data import load as load_molecule
from npsnn_edu.gpr.descriptors import PairDescriptor
from npsnn_edu.gpr.experiments import CrashCriterion
from npsnn_edu.gpr.model import GPRPotential
from npsnn_edu.gpr.priors import PRIORS, CallablePrior, ConstantPrior
from npsnn_edu.integrators import INTEGRATORS, DivergenceGuard, LangevinBAOAB, Recorder, State
from npsnn_edu.potentials import DoubleWell, Harmonic, LennardJones, Morse
from npsnn_edu.spiking.basis import KernelBasis
from npsnn_edu.spiking.models import (
    MLPPINN,
    ClockSNN,
    KernelCoefficients,
    PointwiseSNN,
    SpikingBranch,
    TanhBranch,
    TimeEncoding,
)
from npsnn_edu.spiking.operator import OperatorConfig, OperatorTrainer, PhysicsOperator
from npsnn_edu.spiking.operator_families import (
    HarmonicFamily,
    LJ3DFamily,
    MorseFamily,
    OperatorFamily,
    PotentialFamily,
)
from npsnn_edu.spiking.problems import NewtonProblem
from npsnn_edu.spiking.training import TrainConfig, Trainer
from npsnn_edu.units import LJUnits
from npsnn_edu.validation import (
    AtLeast,
    Boolean,
    Constraint,
    InstanceOf,
    Integer,
    Interval,
    Options,
    Positive,
    Rule,
    check_param,
    validate_params,
)
from npsnn_edu.viz.gpr_widgets import GPRMDExplorer
from npsnn_edu.viz.md_widgets import MDExplorer
from npsnn_edu.viz.quiz import QuizView, load_quiz
from npsnn_edu.viz.spiking_widgets import SpikingTrainingWidget
from npsnn_edu.viz.stability_widgets import DtSliderExplorer

WATER = ["O", "H", "H"]


def _water_atoms(calc=False):
    atoms = Atoms("OH2", positions=[[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0]])
    if calc:
        atoms.calc = PotentialCalculator(Harmonic())
    return atoms


def _water_frames(n=6, seed=0):
    rng = np.random.default_rng(seed)
    x = np.array([[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0]]) + 0.05 * rng.standard_normal((n, 3, 3))
    return x, rng.standard_normal(n)


@functools.lru_cache(maxsize=1)
def _trained_gp():
    return GPRPotential(WATER, prior="MF2", lengthscale=0.5).fit(*_water_frames())


@functools.lru_cache(maxsize=1)
def _malondialdehyde():
    return load_molecule("malondialdehyde")


def _state():
    return State(np.ones((1, 1)), np.zeros((1, 1)), -np.ones((1, 1)), 0.5)


#: the tiny spiking networks: x0 of one particle in 1-D, a short window
X0 = np.zeros((1, 1))


#: class -> (how to build one with some parameters overridden, how its messages spell a parameter's name)
CLASSES: dict[type, tuple[Callable[..., Any], Callable[[str], str]]] = {
    TrainConfig: (lambda **kw: TrainConfig(**kw), str),
    OperatorConfig: (lambda **kw: OperatorConfig(**kw), str),
    LJUnits: (lambda **kw: LJUnits(**{"sigma_angstrom": 3.4, "epsilon_ev": 0.0104, "mass_amu": 39.95, **kw}),
              lambda name: f"LJUnits.{name}"),
    GPRPotential: (lambda **kw: GPRPotential(**{"symbols": WATER, **kw}), str),
    GenerationSettings: (lambda **kw: GenerationSettings(**kw), str),
    Job: (lambda **kw: Job(**{"molecule": "malondialdehyde", "prior": "MF5", "temperature_K": 300.0, "seed": 0,
                              "duration_fs": 100.0, **kw}), str),
    NewtonProblem: (lambda **kw: NewtonProblem(**{"name": "spring", "potential": Harmonic(), "x0": [[1.0]],
                                                  "v0": [[0.0]], "masses": 1.0, "t_end": 2.0, **kw}), str),
    OperatorFamily: (lambda **kw: OperatorFamily(**kw), str),
    HarmonicFamily: (lambda **kw: HarmonicFamily(**kw), str),
    MorseFamily: (lambda **kw: MorseFamily(**kw), str),
    LJ3DFamily: (lambda **kw: LJ3DFamily(**kw), str),
    PotentialFamily: (lambda **kw: PotentialFamily(**{"pot": Harmonic(), "x_lo": (0.5,), "x_hi": (1.0,),
                                                      "v_lo": (-0.1,), "v_hi": (0.1,), **kw}), str),
    CrashCriterion: (lambda **kw: CrashCriterion(**{"reference": _water_atoms(), **kw}), str),
    # the GP prior means (fit/value estimators)
    ConstantPrior: (lambda **kw: ConstantPrior(**kw), str),
    CallablePrior: (lambda **kw: CallablePrior(**{"fn": np.sum, **kw}), str),
    **{PRIORS.get(n): ((lambda cls: lambda **kw: cls(**kw))(PRIORS.get(n)), str) for n in PRIORS.names()},
    # estimators: tiny sizes so that building one is cheap
    Trainer: (lambda **kw: Trainer(**{"config": TrainConfig(method="mlp", hidden=4, n_colloc=8), **kw}), str),
    PhysicsOperator: (lambda **kw: PhysicsOperator(**{"family": "harmonic", **kw,
                                                      "config": kw.get("config", OperatorConfig(hidden=4, num_steps=2,
                                                                                                n_knots=6, pad=1))}),
                      str),
    OperatorTrainer: (lambda **kw: OperatorTrainer(**{"config": OperatorConfig(hidden=4, num_steps=2, n_knots=6, pad=1,
                                                                               n_colloc=8, batch=4), **kw}), str),
    # the spiking networks, their basis and encoding (torch modules)
    KernelBasis: (lambda **kw: KernelBasis(**{"tau_end": 6.0, "n_knots": 6, "pad": 1, **kw}), str),
    TimeEncoding: (lambda **kw: TimeEncoding(**{"t_end": 2.0, **kw}), str),
    PointwiseSNN: (lambda **kw: PointwiseSNN(**{"x0": X0, "t_end": 2.0, "hidden": 4, "num_steps": 2, **kw}), str),
    ClockSNN: (lambda **kw: ClockSNN(**{"x0": X0, "t_end": 2.0, "hidden": 4, "n_knots": 6, "pad": 1, "num_steps": 2,
                                        **kw}), str),
    KernelCoefficients: (lambda **kw: KernelCoefficients(**{"x0": X0, "t_end": 2.0, "n_knots": 6, "pad": 1, **kw}),
                         str),
    MLPPINN: (lambda **kw: MLPPINN(**{"x0": X0, "t_end": 2.0, "hidden": 4, **kw}), str),
    SpikingBranch: (lambda **kw: SpikingBranch(**{"n_in": 2, "n_out": 3, "hidden": 4, "num_steps": 2, **kw}), str),
    TanhBranch: (lambda **kw: TanhBranch(**{"n_in": 2, "n_out": 3, "hidden": 4, **kw}), str),
    # the ASE calculators and the GP's descriptor
    GPRCalculator: (lambda **kw: GPRCalculator(**{"model": _trained_gp(), **kw}), str),
    PotentialCalculator: (lambda **kw: PotentialCalculator(**{"potential": Harmonic(), **kw}), str),
    AseCalculatorPotential: (lambda **kw: AseCalculatorPotential(**{"atoms": _water_atoms(calc=True),
                                                                    "calculator": PotentialCalculator(Harmonic()),
                                                                    **kw}), str),
    PairDescriptor: (lambda **kw: PairDescriptor(**{"n_atoms": 3, **kw}), str),
    # the core: potentials (PairPotential through its subclasses), integrators and the run's helpers
    Harmonic: (lambda **kw: Harmonic(**kw), str),
    DoubleWell: (lambda **kw: DoubleWell(**kw), str),
    LennardJones: (lambda **kw: LennardJones(**{"shift": False, **kw}), str),  # (shift=True needs a cutoff)
    Morse: (lambda **kw: Morse(**{"cutoff": 2.5, **kw}), str),
    **{INTEGRATORS.get(n): ((lambda cls: lambda **kw: cls(**{"dt": 0.1, **kw}))(INTEGRATORS.get(n)), str)
       for n in INTEGRATORS.names() if INTEGRATORS.get(n) is not LangevinBAOAB},
    LangevinBAOAB: (lambda **kw: LangevinBAOAB(**{"dt": 0.1, "temperature": 1.0, **kw}), str),
    Recorder: (lambda **kw: Recorder(**{"state": _state(), "masses": np.ones(1), "n_steps": 10, **kw}), str),
    DivergenceGuard: (lambda **kw: DivergenceGuard(**{"e0": -1.0, "scale": 1.0, **kw}), str),
    # the widgets and the small helpers on top (a widget would silently clamp a value outside its control)
    MDExplorer: (lambda **kw: MDExplorer(**{"show_3d": False, **kw}), str),
    DtSliderExplorer: (lambda **kw: DtSliderExplorer(**{"n_steps": 20, **kw}), str),
    GPRMDExplorer: (lambda **kw: GPRMDExplorer(**{"data": _malondialdehyde(), "n_train": 50, "show_3d": False,
                                                  **kw}), str),
    SpikingTrainingWidget: (lambda **kw: SpikingTrainingWidget(**{"method": "mlp", "total_steps": 2, "chunk": 1,
                                                                  "background": False, **kw},
                                                               **({} if "trainer" in kw else
                                                                  {"n_colloc": 8, "n_eval": 21, "hidden": 4})),
                            str),
    QuizView: (lambda **kw: QuizView(**{"questions": load_quiz("01_newtonian_md"), **kw}), str),
    PairSpring: (lambda **kw: PairSpring(**{"k": 1.0, **kw}), str),
    RssSampler: (lambda **kw: RssSampler(**kw), str),
}
#: the words a message uses for a parameter when it is not the parameter's own name
SPELLED = {(TrainConfig, "derivative"): "derivative mode", (OperatorConfig, "branch"): "branch",
           (PairDescriptor, "kind"): "descriptor", (QuizView, "questions"): "quiz"}


def _declared_names(cls: type) -> set[str]:
    if dataclasses.is_dataclass(cls):
        return {f.name for f in dataclasses.fields(cls) if not f.name.startswith("_")}
    params = inspect.signature(cls.__init__).parameters.values()
    return {p.name for p in params if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}


def _first_rule(declaration: Any) -> Constraint:
    options = declaration if isinstance(declaration, tuple) else (declaration,)
    return next(c for c in options if c is not None)


CASES = [(cls, name) for cls in CLASSES for name in cls._parameter_constraints]


@pytest.mark.parametrize("cls", list(CLASSES), ids=lambda c: c.__name__)
def test_every_field_and_init_parameter_has_a_declared_constraint(cls):
    assert set(cls._parameter_constraints) == _declared_names(cls)
    for declaration in cls._parameter_constraints.values():
        options = declaration if isinstance(declaration, tuple) else (declaration,)
        assert options and all(c is None or isinstance(c, Constraint) for c in options)
        assert any(c is not None for c in options)


def test_every_class_that_declares_a_table_is_checked_here():
    """A class that adds a ``_parameter_constraints`` table anywhere in the package is listed in CLASSES above
    (itself, or a subclass of it)."""
    declaring = set()
    for path in Path(npsnn_edu.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    target = item.target if isinstance(item, ast.AnnAssign) else None
                    if isinstance(target, ast.Name) and target.id == "_parameter_constraints":
                        declaring.add(node.name)
    assert declaring, "no table found: the scan is broken"
    covered = {base.__name__ for cls in CLASSES for base in cls.__mro__}  # a private base: through its subclasses
    assert declaring <= covered, declaring - covered


@pytest.mark.parametrize("cls", list(CLASSES), ids=lambda c: c.__name__)
def test_defaults_pass_their_own_constraints(cls):
    build, _ = CLASSES[cls]
    build()


@pytest.mark.parametrize("cls, name", CASES, ids=[f"{c.__name__}.{n}" for c, n in CASES])
def test_every_declared_parameter_refuses_a_bad_value_naming_it(cls, name):
    build, spell = CLASSES[cls]
    bad = _first_rule(cls._parameter_constraints[name]).invalid
    with pytest.raises(NpsnnError) as info:
        build(**{name: bad})
    message = str(info.value)
    assert spell(SPELLED.get((cls, name), name)) in message, message
    assert any(word in message for word in ("must", "choose one of", "give", "use")), message


@pytest.mark.parametrize("cls, name", [(c, n) for c, n in CASES if isinstance(c._parameter_constraints[n], tuple)
                                       and None in c._parameter_constraints[n]])
def test_parameters_declared_optional_accept_none(cls, name):
    build, _ = CLASSES[cls]
    obj = build(**{name: None})
    if dataclasses.is_dataclass(obj):
        assert getattr(obj, name) is None


# -- the messages of today's hand-written checks are kept word for word -------------------------------------------
@pytest.mark.parametrize("build, message", [
    (lambda: TrainConfig(lr=-1), "lr must be positive, got -1"),
    (lambda: TrainConfig(grad_clip=0), "grad_clip must be positive or None, got 0"),
    (lambda: TrainConfig(beta=0.0), "beta (membrane decay) must be in (0, 1], got 0.0"),
    (lambda: TrainConfig(beta=float("nan")), "beta (membrane decay) must be in (0, 1], got nan"),
    (lambda: TrainConfig(method="bogus"), "unknown method 'bogus'; choose one of: continuous, fdm, kernel, mlp, naive"),
    (lambda: TrainConfig(lr_schedule="step"), "unknown lr_schedule 'step'; choose one of: cosine, none"),
    (lambda: OperatorConfig(causal_eps=-0.5), "causal_eps must be >= 0 (0 switches causal weights off), got -0.5"),
    (lambda: OperatorConfig(beta=1.5), "beta must lie in [0, 1], got 1.5 (membrane decay per step, e.g. 0.9)"),
    (lambda: OperatorConfig(branch="mlp"), "the operator branch 'mlp' is now called 'tanh'"),
    (lambda: LJUnits(-1.0, 1.0, 1.0), "LJUnits.sigma_angstrom must be a positive finite number, got -1.0"),
    (lambda: GPRPotential(WATER, lengthscale=[0.5, -1.0, 0.5]), "lengthscale must be positive, got [0.5, -1.0, 0.5]"),
    (lambda: GPRPotential(WATER, noise=0.0),
     "noise must be a positive finite number, got 0.0 (relative energy nugget, e.g. 1e-8)"),
    (lambda: GPRPotential(WATER, descriptor="coulomb"),
     "unknown descriptor 'coulomb'; choose one of: distance, inverse"),
    (lambda: NewtonProblem("p", "harmonic", 1.0, 0.0, 1.0, 2.0),
     "potential must be a core Potential (npsnn_edu.potentials, e.g. DoubleWell()), got str"),
    (lambda: NewtonProblem("p", Harmonic(), 1.0, 0.0, 1.0, 0.0), "the time span must be positive (t_end > 0 in tau)"),
    (lambda: HarmonicFamily(omega_range=(0.0, 1.0)),
     "omega_range must be a pair (lo, hi) of finite numbers with lo <= hi and lo > 0, got (0.0, 1.0)"),
    (lambda: PotentialFamily(pot=Harmonic(), x_lo=(0.0,), x_hi=(1.0, 2.0), v_lo=(0.0,), v_hi=(0.0,)),
     "x_hi needs 1 numbers (N = 1 particles x D = 1), got 2"),
    (lambda: GenerationSettings.sized(0), "frames_per_chain must be >= 1, got 0"),
    (lambda: make_jobs(["m"], ["MF5"], [300], [0], -1.0),
     "duration_fs must be a positive finite number, got -1.0 (e.g. 10000 for 10 ps)"),
    (lambda: make_jobs(["m"], ["MF5"], [-300], [0], 10.0), "temperature_K must be a positive finite number, got -300"),
    (lambda: GPRCalculator(Harmonic()), "GPRCalculator needs a trained npsnn_edu.gpr.GPRPotential"),
    (lambda: Harmonic(k=0.0), "k (spring constant) must be a positive finite number, got 0.0"),
    (lambda: Morse(a=-1.0), "a (inverse width) must be a positive finite number, got -1.0"),
    (lambda: LennardJones(cutoff=None, shift=True), "shift=True needs a cutoff: give cutoff=... or set shift=False"),
    (lambda: LennardJones(box=[5.0, -5.0, 5.0]), "box must be D positive box lengths (orthorhombic), got [5.0, -5.0"),
    (lambda: LennardJones(cutoff=None, shift=False, box=[9.0, 9.0, 9.0]), "a periodic box needs a cutoff"),
    (lambda: LennardJones(cutoff=3.0, box=[5.0, 5.0, 5.0]), "cutoff 3.0 exceeds half the shortest box length"),
    (lambda: LangevinBAOAB(0.0, temperature=1.0),
     "time step dt must be a positive finite number, got 0.0 (e.g. dt=0.005 in reduced LJ units)"),
    (lambda: PotentialCalculator(3.0), "potential must have an energy_and_forces(positions) method"),
    (lambda: PotentialCalculator(Harmonic(), dim=4), "dim must be 1, 2 or 3, got 4"),
    (lambda: AseCalculatorPotential(bulk("Cu")), "the Atoms have no calculator: set atoms.calc = ... or pass"),
    (lambda: PairDescriptor(1), "a pair descriptor needs at least 2 atoms"),
    (lambda: PairDescriptor(3, "coulomb"), "unknown descriptor 'coulomb'; choose one of: distance, inverse"),
])
def test_messages_are_the_ones_users_saw_before(build, message):
    with pytest.raises(NpsnnError) as info:
        build()
    assert message in str(info.value)


def test_validate_stores_the_converted_values():
    cfg = OperatorConfig(branch="SNN", hidden=16.0, seed=np.int64(3))
    assert cfg.branch == "spiking" and cfg.hidden == 16 and isinstance(cfg.hidden, int) and cfg.seed == 3
    cfg.hidden = 0  # a field changed after construction is checked again by validate()
    with pytest.raises(InvalidParameterError, match="hidden must be an integer >= 1"):
        cfg.validate()


def test_gpr_fit_checks_hyperparameters_assigned_directly():
    rng = np.random.default_rng(0)
    x = np.array([[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0]]) + 0.05 * rng.standard_normal((6, 3, 3))
    model = GPRPotential(WATER, prior="MF2", lengthscale=0.5)
    model.fit(x, rng.standard_normal(6))  # fine
    model.noise = -1e-8
    with pytest.raises(InvalidParameterError, match="noise must be a positive finite number, got -1e-08"):
        model.fit(x, rng.standard_normal(6))


def test_gpr_model_checks_hyperparameters_set_later_and_keeps_the_shape_check():
    model = GPRPotential(WATER)
    with pytest.raises(InvalidParameterError, match="noise_forces must be a positive finite number"):
        model.set_hyperparameters(0.5, 1e-8, -1.0)
    with pytest.raises(ShapeMismatchError, match="lengthscale must be a scalar or have 3 entries"):
        model.set_hyperparameters([0.5, 0.5], 1e-8)
    model.set_hyperparameters([0.4, 0.5, 0.6], 1e-7)  # noise_forces None keeps the previous value
    assert model.noise == 1e-7 and model.noise_forces == 1e-6
    np.testing.assert_array_equal(model.lengthscale, [0.4, 0.5, 0.6])


def test_gpr_calculator_checks_the_model_is_a_trained_gp():
    with pytest.raises(NotFittedError, match="not fitted yet"):  # the right class, but not trained: fit first
        GPRCalculator(GPRPotential(WATER))
    with pytest.raises(InvalidParameterError, match="with_std must be True or False, got 1"):
        GPRCalculator(_trained_gp(), with_std=1)
    calc = GPRCalculator(_trained_gp(), with_std=np.bool_(True))
    assert calc.with_std is True and calc.model is _trained_gp()


def test_spiking_networks_store_converted_values_and_share_one_beta_range():
    basis = KernelBasis(np.float64(6.0), n_knots=np.int64(6), pad=1.0, device=None)
    assert isinstance(basis.n_knots, int) and basis.size == 8 and basis.device.type in ("cpu", "cuda")
    assert TimeEncoding(2, n_freq=3.0).n_freq == 3 and TimeEncoding(2, n_freq=0).dim == 1
    # the networks take what both configs allow: beta in [0, 1] (TrainConfig (0, 1], OperatorConfig [0, 1])
    SpikingBranch(2, 3, hidden=4, num_steps=2, beta=0.0)
    ClockSNN(X0, 2.0, hidden=4, n_knots=6, pad=1, num_steps=2, beta=1.0)
    with pytest.raises(InvalidParameterError, match=r"beta must lie in \[0, 1\], got 1.5"):
        PointwiseSNN(X0, 2.0, hidden=4, num_steps=2, beta=1.5)
    with pytest.raises(InvalidParameterError, match="recurrent must be True or False"):
        ClockSNN(X0, 2.0, hidden=4, n_knots=6, recurrent="yes")
    with pytest.raises(NpsnnError, match="x0 contains NaN or inf"):
        MLPPINN([[float("nan")]], 2.0)
    assert ClockSNN(X0, 2.0, hidden=4, n_knots=6, pad=1, num_steps=2, recurrent=np.bool_(True)).recurrent is True


def test_a_clock_network_needs_four_knots_even_where_the_config_allows_fewer():
    """TrainConfig.n_knots only needs >= 1 (the methods without knots ignore it); the knot networks need 4."""
    Trainer(config=TrainConfig(method="mlp", hidden=4, n_knots=2, n_colloc=8))  # no knots in an MLP: fine
    for method in ("continuous", "kernel"):
        with pytest.raises(InvalidParameterError, match="n_knots must be an integer >= 4, got 2"):
            Trainer(config=TrainConfig(method=method, hidden=4, n_knots=2, n_colloc=8, num_steps=2))


def test_pair_potentials_check_their_parameters_then_how_they_fit_together():
    lj = LennardJones(cutoff=np.float32(2.5), shift=np.bool_(False), box=(6, 6, 6), skin=1, backend="NumPy")
    assert lj.backend == "numpy" and lj.shift is False and isinstance(lj.cutoff, float) and lj.skin == 1.0
    np.testing.assert_array_equal(lj.box, [6.0, 6.0, 6.0])
    assert Morse(cutoff=None).cutoff is None and Morse(box=None).box is None
    with pytest.raises(InvalidParameterError, match="shift must be True or False, got 1"):
        LennardJones(shift=1)  # was bool(1): a flag is a bool now, as everywhere else in the kit
    # each value passes on its own, the pair does not: the cutoff must fit in half the box
    with pytest.raises(InvalidParameterError, match="exceeds half the shortest box length"):
        Morse(cutoff=3.5, box=[6.0, 6.0])


def test_integrators_and_run_helpers_convert_and_pass_generators_through():
    gen = np.random.default_rng(5)
    assert LangevinBAOAB(0.1, temperature=1, seed=gen).rng is gen
    assert LangevinBAOAB(0.1, temperature=0, seed=None).temperature == 0.0
    with pytest.raises(InvalidParameterError, match="seed must be an integer, got 'abc'"):
        LangevinBAOAB(0.1, temperature=1.0, seed="abc")
    rec = Recorder(_state(), [2.0], np.int64(4), record_every=3.0)
    assert rec.n_steps == 4 and rec.record_every == 3 and list(rec.frame_steps) == [0, 3, 4]
    assert DivergenceGuard(0.0, 1.0, None).limit == float("inf")


def test_ase_interop_classes_check_shapes_and_say_which_calculator_is_missing():
    assert PotentialCalculator(Harmonic(), dim=np.int64(2)).dim == 2
    with pytest.raises(InvalidParameterError, match="dim must be 1, 2 or 3, got True"):
        PotentialCalculator(Harmonic(), dim=True)
    with pytest.raises(InvalidParameterError, match="calculator must be an ASE calculator"):
        AseCalculatorPotential(_water_atoms(), calculator=Harmonic())
    atoms = _water_atoms(calc=True)
    assert AseCalculatorPotential(atoms).atoms.calc is atoms.calc  # the template's own calculator
    with pytest.raises(ShapeMismatchError, match="n_atoms must be an integer >= 2, got 2.5"):
        PairDescriptor(2.5)
    assert PairDescriptor(np.int64(3), "distance").n_features == 3


# -- the central checker ----------------------------------------------------------------------------------------------
def test_interval_sides():
    assert Interval(0, 1, closed="right").check("b", 1) == 1.0
    with pytest.raises(InvalidParameterError, match=r"b must lie in \(0, 1\], got 0"):
        Interval(0, 1, closed="right").check("b", 0)
    with pytest.raises(InvalidParameterError, match=r"b must lie in \[0, 1\), got 1"):
        Interval(0, 1, closed="left").check("b", 1)
    with pytest.raises(InvalidParameterError, match=r"b must lie in \(0, 1\), got 0"):
        Interval(0, 1, closed="neither").check("b", 0)
    with pytest.raises(UnknownNameError, match="unknown closed 'top'"):
        Interval(0, 1, closed="top")


def test_options_exact_or_normalised():
    assert Options(("fast_sigmoid", "atan")).check("s", "atan") == "atan"
    with pytest.raises(UnknownNameError, match="unknown s 'Atan'; choose one of: atan, fast_sigmoid"):
        Options(("fast_sigmoid", "atan")).check("s", "Atan")
    assert Options(("fast_sigmoid",), normalise=True).check("s", "Fast-Sigmoid") == "fast_sigmoid"
    with pytest.raises(UnknownNameError, match="unknown surrogate kind 3"):
        Options(("atan",), kind="surrogate kind").check("s", 3)


def test_boolean_integer_instance_rule():
    assert Boolean().check("flag", np.bool_(True)) is True
    for bad in (1, "True", None):
        with pytest.raises(InvalidParameterError, match="flag must be True or False"):
            Boolean().check("flag", bad)
    assert Integer().check("seed", np.int64(7)) == 7
    for bad in (True, 1.5, "x", float("inf")):
        with pytest.raises(InvalidParameterError, match="seed must be an integer"):
            Integer().check("seed", bad)
    with pytest.raises(InvalidParameterError, match="name must be a str, got int"):
        InstanceOf(str).check("name", 3)

    def even(name, value):
        if value % 2:
            raise InvalidParameterError(f"{name} must be even, got {value}")
        return value // 2

    assert Rule(even, invalid=3).check("k", 4) == 2
    with pytest.raises(InvalidParameterError, match="k must be even"):
        Rule(even, invalid=3).check("k", Rule(even, invalid=3).invalid)


def test_check_param_none_alternatives_and_message_override():
    assert check_param("lr", None, (None, Positive())) is None
    with pytest.raises(InvalidParameterError, match="lr must be a positive finite number, got None"):
        check_param("lr", None, Positive())
    # several alternatives: the first that accepts wins, else the first one's error
    either = (AtLeast(10, integer=True), Options(("auto",)))
    assert check_param("n", "auto", either) == "auto" and check_param("n", 12, either) == 12
    with pytest.raises(InvalidParameterError, match="n must be an integer >= 10, got 3"):
        check_param("n", 3, either)
    with pytest.raises(InvalidParameterError, match="^eps must be >= 0 here, got -1 .hint.$"):
        check_param("eps", -1, AtLeast(0, hint="hint", message="{name} must be >= 0 here, got {value} ({hint})"))


def test_validate_params_checks_in_declaration_order_and_refuses_undeclared_names():
    table = {"a": Positive(), "b": AtLeast(0, integer=True)}
    assert validate_params(table, {"b": 2.0, "a": 1}) == {"a": 1.0, "b": 2}
    with pytest.raises(InvalidParameterError, match="^x.a must be a positive"):
        validate_params(table, {"a": -1, "b": -1}, prefix="x.")
    with pytest.raises(TypeError, match=r"without a declared constraint: \['c'\]"):
        validate_params(table, {"a": 1, "c": 3})
