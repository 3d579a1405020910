"""Operation counts and an energy estimate per trajectory, for every design on equal terms.

What is counted (compute only; memory traffic, often the dominant cost on real hardware, is ignored, so
read the result as an order of magnitude, not a measurement):

* ``ac``       synaptic accumulates: a binary spike arriving at a synapse adds its weight (one add);
* ``mac``      multiply-accumulates: every real-valued input into a dense weight (the encoded time into fc1,
               the graded membrane readout, a tanh layer, the kernel readout sum y_k G(t - t_k));
* ``neuron``   LIF neuron updates U <- beta U + I - S thr, then a threshold compare (1 multiply + 3 adds);
* ``nonlinear`` evaluations of exp / sin / cos / tanh (Fourier features, Gaussian kernel, tanh units).

Biases are folded into the counts of their layer (one add per output, ignored: < 1/fan-in of the MACs).

Constants (pJ per operation), each with its source:

* ``fp32`` (default): M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014,
  45 nm, 0.9 V, Table/Fig. 1.1.9: 32-bit float add 0.9 pJ, float multiply 3.7 pJ -> AC = 0.9 pJ,
  MAC = 3.7 + 0.9 = 4.6 pJ.
* ``fpsnn``: the constants of FPSNN (the spiking PINN of "Physics-informed Spiking Neural Networks for
  Continuous-Time Dynamic Systems", Neurocomputing 2025, code TsizhiYang/FPSNN): E_MAC 3.1 pJ, E_AC 0.1 pJ,
  i.e. Horowitz's 32-bit INTEGER multiply (3.1 pJ) and add (0.1 pJ), the multiply standing in for a whole MAC.
* neuron update = 1 multiply + 3 adds of the same set (our assumption, from the constants above: leak, input,
  reset and compare).
* nonlinear function = 10 MAC-equivalents (our assumption: range reduction plus a degree-~8 polynomial; no
  published per-op figure was verified for this kit), so an exp costs 46 pJ in ``fp32``.
"""
from __future__ import annotations

from typing import Any

import torch

from ..errors import InvalidParameterError, InvalidStateError
from ..registry import Registry
from ..validation import at_least, positive
from .models import MLPPINN, ClockSNN, KernelCoefficients, PointwiseSNN, SpikingBranch, TanhBranch

E_AC_PJ = 0.9  # Horowitz 2014, 45 nm, fp32 add
E_MAC_PJ = 4.6  # Horowitz 2014, 45 nm, fp32 multiply 3.7 + add 0.9
NONLINEAR_MACS = 10.0  # assumption: one exp / tanh / sin costs about 10 MACs

CONSTANTS: Registry[dict[str, float]] = Registry("energy constant set")
CONSTANTS.register("fp32", {"ac": E_AC_PJ, "mac": E_MAC_PJ, "neuron": 3.7 + 3 * 0.9,
                            "nonlinear": NONLINEAR_MACS * E_MAC_PJ}, aliases=("horowitz",))
CONSTANTS.register("fpsnn", {"ac": 0.1, "mac": 3.1, "neuron": 3.1 + 3 * 0.1, "nonlinear": NONLINEAR_MACS * 3.1},
                   aliases=("int32",))

CATEGORIES = ("ac", "mac", "neuron", "nonlinear")


def priced_counts(counts: dict[str, float], constants: str = "fp32") -> dict[str, float]:
    """The counts of :data:`CATEGORIES` in ``counts`` (missing ones: 0; other keys ignored) and their energy:
    ``<category>_pJ``, ``total_pJ`` and ``total_uJ`` with the constant set ``constants`` (:data:`CONSTANTS`).

    Parameters
    ----------
    counts : dict of str to float
        Counts per category (``ac``, ``mac``, ``neuron``, ``nonlinear``; e.g. a record of :func:`operation_counts`).
    constants : str, default "fp32"
        Energy table (:data:`CONSTANTS`: ``"fp32"`` or ``"fpsnn"``).

    Returns
    -------
    dict of str to float

    Raises
    ------
    UnknownNameError
        An unknown table.
    """
    table = CONSTANTS.get(constants)
    out = {k: float(counts.get(k, 0.0)) for k in CATEGORIES}
    for k in CATEGORIES:
        out[f"{k}_pJ"] = out[k] * table[k]
    out["total_pJ"] = sum(out[f"{k}_pJ"] for k in CATEGORIES)
    out["total_uJ"] = out["total_pJ"] / 1e6
    return out


def kernel_readout_counts(n_knots: int, n_out: int, n_queries: int) -> dict[str, float]:
    """The Gaussian readout x(t) = x0 + sum_k y_k G(t - t_k) at ``n_queries`` times: K exps and K n_out MACs each.

    Parameters
    ----------
    n_knots : int
        Basis functions K.
    n_out : int
        Output coordinates.
    n_queries : int
        Query times.

    Returns
    -------
    dict of str to float
    """
    return {"nonlinear": float(n_queries * n_knots), "mac": float(n_queries * n_knots * n_out)}


def _mlp_counts(model: Any, n_evals: int) -> dict[str, float]:
    dense = [m for m in model.net if hasattr(m, "in_features")]
    macs = sum(m.in_features * m.out_features for m in dense)
    tanh = sum(m.out_features for m in dense[:-1])
    return {"mac": float(n_evals * macs), "nonlinear": float(n_evals * (tanh + 2 * model.encoding.n_freq))}


def _add(*parts: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for p in parts:
        for k, v in p.items():
            out[k] = out.get(k, 0.0) + v
    return out


def operation_counts(model: Any, n_queries: int, *, p: Any = None, derivatives: int = 0, constants: str = "fp32",
                     at_knots: "int | None" = None) -> dict[str, float]:
    """Operations and energy (pJ, uJ) to produce ONE trajectory of ``model`` at ``n_queries`` times: the one
    operation count of the kit (every design on equal terms, priced by :func:`priced_counts`).

    * :class:`ClockSNN`: the spiking network at its K knots (fc1 MACs and 2 n_freq Fourier features per knot;
      every LIF update of both layers; fc2 and the readout's spike part as ACs per recorded spike times fan-out;
      the readout's membrane part as MACs at every LIF step), then the kernel readout at the queries.
    * :class:`PointwiseSNN`: the same per query (scaled from the last forward pass's batch).
    * :class:`KernelCoefficients`: the kernel readout only (the y_k are stored).
    * :class:`MLPPINN`: every weight a MAC and every tanh / feature a nonlinear evaluation, per query; with
      ``at_knots=K`` evaluated at K knots only (give the ClockSNN's K = knots + padding) plus the same
      Gaussian kernel readout: the fair peer of the ClockSNN.
    * a physics-informed operator (:class:`~npsnn_edu.spiking.operator.PhysicsOperator`; ``p``, the problems
      ``(B, n_params)`` its spike counts are measured on, is required): the branch once per trajectory plus the
      kernel readout at the queries for ``derivatives`` + 1 orders.  Spiking branch: fc1 once (the input current
      is constant over the steps: n_in * H MACs); per step fc2 costs one AC per layer-1 spike per target; layer-2
      spikes into the readout cost spikes2 * n_coef ACs; the membrane part of the readout is applied once to the
      step-mean membrane (H * n_coef MACs; absent for spikes-only); 2 H LIF updates per step.  tanh branch:
      every weight a MAC, 2 H tanh evaluations (nonlinear).  Kernel readout: per query K exponentials and
      K * n_out MACs per derivative order.  The breakdown is returned too: ``branch_mac``, ``branch_ac``,
      ``neuron_updates`` (LIF updates or tanh units), ``kernel_exp``, ``kernel_mac``.

    Spike counts come from the model's last forward pass (``model.last_spikes``; an operator is run on ``p``).

    Parameters
    ----------
    model : torch.nn.Module
        ClockSNN, PointwiseSNN, KernelCoefficients, MLPPINN (after a forward pass for the spiking ones) or a
        PhysicsOperator.
    n_queries : int
        Query times of the trajectory.
    p : array of shape (batch, n_params) or None, default None
        Operators only (required there): the problems the spike counts are measured on.
    derivatives : int, default 0
        Operators only: derivative orders read out besides x (each costs the kernel MACs again).
    constants : str, default "fp32"
        Energy table (:data:`CONSTANTS`: ``"fp32"`` or ``"fpsnn"``).
    at_knots : int or None, default None
        MLP only: evaluate at this many knots plus the kernel readout.

    Returns
    -------
    dict of str to float
        ``ac``, ``mac``, ``neuron``, ``nonlinear``, their ``*_pJ``, ``total_pJ``, ``total_uJ`` (and an operator's
        breakdown).

    Raises
    ------
    InvalidParameterError
        A model of another kind, or an operator without ``p``.
    InvalidStateError
        A spiking model that has not run forward yet.
    """
    n_queries = positive("n_queries", n_queries, integer=True)
    branch = getattr(model, "branch", None)
    if isinstance(branch, (SpikingBranch, TanhBranch)):
        return _operator_counts(model, n_queries, p, derivatives, constants)
    if isinstance(model, MLPPINN):
        if at_knots is not None:
            n_knots = positive("at_knots", at_knots, integer=True)
            counts = _add(_mlp_counts(model, n_knots), kernel_readout_counts(n_knots, model.n_out, n_queries))
        else:
            counts = _mlp_counts(model, n_queries)
        return priced_counts(counts, constants)
    if isinstance(model, KernelCoefficients):
        return priced_counts(kernel_readout_counts(model.knots.shape[0], model.n_out, n_queries), constants)
    if not isinstance(model, (PointwiseSNN, ClockSNN)):
        raise InvalidParameterError(f"no operation count for {type(model).__name__}; use a ClockSNN, PointwiseSNN, "
                                    "KernelCoefficients, MLPPINN or a PhysicsOperator")
    if not model.last_spikes:
        raise InvalidStateError("run the model forward once before counting its operations (the spike counts come "
                                "from model.last_spikes)")
    s1, s2 = model.last_spikes
    hid, n_out, n_in = model.fc1.out_features, model.n_out, model.fc1.in_features
    n_lif_evals = s1.shape[0] * s1.shape[1]  # (LIF steps x batch) per layer in the recorded pass
    recurrent = isinstance(model, ClockSNN) and model.recurrent
    n_inputs = s1.shape[0] if recurrent else s1.shape[1]  # fc1 evaluations (input current held over LIF steps)
    net = {"mac": float(n_inputs * n_in * hid + n_lif_evals * hid * n_out),
           "ac": float(s1.sum()) * hid + float(s2.sum()) * n_out,
           "neuron": float(2 * n_lif_evals * hid),
           "nonlinear": float(n_inputs * 2 * model.encoding.n_freq)}
    if isinstance(model, PointwiseSNN):
        scale = n_queries / s1.shape[1]
        return priced_counts({k: v * scale for k, v in net.items()}, constants)
    return priced_counts(_add(net, kernel_readout_counts(model.knots.shape[0], n_out, n_queries)), constants)


def _operator_counts(model: Any, n_queries: int, p: Any, derivatives: int, constants: str) -> dict[str, float]:
    """Per trajectory of a physics-informed operator: its branch once plus the kernel readout (see
    :func:`operation_counts`)."""
    if p is None:
        raise InvalidParameterError("the operation count of an operator needs p, the problems its spike counts are "
                                    "measured on: operation_counts(model, n_queries, p=model.family.sample(64))")
    derivatives = at_least("derivatives", derivatives, 0, integer=True)
    p = model.family.check(p)
    br = model.branch
    n_coef = model.basis.size * model.family.n_out
    with torch.no_grad():
        model.coefficients(p)
    spiking = isinstance(br, SpikingBranch)
    if spiking:
        h, n_in = br.fc1.out_features, br.fc1.in_features
        mac = n_in * h + (0 if br.spikes_only else h * n_coef)
        ac = br.last_counts["spikes1"] * h + br.last_counts["spikes2"] * n_coef
        updates = 2 * h * br.num_steps
    else:
        lins = [m for m in br.net if isinstance(m, torch.nn.Linear)]
        mac = sum(m.in_features * m.out_features for m in lins)
        ac = 0.0
        updates = 2 * lins[0].out_features
    breakdown = {"branch_mac": float(mac), "branch_ac": float(ac), "neuron_updates": float(updates),
                 "kernel_exp": float(n_queries * model.basis.size),
                 "kernel_mac": float(n_queries * model.basis.size * model.family.n_out * (1 + derivatives))}
    return {**breakdown, **priced_counts(operator_categories(breakdown, spiking), constants)}


def operator_categories(breakdown: dict[str, float], spiking: bool) -> dict[str, float]:
    """The categories of :data:`CATEGORIES` from an operator's breakdown (``branch_mac``, ``branch_ac``,
    ``neuron_updates``, ``kernel_exp``, ``kernel_mac``; the records the operator benchmark ships): LIF updates of a
    spiking branch count as ``neuron``, the tanh units of a tanh branch as ``nonlinear``.

    Parameters
    ----------
    breakdown : dict of str to float
        An operator's ``branch_mac``, ``branch_ac``, ``neuron_updates``, ``kernel_exp``, ``kernel_mac``.
    spiking : bool
        The branch is spiking (else tanh).

    Returns
    -------
    dict of str to float
        ``ac``, ``mac``, ``neuron``, ``nonlinear`` (price them with :func:`priced_counts`).
    """
    updates = float(breakdown["neuron_updates"])
    return {"ac": float(breakdown["branch_ac"]), "mac": float(breakdown["branch_mac"]) + float(breakdown["kernel_mac"]),
            "neuron": updates if spiking else 0.0,
            "nonlinear": float(breakdown["kernel_exp"]) + (0.0 if spiking else updates)}
