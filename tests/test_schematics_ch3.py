"""Chapter-3 schematics: the toy GP behind Figures 3.1-3.2 against scikit-learn and closed forms, the crash
bound of Figure 3.3 against scipy's binomial test, and each figure's drawn content."""
import numpy as np
import pytest

from npsnn_edu.errors import InvalidParameterError
from npsnn_edu.gpr.experiments import crash_interval
from npsnn_edu.viz import schematics_ch3 as sch


def test_gp_1d_matches_sklearn_with_a_constant_prior():
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF

    r, e = sch.toy_bond_data()
    x = np.linspace(0.6, 2.0, 37)
    m, l, nug = 4.5, 0.12, 1e-6
    g = sch.gp_1d(r, e, x, l, prior_mean=m, nugget=nug)
    sk = GaussianProcessRegressor(RBF(l), alpha=nug, optimizer=None, normalize_y=False).fit(r[:, None], e - m)
    mu, sd = sk.predict(x[:, None], return_std=True)
    assert np.allclose(g["mean"], mu + m, atol=1e-6) and np.allclose(g["std"], sd, atol=1e-5)


def test_gp_1d_prior_weight_closed_forms():
    # one training point: w(x) = 1 - k(x, x0) / (1 + nugget)
    x = np.array([0.0, 0.5, 1.0, 2.0, 10.0])
    g = sch.gp_1d([0.0], [3.0], x, 1.0, prior_mean=-1.0, nugget=0.01)
    assert np.allclose(g["w"], 1 - np.exp(-x**2 / 2) / 1.01)
    # the mean is exactly w m + (1 - w) y for one point; far away it is the prior mean
    assert np.allclose(g["mean"], g["w"] * -1.0 + (1 - g["w"]) * 3.0) and np.isclose(g["mean"][-1], -1.0)
    # a constant prior enters linearly: mean(m) = mean(0) + w m
    r, e = sch.toy_bond_data()
    a, b = (sch.gp_1d(r, e, x + 1.0, 0.12, prior_mean=p) for p in (0.0, 2.0))
    assert np.allclose(b["mean"], a["mean"] + 2.0 * a["w"])


def test_figure_curves_show_what_the_captions_say():
    r, e = sch.toy_bond_data()
    near, far = np.array([r.mean()]), np.array([2.2])
    low, high = e.mean(), sch.TOY_BOND["D_eV"]
    g_lo = sch.gp_1d(r, e, np.r_[near, far], 0.12, prior_mean=low)
    g_hi = sch.gp_1d(r, e, np.r_[near, far], 0.12, prior_mean=high)
    assert abs(g_lo["mean"][0] - g_hi["mean"][0]) < 0.01  # near the data the two GPs coincide
    assert np.isclose(g_lo["mean"][1], low, atol=1e-3) and np.isclose(g_hi["mean"][1], high, atol=1e-3)
    long_w = sch.gp_1d(r, e, [0.925, 1.6], 0.12)["w"]
    short_w = sch.gp_1d(r, e, [0.925, 1.6], 0.015)["w"]
    assert long_w[0] < 0.01 and short_w[0] > 0.4 and long_w[1] > 0.9 and short_w[1] > 0.99


def test_zero_crash_bound_is_clopper_pearson():
    for n in (1, 8, 30, 72):
        assert np.isclose(sch.zero_crash_upper_bound(n), crash_interval(0, n)[1], atol=1e-9)
    assert np.isclose(sch.zero_crash_upper_bound(8), 0.369, atol=1e-3)
    with pytest.raises(InvalidParameterError, match="positive whole number"):
        sch.zero_crash_upper_bound(0)
    with pytest.raises(InvalidParameterError, match="between 0 and 1"):
        sch.zero_crash_upper_bound(8, 95)


def test_bad_input_is_refused():
    with pytest.raises(InvalidParameterError, match="same non-zero length"):
        sch.gp_1d([0.0, 1.0], [1.0], [0.5], 1.0)
    with pytest.raises(InvalidParameterError, match="lengthscale"):
        sch.gp_1d([0.0], [1.0], [0.5], -1.0)
    with pytest.raises(InvalidParameterError, match="at least 2"):
        sch.toy_bond_data(1)


@pytest.mark.parametrize("fn,n_lines", [(sch.gp_two_priors, 5), (sch.prior_weight_schematic, 3),
                                        (sch.zero_crash_bound, 4), (sch.prior_shapes, 6)])
def test_each_schematic_is_a_labelled_figure(fn, n_lines):
    from matplotlib.figure import Figure

    fig = fn()
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    assert len(ax.get_lines()) >= n_lines
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(labels) == len(set(labels)) >= 2
    png = fig._repr_png_()  # a notebook shows the returned Figure as this PNG (no pyplot, no inline backend)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_anchored_priors_and_the_far_field_of_figure_3_4():
    r, e = sch.toy_bond_data()
    lin, quad = sch.anchored_prior(r, e, 1), sch.anchored_prior(r, e, 2)
    k = int(np.argmin(e))
    assert np.isclose(lin(r[k]), e[k]) and np.isclose(quad(r[k]), e[k])  # anchored at the lowest energy
    # beta is the least-squares slope through the anchor (independent: numpy lstsq without intercept)
    beta = np.linalg.lstsq((r - r[k])[:, None], e - e[k], rcond=None)[0][0]
    assert np.isclose(lin(r[k] + 1.0) - e[k], beta)
    far = np.array([0.0, 2.5])  # at least 7 lengthscales from every training point
    g_lin = sch.gp_1d(r, e, far, 0.12, prior_mean=lin)["mean"]
    assert np.allclose(g_lin, lin(far), atol=1e-6)  # far away the GP IS its prior: the slope stays
    assert g_lin[0] < e.min()  # the linear mean runs below every training energy on one side
    with pytest.raises(InvalidParameterError, match="power"):
        sch.anchored_prior(r, e, 3)


def test_stretched_oh_geometry_is_drawn_from_the_shipped_molecule():
    from npsnn_edu.gpr import load

    ma = load("malondialdehyde")
    fig = sch.stretched_oh_geometry(ma.reference_positions, ma.symbols)
    texts = [t.get_text() for t in fig.axes[0].texts]
    x = ma.reference_positions
    h = x[4] + 1.5 * (x[8] - x[4]) / np.linalg.norm(x[8] - x[4])
    assert f"{np.linalg.norm(h - x[3]):.2f} Å to other O" in texts and "1.50 Å to own O" in texts
    assert fig._repr_png_()[:4] == b"\x89PNG"
    with pytest.raises(InvalidParameterError, match="shape"):
        sch.stretched_oh_geometry(x[:3], ma.symbols)
