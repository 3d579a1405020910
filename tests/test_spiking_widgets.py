"""The spiking-PINN training widget, driven without a browser."""
from __future__ import annotations

import numpy as np
import torch

from npsnn_edu.viz.spiking_widgets import SpikingTrainingWidget

torch.set_num_threads(1)


def test_widget_chunks_pause_resume_reset_keep_state():
    wdg = SpikingTrainingWidget(method="continuous", total_steps=20, chunk=5, background=False, n_knots=12,
                                n_colloc=32)
    assert wdg.step_chunk() == 5
    assert wdg.trainer.step == 5 and wdg.progress.value == 5
    loss_before = list(wdg.trainer.history.loss)
    params = [p.detach().clone() for p in wdg.trainer.model.parameters()]
    wdg.pause()  # pausing keeps model and history
    assert wdg.status.value.startswith("<b>paused</b>")
    assert wdg.trainer.history.loss == loss_before
    assert all(torch.equal(a, b) for a, b in zip(params, wdg.trainer.model.parameters()))
    wdg.resume()  # synchronous: runs to total_steps
    assert wdg.trainer.step == 20 and len(wdg.trainer.history.loss) == 20
    assert wdg.trainer.history.loss[:5] == loss_before
    # panels show the forward output against the reference, and the raster has spikes counts
    traj = wdg.fig_traj.data
    np.testing.assert_allclose(traj[1].y, wdg.trainer.last_eval["x"][:, 0, 0])
    assert len(wdg.fig_loss.data[0].y) == 20 and len(wdg.fig_loss.data[2].y) >= 1
    assert np.asarray(wdg.fig_raster.data[0].z).shape[0] == 32  # hidden neurons
    assert "rel L2" in wdg.status.value
    # the check's verdict next to the loss, and it is the trainer's own verdict
    chk = wdg.trainer.last_eval["check"]
    assert f"train loss {wdg.trainer.history.loss[-1]:.2e}" in wdg.verdict.value
    assert f"error {chk['error']:.2e}" in wdg.verdict.value
    assert ("DO NOT TRUST" in wdg.verdict.value) == (not chk["trusted"])
    assert wdg.status.value.startswith("<b>finished</b>")
    assert wdg.step_chunk() == 0  # done
    wdg.reset()
    assert wdg.trainer.step == 0 and wdg.trainer.history.loss == [] and wdg.progress.value == 0


def test_widget_background_thread_pause_keeps_history():
    wdg = SpikingTrainingWidget(method="mlp", total_steps=100000, chunk=2, background=True, n_colloc=16,
                                eval_every=1000, n_eval=101)
    wdg.start()
    for _ in range(200):  # wait until some steps are done
        if wdg.trainer.step >= 4:
            break
        wdg.wait(0.05)
    wdg.pause()
    assert not wdg.running
    assert wdg.status.value.startswith("<b>paused</b>")
    n = wdg.trainer.step
    assert n >= 4 and len(wdg.trainer.history.loss) == n
    wdg.start()
    wdg.wait(0.3)
    wdg.pause()
    assert wdg.trainer.step >= n and wdg.trainer.history.step == list(range(1, wdg.trainer.step + 1))


def test_widget_background_run_reports_finished_when_done():
    # the last refresh happens on the (still alive) training thread: it must say finished, not running
    wdg = SpikingTrainingWidget(method="mlp", total_steps=6, chunk=3, background=True, n_colloc=16, n_eval=101)
    wdg.start()
    wdg.wait(60)
    assert wdg.trainer.step == 6 and not wdg.running
    assert wdg.status.value.startswith("<b>finished</b>")


def test_widget_fits_a_1366_px_screen():
    from npsnn_edu.viz.spiking_widgets import MAX_WIDTH

    wdg = SpikingTrainingWidget(method="mlp", total_steps=2, chunk=1, background=False, n_colloc=16, n_eval=101)
    side = wdg.fig_loss.layout.width + wdg.fig_traj.layout.width
    assert side <= MAX_WIDTH <= 1250 and wdg.fig_raster.layout.width <= MAX_WIDTH
    assert wdg.widget.layout.max_width == f"{MAX_WIDTH}px"
    for fig in (wdg.fig_loss, wdg.fig_traj, wdg.fig_raster):  # axis titles with units
        assert fig.layout.xaxis.title.text and "(" in fig.layout.yaxis.title.text


def test_notebook_never_blocks_the_widget_buttons():
    """Notebook 04 neither auto-starts the widget during Run All nor waits on it (a blocked kernel blocks Pause)."""
    import json
    from pathlib import Path

    nb = json.loads((Path(__file__).resolve().parents[1] / "notebooks" / "04_spiking_pinn.ipynb").read_text())
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "SpikingTrainingWidget(" in code
    assert "widget.wait(" not in code and "widget.start(" not in code
