"""Synaptic-operation counts and a rough energy estimate (compute only; memory traffic ignored).

Per-operation constants: 45 nm CMOS at 0.9 V, 32-bit float, from M. Horowitz, "Computing's energy problem
(and what we can do about it)", ISSCC 2014: float add 0.9 pJ, float multiply 3.7 pJ.  A binary spike into
a synapse costs one accumulate (AC = 0.9 pJ); a real-valued input costs a multiply-accumulate
(MAC = 3.7 + 0.9 = 4.6 pJ).  This is the convention of the SNN-energy literature; it ignores memory access
(often the dominant cost), neuron updates and the readout kernel's exponentials, so it is an order-of-
magnitude comparison, not a measurement.
"""
from __future__ import annotations

from typing import Any

E_AC_PJ = 0.9
E_MAC_PJ = 4.6


def synaptic_energy(model: Any, n_queries: int) -> dict[str, float]:
    """AC/MAC counts and energy (pJ) for evaluating ``model`` at ``n_queries`` times.

    Uses the spike record of the model's last forward pass (``model.last_spikes``) for the spiking layers.
    PointwiseSNN: per query fc1 once (MAC, the current is constant over the internal steps), fc2 by spikes (AC),
    readout by layer-2 spikes (AC) and membranes (MAC) at every internal step.
    ClockSNN: one run over the K clock steps (fc1 MAC per step, fc2 and the readout's spike part AC, the
    readout's membrane part MAC), then K MACs per output per query for the kernel readout.
    MLP: every weight is a MAC per query.
    """
    from .models import ClockSNN, MLPPINN, PointwiseSNN

    n_ac = n_mac = 0.0
    if isinstance(model, MLPPINN):
        n_mac = n_queries * sum(m.in_features * m.out_features for m in model.net if hasattr(m, "in_features"))
    elif isinstance(model, (PointwiseSNN, ClockSNN)):
        s1, s2 = model.last_spikes if model.last_spikes else (None, None)
        hid, n_out = model.fc1.out_features, model.n_out
        if s1 is None:
            raise ValueError("run the model forward once before estimating its synaptic energy")
        steps = s1.shape[0]
        if isinstance(model, PointwiseSNN):
            batch = s1.shape[1]
            per_batch = n_queries / batch
            n_mac = per_batch * (batch * model.fc1.in_features * hid + steps * batch * hid * n_out)
            n_ac = per_batch * (float(s1.sum()) * hid + float(s2.sum()) * n_out)
        else:
            n_knots = model.knots.shape[0]
            n_mac = (n_knots * model.fc1.in_features * hid + s1.shape[0] * s1.shape[1] * hid * n_out
                     + n_queries * n_knots * n_out)
            n_ac = float(s1.sum()) * hid + float(s2.sum()) * n_out
    else:
        raise TypeError(f"no operation count for {type(model).__name__}")
    return {"ac": n_ac, "mac": n_mac, "total_pJ": n_ac * E_AC_PJ + n_mac * E_MAC_PJ}
