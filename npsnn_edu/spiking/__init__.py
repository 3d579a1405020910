"""Chapter 4: a spiking physics-informed network (NP-SNN, snnTorch) that solves m x'' = F(x).

* :mod:`.problems`    harmonic oscillator, Morse diatomic, LJ trimer, with independent references
* :mod:`.models`      PointwiseSNN (the obvious design), ClockSNN (honest smooth readout), MLPPINN baseline
* :mod:`.derivatives` autograd / finite differences / exact kernel derivatives, and a consistency check
* :mod:`.training`    loss terms, stepwise Trainer, :func:`fit`, forward-output evaluation, checkpoints
* :mod:`.energy`      synaptic-operation counts and an energy estimate (Horowitz 2014 constants)
* :mod:`.compare`     comparison table rows, time-grid dependence, Verlet dt scan (notebook helpers)
"""
from .derivatives import DERIVATIVE_MODES, derivative_consistency, forward_fd, time_derivatives
from .energy import E_AC_PJ, E_MAC_PJ, synaptic_energy
from .models import ClockSNN, MLPPINN, PointwiseSNN, count_parameters
from .problems import NewtonProblem, available_problems, make_problem
from .training import (METHODS, FitResult, History, TrainConfig, Trainer, build_model, eval_times, evaluate, fit,
                       physics_loss, spike_rates, training_times)

__all__ = ["DERIVATIVE_MODES", "E_AC_PJ", "E_MAC_PJ", "METHODS", "ClockSNN", "FitResult", "History", "MLPPINN",
           "NewtonProblem", "PointwiseSNN", "TrainConfig", "Trainer", "available_problems", "build_model",
           "count_parameters", "derivative_consistency", "eval_times", "evaluate", "fit", "forward_fd",
           "make_problem", "physics_loss", "spike_rates", "synaptic_energy", "time_derivatives", "training_times"]
