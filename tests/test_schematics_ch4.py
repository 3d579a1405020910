"""Chapter 4 schematics: each function returns a Figure that renders, and what it draws follows the kit's rules."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from npsnn_edu.errors import InvalidParameterError
from npsnn_edu.viz import schematics_ch4 as sch

FIGURES = ("lif_neuron", "surrogate_pitfall", "clock_network", "operator_branch_trunk", "reservoir_readout")


def _texts(fig) -> str:
    out = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    return " ".join(out)


@pytest.mark.parametrize("name", FIGURES)
def test_figure_renders_with_a_title_and_fits_a_notebook(name):
    fig = getattr(sch, name)()
    assert type(fig).__name__ == "Figure"
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue()[:4] == b"\x89PNG"
    width, height = fig.get_size_inches()
    assert width * fig.dpi <= 1100 and height * fig.dpi <= 500  # fits a 1366 px wide notebook column
    assert any(ax.get_title() for ax in fig.axes)


def test_lif_trace_is_snntorch_leaky_with_reset_by_subtraction():
    import snntorch as snn

    lif = snn.Leaky(beta=0.9, threshold=1.0)
    mem, us, ss = torch.zeros(1), [], []
    for _ in range(40):
        spk, mem = lif(torch.tensor([0.3]), mem)
        us.append(float(mem))
        ss.append(float(spk))
    u, s = sch.lif_trace(0.3, 40, beta=0.9)
    np.testing.assert_allclose(u, us, atol=1e-6)
    np.testing.assert_array_equal(s, ss)
    assert s.sum() >= 5  # the figure shows several firing cycles
    with pytest.raises(InvalidParameterError, match="beta"):
        sch.lif_trace(0.3, 10, beta=1.2)


def test_atan_surrogate_matches_snntorch_backward():
    from snntorch import surrogate

    u = torch.linspace(-2, 2, 81, requires_grad=True)
    (g,) = torch.autograd.grad(surrogate.atan(alpha=2.0)(u).sum(), u)
    np.testing.assert_allclose(sch.atan_surrogate(u.detach().numpy(), 2.0), g.numpy(), rtol=1e-5)
    assert sch.atan_surrogate(np.array([0.0]), 2.0)[0] == pytest.approx(1.0)  # peak 1 at alpha = 2


def test_lif_figure_names_the_four_parts_of_the_update():
    text = _texts(sch.lif_neuron()).lower()
    for word in ("integrate", "leak", "fire", "reset", "threshold"):
        assert word in text


def test_pitfall_figure_shows_a_flat_staircase_and_a_smooth_surrogate():
    fig = sch.surrogate_pitfall()
    left, right = fig.axes[:2]
    stairs = [ln for ln in left.get_lines() if "staircase" in ln.get_label()][0]
    t, x = stairs.get_xdata(), stairs.get_ydata()
    fd = np.diff(x) / np.diff(t)
    assert np.mean(fd == 0) > 0.9  # the forward output is flat almost everywhere
    surr = [ln for ln in right.get_lines() if "surrogate" in ln.get_label()][0]
    assert np.all(surr.get_ydata() > 0)  # while the surrogate slope is positive everywhere
    assert "autograd" in _texts(fig)


def test_clock_figure_sums_the_kit_gaussians():
    from npsnn_edu.spiking.basis import make_knots

    fig = sch.clock_network(n_knots=8)
    top, bottom = fig.axes[:2]
    total = [ln for ln in bottom.get_lines() if ln.get_label().startswith("x(t)")][0]
    bumps = [ln for ln in bottom.get_lines() if ln.get_label().startswith("_") and len(ln.get_xdata()) == 600]
    assert len(bumps) == 8
    np.testing.assert_allclose(sum(ln.get_ydata() for ln in bumps), total.get_ydata(), atol=1e-12)
    knots, _ = make_knots(2 * np.pi, 8, 1.0, pad=0)
    marks = [ln for ln in bottom.get_lines() if ln.get_label() == "knots t_k"][0]
    np.testing.assert_allclose(marks.get_xdata(), knots)
    assert "$y_7$" in _texts(fig)
    with pytest.raises(InvalidParameterError, match="n_knots"):
        sch.clock_network(n_knots=2)


def test_operator_figures_name_branch_trunk_and_solved_readout():
    assert "branch" in _texts(sch.operator_branch_trunk()) and "trunk" in _texts(sch.operator_branch_trunk())
    text = _texts(sch.reservoir_readout())
    assert "least-squares" in text and "random weights" in text and "surrogate" in text
