"""Headless runner (``python -m npsnn_edu.course.notebook_runner``): executes notebooks, exports HTML, reports time and
kernel memory, and exits non-zero when a notebook fails. Runs on the small notebooks of tests/data/."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat

from npsnn_edu.course.notebook_runner import RssSampler, kernel_env, main

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


def test_kernel_env_sets_each_mode_and_one_thread():
    for mode in ("fast", "classroom", "full"):
        env = kernel_env(mode=mode, threads=1)
        assert env["NPSNN_EDU_MODE"] == mode
        assert (env.get("NPSNN_EDU_FAST") == "1") == (mode == "fast")
        assert all(env[v] == "1" for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"))
    assert kernel_env(fast=False)["NPSNN_EDU_MODE"] == "full"
    import pytest

    from npsnn_edu.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="unknown mode"):
        kernel_env(mode="turbo")


def test_runner_mode_reaches_the_kernel(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from npsnn_edu.config import mode\nprint(mode())")]
    path = tmp_path / "which_mode.ipynb"
    nbformat.write(nb, path)
    assert main([str(path), "--out", str(tmp_path / "out"), "--no-html", "--mode", "classroom"]) == 0
    executed = nbformat.read(tmp_path / "out" / "executed" / path.name, as_version=4)
    assert executed.cells[0].outputs[0]["text"].strip() == "classroom"
    assert json.loads((tmp_path / "out" / "html" / "summary.json").read_text())["mode"] == "classroom"


def test_benchmark_suite_measures_one_core_and_saves_the_timings_describe_mode_reads(tmp_path, monkeypatch):
    """benchmarks/notebook_suite.py: fast mode on the small course notebook, --save into a temporary timings file
    in describe_mode's schema (the real file is written by the lead's measurement)."""
    import subprocess
    import sys

    from npsnn_edu import config

    mini = DATA / "course_roundtrip.ipynb"
    timings = tmp_path / "timings.json"
    timings.write_text(json.dumps({"notebooks": {"other": {"full": {"seconds": 99.0, "peak_rss_mb": 1.0}}}}))
    out = subprocess.run([sys.executable, str(DATA.parents[1] / "benchmarks" / "notebook_suite.py"), str(mini),
                          "--mode", "fast", "--save", "--timings-file", str(timings), "--out", str(tmp_path / "b")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    assert "pinned to CPU" in out.stdout and "== fast mode ==" in out.stdout
    last = json.loads(out.stdout.strip().splitlines()[-1])
    row = last["modes"]["fast"]["course_roundtrip"]
    assert last["benchmark"] == "notebook_suite" and row["ok"] and row["seconds"] > 0
    assert 30 < row["peak_rss_mb"] < 1500 and last["fast_seconds"] == round(row["seconds"], 1)
    data = json.loads(timings.read_text())
    assert data["notebooks"]["course_roundtrip"]["fast"] == {"seconds": row["seconds"],
                                                             "peak_rss_mb": row["peak_rss_mb"]}
    assert data["notebooks"]["other"]["full"]["seconds"] == 99.0  # other entries are kept
    prov = data["measured"]["fast"]
    assert prov["cores"] == 1 and "notebook_suite.py" in prov["command"] and prov["torch"].startswith("2.13")
    monkeypatch.setattr(config, "TIMINGS_FILE", timings)
    monkeypatch.setenv("NPSNN_EDU_MODE", "fast")
    line = config.describe_mode("course_roundtrip")
    assert "Run mode: fast" in line and f"fast {row['seconds'] / 60:.1f} min" in line


def test_times_quoted_by_each_chapter_are_the_measured_ones(tmp_path):
    """A notebook whose first cell quotes its run times per mode and its peak memory must quote the numbers in
    npsnn_edu/data/notebook_timings.json (written by `make bench-notebooks`, which also rewrites the quotes).
    Lessons on the lesson template keep such provenance out of the student text (docs/instructor/chN.md), so
    only the notebooks that still quote are checked; the rewrite is checked on a synthetic copy."""
    import importlib.util

    from npsnn_edu import config

    bench = DATA.parents[1] / "benchmarks" / "notebook_suite.py"
    spec = importlib.util.spec_from_file_location("notebook_suite", bench)
    suite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(suite)
    data = json.loads(config.TIMINGS_FILE.read_text())
    # the four labs 0N_* (going-further notebooks 0Nb_*/0Nc_* get their measured times with make bench-notebooks)
    chapters = sorted(p for p in (DATA.parents[1] / "notebooks").glob("0*.ipynb") if p.name[2] == "_")
    assert [p.name[:3] for p in chapters] == ["01_", "02_", "03_", "04_"]
    for path in chapters:
        nb = json.loads(path.read_text())
        text = " ".join("".join(nb["cells"][0]["source"]).split())
        m = suite.TIME_SENTENCE.search(text)
        if m is None:  # the lesson template keeps measured run times out of the student text (docs/instructor/);
            continue   # a notebook that still quotes them must quote the measured ones
        expected = suite.time_sentence(data["notebooks"][path.stem], m.group(1))
        assert m.group(0) == expected, f"{path.name} quotes '{m.group(0)}', measured: '{expected}'"
    assert suite.format_seconds(214.0) == "3.6 min" and suite.format_seconds(12.92) == "13 s"
    # the rewrite: a new measurement changes the quote, the cell keeps its line breaks, others are untouched
    entry = data["notebooks"]["01_newtonian_md"]
    words = ("Times (" + suite.time_sentence(entry, "2026-01-01") + ".").split()
    first = [" ".join(words[k:k + 6]) + "\n" for k in range(0, len(words), 6)]
    synthetic = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": first}], "metadata": {},
                 "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "01_newtonian_md.ipynb").write_text(json.dumps(synthetic))
    (tmp_path / "02_other.ipynb").write_text(json.dumps({**synthetic, "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# no quoted times\n"]}]}))
    new = json.loads(json.dumps(data))
    new["notebooks"]["01_newtonian_md"]["fast"]["seconds"] = 123.0
    before = json.loads((tmp_path / "01_newtonian_md.ipynb").read_text())["cells"][0]["source"]
    assert suite.sync_time_sentences(new, tmp_path) == ["01_newtonian_md.ipynb"]
    after = json.loads((tmp_path / "01_newtonian_md.ipynb").read_text())["cells"][0]["source"]
    assert len(after) == len(before) and "fast mode 2.0 min" in " ".join("".join(after).split())
    assert suite.sync_time_sentences(new, tmp_path) == []
