"""Headless runner (``python -m npsnn_edu.notebook_runner``): executes notebooks, exports HTML, reports time and
kernel memory, and exits non-zero when a notebook fails. Runs on the small notebooks of tests/data/."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat

from npsnn_edu.notebook_runner import RssSampler, kernel_env, main

DATA = Path(__file__).resolve().parent / "data"
DEMO = DATA / "demo_delivery.ipynb"
BROKEN = DATA / "harness_negative_control.ipynb"


def test_runner_executes_exports_html_and_reports(tmp_path, capsys):
    assert main([str(DEMO), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "demo_delivery.ipynb" in out and "ok" in out
    summary = json.loads((tmp_path / "html" / "summary.json").read_text())
    (res,) = summary["results"]
    assert summary["mode"] == "fast" and res["ok"] and res["error"] == ""
    # a Python kernel with numpy/plotly/nglview loaded is well above 50 MB and far below 1.5 GB
    assert 50 < res["peak_rss_mb"] < 1500
    html = (tmp_path / "html" / "demo_delivery.html").read_text()
    assert "plotly" in html.lower() and "Plotly.newPlot" in html  # static figures rendered for offline reading
    executed = nbformat.read(tmp_path / "executed" / "demo_delivery.ipynb", as_version=4)
    texts = [o.get("data", {}).get("text/plain", "") for c in executed.cells if c.cell_type == "code"
             for o in c.outputs]
    assert any("[PASS]" in t for t in texts)
    assert not (DEMO.parent / "build").exists()  # nothing written next to the source notebook


def test_runner_fails_on_an_error_and_names_it(tmp_path, capsys):
    assert main([str(DEMO), str(BROKEN), "--out", str(tmp_path), "--no-html"]) == 1
    captured = capsys.readouterr()
    assert "deliberate error for the harness" in captured.out
    assert "harness_negative_control.ipynb" in captured.err
    results = {r["notebook"]: r for r in json.loads((tmp_path / "html" / "summary.json").read_text())["results"]}
    assert results["demo_delivery.ipynb"]["ok"] and not results["harness_negative_control.ipynb"]["ok"]


def test_missing_notebook_is_a_usage_error(tmp_path):
    assert main([str(tmp_path / "nope.ipynb"), "--out", str(tmp_path)]) == 2


def test_fast_and_full_mode_environment():
    assert kernel_env(fast=True)["NPSNN_EDU_FAST"] == "1"
    assert "NPSNN_EDU_FAST" not in kernel_env(fast=False)


def test_rss_sampler_measures_this_process():
    import os

    sampler = RssSampler(interval=0.01)
    sampler.start(os.getpid())
    block = bytearray(64 * 2**20)  # touch 64 MB
    block[::4096] = b"x" * len(block[::4096])
    peak = sampler.stop()
    assert peak > 64
    del block
