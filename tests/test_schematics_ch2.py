"""Chapter 2 schematics: each function returns a labelled matplotlib Figure, and what it draws is right (the
eigenvalues sit on the unit circle below h = 2 and leave it beyond, the accuracy region ends where the bounded error
meets the tolerance, BAOAB's five sub-steps are in order)."""
import numpy as np
import pytest
from matplotlib.figure import Figure

from npsnn_edu.errors import InvalidParameterError
from npsnn_edu.viz import schematics_ch2 as sc


def _labelled(fig):
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_title()
    return ax


def test_verlet_eigenvalues_on_circle_below_two_and_outside_beyond():
    for h in (0.3, 1.0, 1.9):
        lam = sc.verlet_eigenvalues(h)
        assert np.allclose(np.abs(lam), 1.0, atol=1e-12)
        # independent reference: cos(theta) = 1 - h^2/2 (eigenvalues e^{+-i theta})
        assert lam[0].real == pytest.approx(1 - h * h / 2, abs=1e-12)
    lam = sc.verlet_eigenvalues(2.3)
    t = 2 - 2.3**2
    assert np.max(np.abs(lam)) == pytest.approx(abs(t) / 2 + np.sqrt(t * t / 4 - 1), rel=1e-12) and np.max(
        np.abs(lam)) > 1
    with pytest.raises(InvalidParameterError):
        sc.verlet_eigenvalues(-1.0)


def test_eigenvalue_paths_figure():
    fig = sc.eigenvalue_paths()
    ax = _labelled(fig)
    assert ax.get_xlabel() and ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "h = 2.3: |lambda| = 2.95" in labels and "h = 1: |lambda| = 1.00" in labels
    # every drawn eigenvalue lies inside the axis ranges (nothing cut off)
    x0, x1 = ax.get_xlim()
    for line in ax.get_lines():
        x = np.asarray(line.get_xdata(), dtype=float)
        assert x.min() >= x0 - 1e-9 and x.max() <= x1 + 1e-9, line.get_label()
    with pytest.raises(InvalidParameterError):
        sc.eigenvalue_paths(marked=())


def test_stability_vs_accuracy_regions():
    fig = sc.stability_vs_accuracy(0.1)
    ax = _labelled(fig)
    assert "dt" in ax.get_xlabel()
    spans = [p for p in ax.patches]
    # the green (accurate) region ends where h^2/4 = tolerance: h = 2 sqrt(0.1)
    ends = sorted({round(float(p.get_x() + p.get_width()), 6) for p in spans})
    assert round(2 * np.sqrt(0.1), 6) in ends and 2.0 in ends
    for bad in (0.0, 1.5):
        with pytest.raises(InvalidParameterError):
            sc.stability_vs_accuracy(bad)


def test_baoab_splitting_order():
    assert "".join(s[0] for s in sc.BAOAB_STEPS) == "BAOAB"
    # the durations add up to one step: half kicks do not advance time, half drifts add to dt
    assert sum(d for letter, _, d in sc.BAOAB_STEPS if letter == "A") == pytest.approx(1.0)
    fig = sc.baoab_splitting()
    ax = _labelled(fig)
    letters = [t.get_text() for t in ax.texts if t.get_text() in "BAO" and t.get_text()]
    assert letters == list("BAOAB")


def test_inline_png_is_a_no_op_outside_ipython():
    # in a kernel it registers IPython's PNG formatter (a bare Figure would show as text only); here: no shell
    assert sc.enable_inline_png() is False
