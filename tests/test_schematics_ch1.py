"""Chapter 1 schematics: each function returns a matplotlib Figure whose drawn geometry is the physics it explains
(the nearest image is the one of the minimum-image rule, the Verlet timeline has the three updates in order), and
bad input gets a typed error."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from matplotlib.figure import Figure

from npsnn_edu.errors import InvalidParameterError
from npsnn_edu.viz import schematics_ch1 as sch


def _texts(fig: Figure) -> str:
    ax = fig.axes[0]
    return "\n".join([t.get_text() for t in ax.texts] + [a.get_text() for a in ax.texts] + [ax.get_title()])


def test_kick_drift_kick_draws_the_three_updates_in_time_order():
    fig = sch.kick_drift_kick()
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    labels = {t.get_text(): t.xy for t in ax.texts if hasattr(t, "xy") and t.get_text()}
    # positions at t_n and t_n + dt only; the velocity also at the half step
    assert labels[r"$x_n$"][0] == 0.0 and labels[r"$x_{n+1}$"][0] == 2.0
    assert labels[r"$v_{n+1/2}$"][0] == 1.0 and labels[r"$v_{n+1}$"][0] == 2.0
    text = _texts(fig)
    order = [text.index(s) for s in ("1. half kick", "2. drift", "3. half kick")]
    assert order == sorted(order)
    assert "F(x_n)" in text and "F(x_{n+1})" in text and "once" in text
    assert [t.get_text() for t in ax.get_xticklabels()] == [r"$t_n$", r"$t_n + \Delta t/2$", r"$t_n + \Delta t$"]


@pytest.mark.parametrize("seed", range(5))
def test_nearest_image_is_the_closest_of_all_periodic_copies(seed):
    rng = np.random.default_rng(seed)
    box = rng.uniform(2.0, 6.0, size=3)
    xi, xj = rng.uniform(0, 1, size=3) * box, rng.uniform(0, 1, size=3) * box
    near = sch.nearest_image(xi, xj, box)
    copies = [xj + np.array(s) * box for s in itertools.product((-1, 0, 1), repeat=3)]
    best = min(copies, key=lambda c: np.linalg.norm(c - xi))
    np.testing.assert_allclose(near, best, atol=1e-12)
    assert np.all(np.abs(near - xi) <= box / 2 + 1e-12)


def test_minimum_image_figure_draws_the_rule_and_refuses_a_cutoff_beyond_half_the_box():
    fig = sch.minimum_image()
    ax = fig.axes[0]
    arrows = [a for a in ax.texts if a.get_text() == "" and hasattr(a, "xy")]
    tips = [np.array(a.xy) for a in arrows]
    near = sch.nearest_image((0.8, 1.0), (3.4, 2.2), (4.0, 4.0))
    assert any(np.allclose(t, near) for t in tips) and any(np.allclose(t, (3.4, 2.2)) for t in tips)
    assert np.linalg.norm(near - np.array([0.8, 1.0])) < 2.0 < np.linalg.norm(np.array([2.6, 1.2]))
    assert len(ax.patches) == 10  # nine boxes and the cut-off circle
    with pytest.raises(InvalidParameterError, match="box/2"):
        sch.minimum_image(box=4.0, cutoff=2.5)
    with pytest.raises(InvalidParameterError, match="same length"):
        sch.nearest_image([0, 0], [1, 1, 1], [2, 2])


def test_langevin_figure_names_the_three_forces():
    text = _texts(sch.langevin_thermostat())
    for part in ("friction", "random kicks", r"\partial U", "balance"):
        assert part in text


def test_figures_display_as_png_in_ipython_without_matplotlib_magic():
    """A bare Figure has no image repr until a formatter is registered: the schematics register it themselves, so a
    one-line cell shows a picture (not '<Figure size ...>') in a kernel that never ran %matplotlib inline."""
    from IPython import get_ipython
    from IPython.core.interactiveshell import InteractiveShell

    assert sch.enable_inline_png() is (get_ipython() is not None)  # plain Python: nothing to do
    shell = InteractiveShell.instance()
    try:
        fig = sch.kick_drift_kick()
        data, _ = shell.display_formatter.format(fig)
        assert "image/png" in data and data["image/png"][:4] in (b"\x89PNG", "iVBO")
    finally:
        InteractiveShell.clear_instance()
