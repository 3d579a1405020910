"""Try the JupyterLite build of docs/course.md offline: open it in headless Chromium, run one cell, report.

Usage (JupyterLite in a separate venv, so the kit's environment is untouched)::

    python3 -m venv /tmp/litevenv
    /tmp/litevenv/bin/pip install jupyterlite-core==0.8.6 jupyterlite-pyodide-kernel==0.8.6 jupyter_server
    .venv/bin/python scripts/try_jupyterlite.py --jupyter /tmp/litevenv/bin/jupyter --work /tmp/lite \
        [--pyodide-dir node_modules/pyodide]

Builds JupyterLite (``jupyter lite build``) with chapter 1 and a one-cell probe notebook into WORK/_output,
serves it on 127.0.0.1, opens it in headless Chromium, runs the probe cell and prints a JSON report: build
seconds and size, seconds to open JupyterLab, the cell's output, failed requests, the last console lines.
``--pyodide-dir`` serves a local Pyodide (e.g. from ``npm install pyodide@314.0.6``) instead of the CDN the
kernel loads by default. Stops the server and the browser it started; exit 0 only when the cell ran.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _jupyter_browser import ChromiumProcess, free_port  # noqa: E402

PROBE = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                    "source": ["import sys; print('PYODIDE', sys.platform, sys.version.split()[0])"]}],
         "metadata": {"kernelspec": {"display_name": "Python (Pyodide)", "language": "python", "name": "python"}},
         "nbformat": 4, "nbformat_minor": 5}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jupyter", type=Path, required=True, help="the `jupyter` of a venv with jupyterlite-core")
    ap.add_argument("--work", type=Path, required=True, help="work folder (content/ and _output/ go there)")
    ap.add_argument("--pyodide-dir", type=Path, default=None, help="a local Pyodide to serve instead of the CDN")
    ap.add_argument("--wait", type=float, default=120.0, help="seconds to wait for the cell's output")
    args = ap.parse_args()
    content, build = args.work / "content", args.work / "_output"
    shutil.rmtree(build, ignore_errors=True)
    content.mkdir(parents=True, exist_ok=True)
    (content / "probe.ipynb").write_text(json.dumps(PROBE))
    shutil.copy2(Path(__file__).resolve().parents[1] / "notebooks" / "01_newtonian_md.ipynb", content)
    t0 = time.monotonic()
    subprocess.run([str(args.jupyter), "lite", "build", "--contents", "content", "--output-dir", "_output"],
                   cwd=args.work, check=True, capture_output=True)
    report: dict = {"build_s": round(time.monotonic() - t0, 1),
                    "build_mb": round(sum(f.stat().st_size for f in build.rglob("*") if f.is_file()) / 2**20, 1)}
    if args.pyodide_dir is not None:
        shutil.copytree(args.pyodide_dir, build / "pyodide", dirs_exist_ok=True)
        cfg_path = build / "jupyter-lite.json"
        cfg = json.loads(cfg_path.read_text())
        settings = cfg["jupyter-config-data"].setdefault("litePluginSettings", {})
        settings.setdefault("@jupyterlite/pyodide-kernel-extension:kernel", {})["pyodideUrl"] = "../pyodide/pyodide.mjs"
        cfg_path.write_text(json.dumps(cfg, indent=1))
    from playwright.sync_api import sync_playwright

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "-d",
                               str(build)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    chrome = ChromiumProcess(profile_dir=args.work / f"chromium-profile-{port}")
    try:
        time.sleep(1.0)
        chrome.start()
        with sync_playwright() as pw:
            page = pw.chromium.connect_over_cdp(chrome.cdp_url).new_context().new_page()
            failed: list[str] = []
            console: list[str] = []
            page.on("requestfailed", lambda r: failed.append(r.url))
            page.on("console", lambda m: console.append(m.text[:300]))
            t0 = time.monotonic()
            page.goto(f"http://127.0.0.1:{port}/lab/index.html?path=probe.ipynb", timeout=120_000)
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
            report["lab_open_s"] = round(time.monotonic() - t0, 1)
            page.click(".jp-NotebookPanel .jp-Cell .jp-InputArea-editor")
            page.keyboard.press("Shift+Enter")
            text = ""
            deadline = time.monotonic() + args.wait
            while time.monotonic() < deadline and "PYODIDE" not in text and not (failed and "Failed" in
                                                                                 " ".join(console)):
                time.sleep(2.0)
                text = page.evaluate("() => [...document.querySelectorAll('.jp-OutputArea-output')]"
                                     ".map(e => e.innerText).join('\\n')")
            report.update(output=text[:500], seconds=round(time.monotonic() - t0, 1),
                          failed_requests=sorted(set(failed))[:10], console_tail=console[-6:])
    finally:
        chrome.stop()
        server.terminate()
        server.wait()
    print(json.dumps(report, indent=1))
    return 0 if "PYODIDE" in report.get("output", "") else 1


if __name__ == "__main__":
    sys.exit(main())
