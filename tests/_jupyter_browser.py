"""Drive a real JupyterLab in Debian's headless Chromium (helper for tests/test_browser.py).

* :class:`LabServer` starts the ``jupyter-lab`` executable of this venv (not a wrapper; its PID is kept) on
  127.0.0.1 with a random token, on a free port with ``port_retries=0`` (a busy port is an error, never a
  silent port+1), and checks that *this* PID listens on that port and answers *this* token.
* :class:`ChromiumProcess` starts ``/usr/bin/chromium`` itself (PID kept) with a DevTools port and lets
  playwright-python connect to it over CDP; no browser is ever downloaded (never ``playwright install``).
* Both stop by PID (process group / recorded children, then SIGKILL) and are used from fixtures with
  ``finally`` so a failing test never leaves a server, kernel or browser behind.
* :func:`run_notebook_in_browser` opens one notebook, runs "Run All Cells" (command ``runmenu:run-all``),
  waits for the kernel, then walks every cell (JupyterLab 4 notebooks are windowed: off-screen cells are not
  rendered, so the walk selects each cell in turn, which scrolls it into view) and records what the student
  would see: error outputs, "javascript error" boxes, widget views, plotly plots, nglview canvases (with a
  pixel check on a screenshot of the canvas) and ipywidgets controls.

What the kernel displayed is known exactly: a probe cell appended to the work copy of the notebook lists
every widget model (id, class, children) and the test expands the widget views found in the saved outputs
into the set of widgets that must be visible on the page.
"""
from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

REPO = Path(__file__).resolve().parents[1]
#: The venv whose jupyter-lab runs: the repository's .venv (what `make install` builds), else NPSNN_EDU_VENV, else
#: the venv of the Python running the tests (a git worktree that uses a shared venv).
VENV_BIN = next((p for p in (REPO / ".venv" / "bin", Path(os.environ.get("NPSNN_EDU_VENV", "/nonexistent")) / "bin",
                             Path(sys.executable).parent) if (p / "jupyter-lab").exists()), REPO / ".venv" / "bin")
CHROMIUM = Path(os.environ.get("NPSNN_EDU_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
    "--no-default-browser-check", "--disable-dev-shm-usage", "--window-size=1366,768",
]
PROBE_MARK = "NPSNN_WIDGET_PROBE="
PROBE_SOURCE = """# (added by the browser test to its work copy; not part of the notebook)
import json as _json
try:
    from ipywidgets.widgets.widget import _instances as _npsnn_instances
except ImportError:  # older ipywidgets
    from ipywidgets import Widget as _W
    _npsnn_instances = _W.widgets
def _npsnn_probe():
    out = {}
    for _w in list(_npsnn_instances.values()):
        _kids = getattr(_w, "children", None)
        out[_w.model_id] = {"cls": type(_w).__module__ + "." + type(_w).__name__,
                            "children": [c.model_id for c in _kids] if isinstance(_kids, (list, tuple)) else []}
    return out
print(%r + _json.dumps(_npsnn_probe()))
""" % PROBE_MARK

#: ipywidgets classes that are interactive controls (what "the controls render" means).
CONTROL_SUFFIXES = ("Slider", "RangeSlider", "Dropdown", "Button", "ToggleButton", "ToggleButtons", "Checkbox",
                    "RadioButtons", "Play", "Text", "IntText", "FloatText", "BoundedIntText", "BoundedFloatText",
                    "Select", "SelectMultiple", "SelectionSlider", "Combobox", "Textarea", "ColorPicker", "Valid")
CONTROL_SELECTOR = (".widget-slider, .widget-dropdown, .jupyter-button, .widget-toggle-buttons, .widget-checkbox, "
                    ".widget-radio, .widget-play, .widget-text, .widget-textarea, .widget-select, "
                    ".widget-colorpicker, .widget-combobox, .widget-valid")
WIDGET_ERROR_TEXTS = ("javascript error", "Error displaying widget", "Error creating widget", "Model not found",
                      "could not render")


class BrowserUnavailable(RuntimeError):
    """Chromium or playwright is missing: the browser test skips (or fails under CI=true)."""


# ----------------------------------------------------------------------------------------------- processes
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop_pid_tree(pid: int | None, extra: list[int] = (), timeout: float = 10.0) -> None:
    """Terminate ``pid``, its current descendants and ``extra`` PIDs; SIGKILL whatever survives."""
    if pid is None:
        return
    import psutil

    procs = []
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        pass
    for p in extra:
        try:
            procs.append(psutil.Process(p))
        except psutil.NoSuchProcess:
            pass
    for p in procs:
        try:
            p.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=5)


@dataclass
class LabServer:
    """A JupyterLab server of this venv, serving ``root_dir``; use as a context manager or call stop()."""

    root_dir: Path
    work_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    startup_timeout: float = 90.0
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    port: int = 0
    proc: subprocess.Popen | None = None
    log_path: Path | None = None
    _children: list[int] = field(default_factory=list)

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        w = self.work_dir
        env = dict(os.environ)
        env.update({
            "NPSNN_EDU_FAST": "1", "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1",
            "JUPYTER_CONFIG_DIR": str(w / "jupyter_config"), "JUPYTER_RUNTIME_DIR": str(w / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(w / "lab_settings"), "JUPYTERLAB_WORKSPACES_DIR": str(w / "lab_workspaces"),
            "IPYTHONDIR": str(w / "ipython"), "BROWSER": "true",
        })
        env.update(self.extra_env)
        return env

    def _write_settings(self) -> None:
        # No news/update toasts over the notebook (they would cover cells in screenshots).
        d = self.work_dir / "lab_settings" / "@jupyterlab" / "apputils-extension"
        d.mkdir(parents=True, exist_ok=True)
        (d / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false",
                                                                       "checkForUpdates": False}))

    def start(self) -> "LabServer":
        exe = VENV_BIN / "jupyter-lab"
        if not exe.exists():
            raise RuntimeError(f"{exe} not found: run `make install` first")
        self._write_settings()
        self.log_path = self.work_dir / "jupyter-lab.log"
        last_error = ""
        for _attempt in range(3):
            self.port = free_port()
            cmd = [str(exe), "--no-browser", "--ip=127.0.0.1", f"--ServerApp.port={self.port}",
                   "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                   f"--ServerApp.root_dir={self.root_dir}", "--ServerApp.open_browser=False",
                   "--LabApp.news_url=", "--LabApp.expose_app_in_browser=True", "--ServerApp.shutdown_no_activity_timeout=0"]
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                cmd.append("--allow-root")
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(cmd, cwd=self.root_dir, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
            log.close()
            try:
                self._wait_ready()
                return self
            except RuntimeError as exc:  # port taken between free_port() and bind: try another one
                last_error = str(exc)
                self.stop()
        raise RuntimeError(f"JupyterLab did not start: {last_error}")

    def _wait_ready(self) -> None:
        import psutil

        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter-lab exited with code {self.proc.returncode}; log:\n{self.log_tail()}")
            try:
                status = self.api("GET", "/api/status")
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.3)
                continue
            # The port must be bound by OUR process (a stale server would answer a different token anyway).
            ports = {c.laddr.port for c in psutil.Process(self.pid).net_connections(kind="tcp")
                     if c.status == psutil.CONN_LISTEN}
            if self.port not in ports:
                raise RuntimeError(f"port {self.port} is served by another process (ours listens on {sorted(ports)})")
            if not isinstance(status, dict):
                raise RuntimeError(f"unexpected /api/status answer: {status!r}")
            return
        raise RuntimeError(f"JupyterLab not ready after {self.startup_timeout:.0f} s; log:\n{self.log_tail()}")

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10.0) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method,
                                     headers={"Authorization": f"token {self.token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def remember_children(self) -> None:
        """Record the kernels' PIDs (children of the server) so stop() can end them even if orphaned."""
        import psutil

        try:
            self._children = sorted({*self._children, *(c.pid for c in psutil.Process(self.pid).children(True))})
        except psutil.NoSuchProcess:
            pass

    def kernel_pids(self) -> list[int]:
        import psutil

        try:
            return [c.pid for c in psutil.Process(self.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc is None:
            return
        self.remember_children()
        _stop_pid_tree(self.proc.pid, self._children)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass
        self.proc = None

    def __enter__(self) -> "LabServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@dataclass
class ChromiumProcess:
    """Debian's headless chromium, started by us (PID kept), reachable over the DevTools protocol."""

    profile_dir: Path
    executable: Path = CHROMIUM
    proc: subprocess.Popen | None = None
    cdp_url: str = ""

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def start(self, timeout: float = 60.0) -> "ChromiumProcess":
        if not self.executable.exists():
            raise BrowserUnavailable(f"{self.executable} not found")
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        port_file = self.profile_dir / "DevToolsActivePort"
        port_file.unlink(missing_ok=True)
        cmd = [str(self.executable), *CHROMIUM_FLAGS, "--remote-debugging-address=127.0.0.1",
               "--remote-debugging-port=0", f"--user-data-dir={self.profile_dir}", "about:blank"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(self.profile_dir / "chromium.log", "wb"),
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BrowserUnavailable(f"chromium exited with code {self.proc.returncode}: "
                                         f"{(self.profile_dir / 'chromium.log').read_text(errors='replace')[-2000:]}")
            if port_file.exists():
                lines = port_file.read_text().split()
                if lines:
                    self.cdp_url = f"http://127.0.0.1:{int(lines[0])}"
                    return self
            time.sleep(0.2)
        self.stop()
        raise BrowserUnavailable("chromium did not open its DevTools port")

    def stop(self) -> None:
        if self.proc is None:
            return
        _stop_pid_tree(self.proc.pid)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # our own session: zygote/renderer helpers of this chromium
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass
        self.proc = None


def check_browser_available() -> None:
    """Raise BrowserUnavailable with a clear message when chromium or playwright is missing."""
    if not CHROMIUM.exists():
        raise BrowserUnavailable(f"Debian's chromium is not installed ({CHROMIUM} missing): run "
                                 "`bash scripts/ensure_chromium.sh` as root (apt-get install -y chromium); "
                                 "never `playwright install`")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        raise BrowserUnavailable(f"playwright-python is not installed ({exc}): `make install`") from exc


# ------------------------------------------------------------------------------------------- notebooks
def prepare_work_copy(src: Path, dest: Path) -> Path:
    """Copy a notebook (outputs stripped) and append the widget probe cell; return the copy's path."""
    nb = nbformat.read(src, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE_SOURCE))
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)
    return dest


@dataclass
class NotebookReport:
    name: str
    seconds: float = 0.0
    n_cells: int = 0
    errors: list[str] = field(default_factory=list)          # error outputs (ename: evalue, cell index)
    widget_errors: list[str] = field(default_factory=list)   # "javascript error" and friends
    unrendered_widgets: list[str] = field(default_factory=list)
    probe_found: bool = False
    expected: dict[str, int] = field(default_factory=dict)   # displayed widgets by kind (kernel-side truth)
    static_plotly: int = 0
    plotly_rendered: int = 0
    plotly_empty: list[str] = field(default_factory=list)    # no trace, no data points, or nothing drawn
    overflow: list[str] = field(default_factory=list)        # outputs wider than their area (horizontal scroll)
    code_overflow: list[str] = field(default_factory=list)   # code lines that scroll sideways
    controls_rendered: int = 0
    plotly_overlaps: list[str] = field(default_factory=list)  # a legend over the title or over another legend
    tables_rendered: int = 0
    raw_table_cells: list[str] = field(default_factory=list)  # NaN/None/<NA>/... shown in an HTML table
    quiz_cells: list[int] = field(default_factory=list)       # cells whose output holds a rendered quiz
    quiz_questions_rendered: int = 0
    quiz_answers: list[dict[str, Any]] = field(default_factory=list)  # what answering the quiz showed
    ngl_canvases: list[dict[str, Any]] = field(default_factory=list)
    screenshot: Path | None = None
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return json.dumps({k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}, indent=1)


def _displayed_widgets(nb: dict, probe: dict[str, dict]) -> dict[str, int]:
    """Count displayed widgets by kind: views in outputs, expanded through container children."""
    seen: set[str] = set()
    stack = [o["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
             for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
             if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    while stack:
        mid = stack.pop()
        if mid in seen or mid not in probe:
            continue
        seen.add(mid)
        stack.extend(probe[mid]["children"])
    counts = {"nglview": 0, "figurewidget": 0, "controls": 0, "views": 0}
    for mid in seen:
        cls = probe[mid]["cls"]
        counts["views"] += 1
        if cls.endswith(".NGLWidget"):
            counts["nglview"] += 1
        elif cls.endswith(".FigureWidget"):
            counts["figurewidget"] += 1
        elif cls.startswith("ipywidgets.") and cls.rsplit(".", 1)[1].endswith(CONTROL_SUFFIXES):
            counts["controls"] += 1
    return counts


def canvas_pixel_stats(png: bytes) -> dict[str, float]:
    """Fraction of pixels that differ from the dominant (background) colour, and the number of colours."""
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    colors = img.getcolors(maxcolors=1 << 24) or []
    total = img.width * img.height
    if not colors or total == 0:
        return {"foreground_fraction": 0.0, "n_colors": 0, "width": img.width, "height": img.height}
    background = max(colors)[0]
    return {"foreground_fraction": 1.0 - background / total, "n_colors": len(colors),
            "width": img.width, "height": img.height}


_CELL_SCAN_JS = """
([ctlSel, errTexts]) => {
  const cell = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell.jp-mod-active');
  if (!cell) return null;
  const text = cell.textContent || '';
  const widgetOutputs = [...cell.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.widget-view+json"]')];
  const unrendered = widgetOutputs.filter(o => {
    const r = o.getBoundingClientRect();
    return r.width < 2 || r.height < 2 || /Loading widget/.test(o.textContent || '');
  }).length;
  const plots = [...cell.querySelectorAll('.js-plotly-plot')].map(p => {
    const r = p.getBoundingClientRect();
    const nTraces = (p._fullData || []).length;
    // data points of the figure's traces (after plotly decoded them: typed arrays in _fullData, _length)
    const len = a => (a && typeof a.length === 'number') ? a.length : 0;
    const points = Math.max(0, ...(p._fullData || []).map(t => Math.max(t._length || 0, len(t.x), len(t.y),
                                                                      len(t.z), len(t.values))));
    // drawn marks: non-empty paths (lines, bars, markers, pie slices), images (heatmaps), WebGL canvases
    const paths = [...p.querySelectorAll(
        '.main-svg .overplot path, .main-svg g.plot path, .main-svg .trace path, .main-svg .pielayer path')]
        .filter(e => (e.getAttribute('d') || '').length > 2).length;
    const images = p.querySelectorAll('.main-svg .overplot image, .main-svg g.plot image, .main-svg .trace image').length;
    const drawn = paths + images + p.querySelectorAll('.gl-container canvas, canvas.gl-canvas').length;
    // legends (g.legend, g.legend2, ...) drawn over a title or over each other: compare their bounding boxes
    const box = e => e.getBoundingClientRect();
    const area = (a, b) => Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left)) *
                           Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top));
    const legends = [...p.querySelectorAll('.infolayer > g[class^="legend"]')]
        .map(g => ({name: g.getAttribute('class'), r: box(g.querySelector('rect.bg') || g)}))
        .filter(l => l.r.width > 1 && l.r.height > 1);
    // titles: the figure's, the axes' (g-xtitle, g-y2title ...) and annotations (subplot titles are annotations)
    const kind = t => t.closest('.g-gtitle') ? 'title' : t.closest('.annotation') ? 'annotation' : 'axis title';
    const titles = [...p.querySelectorAll('.infolayer g[class^="g-"][class$="title"] text, .infolayer .annotation text')]
        .map(t => ({name: `${kind(t)} "${(t.textContent || '').slice(0, 40)}"`, r: box(t)}))
        .filter(t => t.r.width > 1 && t.r.height > 1);
    const overlaps = [];
    legends.forEach((l, k) => {
      titles.forEach(t => { const a = area(l.r, t.r); if (a > 4) overlaps.push(`${l.name} over ${t.name} (${Math.round(a)} px2)`); });
      legends.slice(k + 1).forEach(m => { const a = area(l.r, m.r); if (a > 4) overlaps.push(`${l.name} over ${m.name} (${Math.round(a)} px2)`); });
    });
    return {w: Math.round(r.width), h: Math.round(r.height), traces: nTraces, points: points, drawn: drawn,
            legends: legends.length, overlaps: overlaps};
  });
  // HTML tables in outputs: raw missing values (NaN, None, <NA>, NaT) and pandas' elided columns/cells ("...")
  const rawCells = [...cell.querySelectorAll('.jp-OutputArea-output table td, .jp-OutputArea-output table th')]
    .map(e => (e.textContent || '').trim()).filter(t => /^(NaN|nan|None|<NA>|NaT|[.]{3}|…)$/.test(t));
  const tables = cell.querySelectorAll('.jp-OutputArea-output table').length;
  const quizzes = cell.querySelectorAll('.jp-OutputArea-output .Quiz').length;
  // horizontal overflow: an output area whose content is wider than the area itself scrolls sideways
  const overflow = [...cell.querySelectorAll('.jp-OutputArea-output')]
    .map(o => ({client: o.clientWidth, scroll: o.scrollWidth}))
    .filter(x => x.client > 0 && x.scroll > x.client + 2);
  const outer = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');
  if (outer && outer.scrollWidth > outer.clientWidth + 2) {
    overflow.push({client: outer.clientWidth, scroll: outer.scrollWidth, page: true});
  }
  const codeOverflow = [...cell.querySelectorAll('.jp-InputArea-editor .cm-scroller')]
    .filter(e => e.scrollWidth > e.clientWidth + 2).map(e => ({client: e.clientWidth, scroll: e.scrollWidth}));
  const controls = [...cell.querySelectorAll(ctlSel)].filter(e => {
    const r = e.getBoundingClientRect(); return r.width > 2 && r.height > 2;
  }).length;
  const canvases = [...cell.querySelectorAll('.jp-OutputArea-output canvas')].filter(
      c => !c.closest('.js-plotly-plot')).map(c => { const r = c.getBoundingClientRect(); return {w: r.width, h: r.height}; });
  const errs = errTexts.filter(t => text.toLowerCase().includes(t.toLowerCase()));
  return {text: text.slice(0, 200), widgetOutputs: widgetOutputs.length, unrendered, plots, controls, canvases, errs,
          overflow, codeOverflow, nOutputs: cell.querySelectorAll('.jp-OutputArea-output').length,
          rawCells, tables, quizzes};
}
"""


def _kernel_states(server: LabServer, path: str) -> list[str]:
    sessions = server.api("GET", "/api/sessions")
    return [s["kernel"]["execution_state"] for s in sessions if s.get("path") == path and s.get("kernel")]


def _saved_notebook(server: LabServer, path: str, attempts: int = 5) -> dict:
    """The notebook as saved on the server; retried while a save may still be writing it (a read during the
    write is answered with 500, or with 400 "Unreadable Notebook" when it sees the half-written file, on a loaded
    machine)."""
    url = f"/api/contents/{urllib.request.quote(path)}?content=1&type=notebook"
    for k in range(attempts):
        try:
            return server.api("GET", url, timeout=30)["content"]
        except urllib.error.HTTPError as exc:
            if exc.code not in (400, 500) or k == attempts - 1:
                raise
            time.sleep(2.0)
    raise AssertionError("unreachable")


def _find_probe(nb: dict) -> dict | None:
    for c in nb["cells"]:
        for o in c.get("outputs", []):
            text = o.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            if PROBE_MARK in text:
                return json.loads(text.split(PROBE_MARK, 1)[1].strip().splitlines()[0])
    return None


def _errors(nb: dict) -> list[str]:
    return [f"cell {i}: {o.get('ename')}: {o.get('evalue')}" for i, c in enumerate(nb["cells"])
            if c["cell_type"] == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]


def run_notebook_in_browser(context: Any, server: LabServer, rel_path: str, screenshot_dir: Path,
                            timeout: float = 600.0) -> NotebookReport:
    """Open ``rel_path`` (relative to the server root) in a new page, run all cells, inspect every cell."""
    report = NotebookReport(name=Path(rel_path).stem)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        t0 = time.monotonic()
        page.goto(f"{server.base_url}/lab/tree/{rel_path}?token={server.token}&reset", wait_until="domcontentloaded")
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
        # The kernel must be connected before we run (status "idle" in the REST API).
        _wait(lambda: "idle" in _kernel_states(server, rel_path), 120, "kernel did not start")
        page.locator(".jp-NotebookPanel .jp-Notebook").first.click(position={"x": 5, "y": 5})
        _run_all(page)
        # Finished = the probe printed (every cell ran) or an error stopped the run; and the kernel is idle.
        deadline = time.monotonic() + timeout
        nb: dict = {}
        while True:
            time.sleep(2.0)
            if all(s == "idle" for s in _kernel_states(server, rel_path)):
                time.sleep(1.0)
                if all(s == "idle" for s in _kernel_states(server, rel_path)):
                    page.keyboard.press("Escape")
                    page.keyboard.press("Control+s")
                    time.sleep(1.0)
                    nb = _saved_notebook(server, rel_path)
                    if _find_probe(nb) is not None or _errors(nb):
                        break
            if time.monotonic() > deadline:
                nb = _saved_notebook(server, rel_path)
                report.errors.append(f"timeout: the notebook did not finish within {timeout:.0f} s")
                break
        report.seconds = time.monotonic() - t0
        server.remember_children()
        report.errors += _errors(nb)
        probe = _find_probe(nb)
        report.probe_found = probe is not None
        report.expected = _displayed_widgets(nb, probe or {})
        report.static_plotly = sum("application/vnd.plotly.v1+json" in o.get("data", {})
                                   for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", []))
        report.n_cells = len(nb["cells"])
        _walk_cells(page, report, screenshot_dir)
        if report.quiz_cells:
            report.quiz_answers = answer_quiz(page, report.quiz_cells[0], screenshot_dir / f"{report.name}_quiz.png")
    finally:
        try:
            sessions = server.api("GET", "/api/sessions")
            for s in sessions:
                if s.get("path") == rel_path:
                    server.api("DELETE", f"/api/sessions/{s['id']}")  # frees the kernel's memory
        except Exception as exc:  # noqa: BLE001 - cleanup must not hide the test's own failure
            report.notes.append(f"could not delete the session: {exc}")
        page.close()
    return report


_QUIZ_STATE_JS = """(q) => { const fb = q.querySelector('.Feedback');
  return {question: (q.querySelector('.Question, .QuizQn, div') || q).textContent.trim().slice(0, 200),
          feedback: fb ? fb.textContent.trim() : null, cls: fb ? fb.className : null,
          shown: fb ? getComputedStyle(fb).display !== 'none' : false}; }"""


def answer_quiz(page: Any, cell: int, screenshot: "Path | None" = None) -> list[dict[str, Any]]:
    """Answer the quiz in cell ``cell`` as a student would: click a wrong option of the first multiple-choice
    question, then its correct option; type the correct number (and Enter) into the first numeric question.
    Returns what the page showed after each action: the option or input, the feedback text and its class."""
    _select_first_cell(page)
    _goto_cell(page, cell, 0)
    out_sel = ".jp-NotebookPanel .jp-Cell.jp-mod-active .jp-OutputArea-output"
    page.wait_for_selector(f"{out_sel} .Quiz", timeout=30_000)
    results: list[dict[str, Any]] = []
    questions = page.locator(f"{out_sel} .Quiz")
    for k in range(questions.count()):
        q = questions.nth(k)
        if q.locator(".MCButton").count() == 0:
            continue
        for correct in ("false", "true"):
            option = q.locator(f'.MCButton[data-correct="{correct}"]').first
            option.scroll_into_view_if_needed()
            option.click()
            time.sleep(0.3)
            results.append({"kind": "choice", "answer": option.inner_text().strip(), "correct": correct == "true",
                            "expected_feedback": option.get_attribute("data-feedback"),
                            **q.evaluate(_QUIZ_STATE_JS)})
        break
    for k in range(questions.count()):
        q = questions.nth(k)
        box = q.locator("input.Input-text")
        if box.count() == 0:
            continue
        answers = json.loads(box.first.get_attribute("data-answers") or "[]")
        right = next((a for a in answers if a.get("correct") and "value" in a), None)
        if right is None:
            right = next((a for a in answers if a.get("correct") and "range" in a), None)
            value = None if right is None else right["range"][0]
        else:
            value = right["value"]
        if value is None:
            break
        box.first.scroll_into_view_if_needed()
        box.first.fill(str(value))
        box.first.press("Enter")
        time.sleep(0.3)
        results.append({"kind": "numeric", "answer": str(value), "correct": True,
                        "expected_feedback": right.get("feedback"), **q.evaluate(_QUIZ_STATE_JS)})
        break
    if screenshot is not None:
        page.screenshot(path=str(screenshot))
    return results


def _wait(cond: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.5)
    raise TimeoutError(what)


def _run_all(page: Any) -> None:
    """Run All Cells: the JupyterLab command ``runmenu:run-all`` (through the exposed app, else the Run menu)."""
    page.wait_for_function("() => window.jupyterapp === undefined || window.jupyterapp.commands.hasCommand('runmenu:run-all')",
                           timeout=60_000)
    if page.evaluate("() => window.jupyterapp !== undefined"):
        page.evaluate("() => { window.jupyterapp.commands.execute('runmenu:run-all'); }")
    else:
        _execute_command_from_menu(page, "Run", "runmenu:run-all")


def _execute_command_from_menu(page: Any, menu: str, command: str) -> None:
    """Click a main-menu entry by its command id (e.g. Run > Run All Cells = runmenu:run-all)."""
    page.locator(".lm-MenuBar-itemLabel", has_text=menu).first.click()
    item = page.locator(f'.lm-Menu-item[data-command="{command}"]').first
    item.wait_for(state="visible")
    item.click()


#: Sizes of an element and its ancestors up to the output area (what a hidden canvas sits in, for the report).
_ANCESTORS_JS = """e => { const out = []; for (let k = 0; e && k < 8; k++, e = e.parentElement) {
  const r = e.getBoundingClientRect(); out.push(`${e.tagName.toLowerCase()}.${(e.className || '').toString()
  .split(' ')[0]} ${Math.round(r.width)}x${Math.round(r.height)} ${getComputedStyle(e).display}`);
  if (e.classList.contains('jp-OutputArea-output')) break; } return out.join(' < '); }"""


def _walk_cells(page: Any, report: NotebookReport, screenshot_dir: Path) -> None:
    """Select each cell in turn (it scrolls into view and renders), wait for its widgets, record findings."""
    screenshot_dir.mkdir(parents=True, exist_ok=True)
    _select_first_cell(page)
    best_shot: tuple[int, int] = (-1, -1)  # (score, cell) of the view used for the screenshot
    for i in range(report.n_cells):
        if i:
            _goto_cell(page, i, i - 1)
        info = _scan_active_cell(page)
        if info is None:
            report.notes.append(f"cell {i}: no active cell found")
            continue
        report.widget_errors += [f"cell {i}: {e!r} shown" for e in info["errs"]]
        if info["unrendered"]:
            report.unrendered_widgets.append(f"cell {i}: {info['unrendered']} widget view(s) not rendered")
        for k, p in enumerate(info["plots"]):
            report.plotly_rendered += 1
            if p["traces"] < 1 or p["points"] < 1 or p["w"] < 50 or p["h"] < 50 or p["drawn"] < 1:
                report.plotly_empty.append(f"cell {i} plot {k}: {p}")
            report.plotly_overlaps += [f"cell {i} plot {k}: {o}" for o in p["overlaps"]]
        report.tables_rendered += info["tables"]
        if info["rawCells"]:
            report.raw_table_cells.append(f"cell {i}: {info['rawCells'][:8]}")
        if info["quizzes"]:
            report.quiz_cells.append(i)
            report.quiz_questions_rendered += info["quizzes"]
        report.overflow += [f"cell {i}: output {o['scroll']} px wide in a {o['client']} px area"
                            for o in info["overflow"]]
        report.code_overflow += [f"cell {i}: code {o['scroll']} px wide in {o['client']} px"
                                 for o in info["codeOverflow"]]
        report.controls_rendered += info["controls"]
        canv = page.locator(".jp-NotebookPanel .jp-Cell.jp-mod-active .jp-OutputArea-output canvas")
        for k in range(canv.count()):
            c = canv.nth(k)
            if c.evaluate("e => !!e.closest('.js-plotly-plot')"):
                continue
            # A canvas left hidden in the DOM (e.g. a replaced 3D view inside a widget box) cannot be shot; the
            # visible ones are checked, and the count check in the test catches a view that never became visible.
            # A view still fitting itself (the kit's views fit their canvas when first shown) gets a few seconds.
            deadline = time.monotonic() + 10.0
            while not c.is_visible() and time.monotonic() < deadline:
                time.sleep(0.5)
            if not c.is_visible():
                report.notes.append(f"cell {i}: canvas {k} not visible, skipped: {c.evaluate(_ANCESTORS_JS)}")
                continue
            c.scroll_into_view_if_needed()
            stats: dict[str, float] = {}
            png = b""
            # WebGL on SwiftShader (software rendering): the first frames can be blank while the structure loads,
            # for tens of seconds on a loaded 2-core machine; a canvas still blank after 45 s fails the test.
            shot_deadline = time.monotonic() + 45.0
            while True:
                try:
                    png = c.screenshot(timeout=15_000)
                except Exception as exc:  # playwright TimeoutError: the canvas went away or was hidden meanwhile
                    report.notes.append(f"cell {i}: canvas {k} screenshot failed ({type(exc).__name__})")
                    png = b""
                    break
                stats = canvas_pixel_stats(png)
                if (stats["foreground_fraction"] > 0.002 and stats["n_colors"] >= 32) or time.monotonic() > shot_deadline:
                    break
                time.sleep(0.5)
            if not png:
                continue
            shot = screenshot_dir / f"{report.name}_canvas_cell{i}_{k}.png"
            shot.write_bytes(png)
            report.ngl_canvases.append({"cell": i, **stats, "png": str(shot)})
        score = 10 * len(info["canvases"]) + 3 * len(info["plots"]) + min(info["controls"], 2)
        if score > best_shot[0]:
            best_shot = (score, i)
    # The notebook's screenshot: the richest cell (3D view > plots > controls), as a student sees it.
    target = max(best_shot[1], 0)
    _select_first_cell(page)
    _goto_cell(page, target, 0)
    _scan_active_cell(page)
    page.locator(".jp-NotebookPanel .jp-Cell.jp-mod-active").first.scroll_into_view_if_needed()
    time.sleep(1.0)
    report.screenshot = screenshot_dir / f"{report.name}.png"
    page.screenshot(path=str(report.screenshot))


_GOTO_JS = """
async (i) => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  nb.activeCellIndex = i;
  if (nb.scrollToItem) { await nb.scrollToItem(i, 'start'); }
  return nb.activeCellIndex;
}
"""


def _goto_cell(page: Any, index: int, current: int) -> None:
    """Make cell ``index`` active and scroll it into view (the exposed JupyterLab app, else 'j' presses)."""
    if page.evaluate("() => window.jupyterapp !== undefined && !!window.jupyterapp.shell.currentWidget"):
        got = page.evaluate(_GOTO_JS, index)
        if got != index:
            raise RuntimeError(f"could not select cell {index} (active: {got})")
        time.sleep(0.15)
        return
    for _ in range(max(index - current, 0)):  # keyboard fallback (command mode: j = next cell)
        page.keyboard.press("j")


def _select_first_cell(page: Any) -> None:
    """Scroll the (windowed) notebook to the top and make its first cell the active one, in command mode."""
    page.keyboard.press("Escape")
    page.evaluate("""() => { const o = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer');
                            if (o) o.scrollTop = 0; }""")
    time.sleep(0.5)
    page.locator(".jp-NotebookPanel .jp-Cell").first.locator(".jp-InputPrompt").first.click()
    page.keyboard.press("Escape")


def _scan_active_cell(page: Any, settle: float = 20.0) -> dict | None:
    """Scan the active cell, waiting (up to ``settle`` s) until its widget views have rendered."""
    deadline = time.monotonic() + settle
    info = None
    while True:
        info = page.evaluate(_CELL_SCAN_JS, [CONTROL_SELECTOR, list(WIDGET_ERROR_TEXTS)])
        if info is None or (info["unrendered"] == 0 and all(p["traces"] > 0 and p["points"] > 0
                                                             for p in info["plots"])) \
                or info["errs"] or time.monotonic() > deadline:
            return info
        time.sleep(0.3)


def copy_tree_for_server(notebooks: list[Path], dest: Path) -> dict[Path, str]:
    """Work copies of notebooks under ``dest`` (repo notebooks are never modified); return src -> rel path."""
    out = {}
    for src in notebooks:
        sub = "notebooks" if src.parent.name == "notebooks" else src.parent.name
        rel = f"{sub}/{src.name}"
        prepare_work_copy(src, dest / rel)
        # data files next to a notebook (e.g. small inputs it loads by relative path) travel with it
        for extra in src.parent.iterdir():
            if extra.is_file() and extra.suffix not in {".ipynb"} and not (dest / sub / extra.name).exists():
                shutil.copy2(extra, dest / sub / extra.name)
        out[src] = rel
    return out


# ------------------------------------------------------------------------------ JupyterHub (tests/test_hub.py)
def hub_login(page: Any, username: str, password: str, timeout: float = 60.0) -> None:
    """On a JupyterHub login page (DummyAuthenticator's form), log in as a student would."""
    page.wait_for_selector("input[name=username]", timeout=timeout * 1000)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("#login_submit, input[type=submit], button[type=submit]")


def wait_for_lab_document(page: Any, file_name: str, timeout: float = 120.0) -> str:
    """Wait until JupyterLab shows an open document tab named ``file_name``; return the page URL."""
    page.wait_for_function(
        """(name) => [...document.querySelectorAll('.lm-TabBar-tabLabel')].some(t => t.textContent.trim() === name)
                     && document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell') !== null""",
        arg=file_name, timeout=timeout * 1000)
    return page.url


def wait_for_nbgitpuller_error(page: Any, timeout: float = 60.0) -> str:
    """On nbgitpuller's status page, wait for its error banner ('Error: ...'); return the banner's text."""
    page.wait_for_function(
        """() => { const t = document.querySelector('#status-panel-title');
                   return t && /^Error/.test(t.innerText.trim()); }""", timeout=timeout * 1000)
    return page.inner_text("#status-panel-title").strip()


def user_api(context: Any, base_url: str, method: str, path: str, body: Any = None, form: "dict | None" = None,
             timeout: float = 120.0) -> Any:
    """Call a single-user server's REST API with the browser's own login cookies (and its _xsrf token), as
    JupyterLab's front end does; ``path`` starts with ``/user/<name>/``. Returns the decoded JSON (or text)."""
    user_prefix = "/".join(path.split("/")[:3]) + "/"
    xsrf = [c["value"] for c in context.cookies(base_url + user_prefix) if c["name"] == "_xsrf"]
    headers = {"X-XSRFToken": xsrf[-1]} if xsrf else {}
    kwargs: dict[str, Any] = {"headers": headers, "timeout": timeout * 1000}
    if body is not None:
        kwargs["data"] = json.dumps(body)
        headers["Content-Type"] = "application/json"
    elif form is not None:
        kwargs["form"] = form
    resp = context.request.fetch(base_url + path, method=method, **kwargs)
    if not resp.ok:
        raise RuntimeError(f"{method} {path} -> HTTP {resp.status}: {resp.text()[:500]}")
    text = resp.text()
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return text
