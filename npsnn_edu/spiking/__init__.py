"""Chapter 4: a spiking physics-informed network (NP-SNN, snnTorch) that solves m x'' = F(x).

* :mod:`.basis`       the Gaussian kernel basis, the state/trajectory helpers on it, the training / evaluation grids
* :mod:`.problems`    harmonic oscillator, Morse diatomic, LJ trimer (2-D), double well, and any core potential
                      (``NewtonProblem.from_potential``), with independent references
* :mod:`.check`       the forward-output check against a fine-step velocity Verlet (warns: ForwardCheckWarning)
* :mod:`.systems`     four unshipped test systems, a solve_ivp reference, time-marching windows (notebook 04c)
* :mod:`.models`      PointwiseSNN (the obvious design), ClockSNN (honest smooth readout), KernelCoefficients
                      (the same basis with free coefficients), MLPPINN baseline
* :mod:`.derivatives` autograd / finite differences / exact kernel derivatives, and a consistency check
* :mod:`.training`    loss terms, stepwise Trainer, :func:`fit`, forward-output evaluation, checkpoints
* :mod:`.energy`      operation counts (AC, MAC, LIF updates, exps) and an energy estimate per trajectory
* :mod:`.gauss_newton` the one damped Gauss-Newton / Levenberg-Marquardt step of the least-squares solvers
* :mod:`.compare`     honest comparison rows, basis optimum, seed spreads, Verlet dt scan, hypothesis H
"""
from .basis import eval_times, gaussian_kernel, make_knots, training_times
from .check import DEFAULT_TOL, ForwardCheckWarning
from .derivatives import DERIVATIVE_MODES, derivative_consistency, forward_fd, time_derivatives
from .energy import E_AC_PJ, E_MAC_PJ, operation_counts, priced_counts
from .models import MLPPINN, ClockSNN, KernelCoefficients, PointwiseSNN, count_parameters
from .problems import PROBLEMS, NewtonProblem, available_problems, get_problem
from .training import (
                       METHODS,
                       FitResult,
                       History,
                       TrainConfig,
                       Trainer,
                       build_model,
                       fit,
                       physics_loss,
                       spike_rates,
                       trajectory_errors,
)

__all__ = ["DEFAULT_TOL", "DERIVATIVE_MODES", "ForwardCheckWarning", "E_AC_PJ", "E_MAC_PJ", "METHODS", "PROBLEMS",
           "ClockSNN", "FitResult", "History",
           "KernelCoefficients", "MLPPINN", "NewtonProblem", "PointwiseSNN", "TrainConfig", "Trainer",
           "available_problems", "build_model", "count_parameters", "derivative_consistency", "eval_times",
           "fit", "forward_fd", "gaussian_kernel", "get_problem", "make_knots",
           "operation_counts", "physics_loss", "priced_counts", "spike_rates", "time_derivatives",
           "training_times", "trajectory_errors"]
