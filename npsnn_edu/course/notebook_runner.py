"""Execute the chapter notebooks headless and export HTML reports (``make notebooks-html``).

Usage (from the repository root)::

    python -m npsnn_edu.course.notebook_runner [--mode fast|classroom|full] [--full] [--out build/] [NOTEBOOK ...]

The kernels run in the given run mode (``NPSNN_EDU_MODE``; default ``fast``: small step counts, minutes in
total; ``--full`` is ``--mode full``, the research-size runs). Each notebook is executed with nbclient in its own
directory, then written as ``<out>/html/<name>.html`` (nbconvert's HTMLExporter, widget state included) and
``<out>/executed/<name>.ipynb``. A summary table gives the wall time per notebook and the peak resident
memory of its kernel (kernel process plus its children, sampled with psutil); ``<out>/html/summary.json``
holds the same numbers. The exit status is non-zero when any notebook fails.
"""
from __future__ import annotations

import copy
import json
import os
import re
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar, Sequence

import plotly.io as pio

from ..config import FAST_ENV_VAR, MODE_ENV_VAR, check_mode
from ..errors import DataFormatError
from ..validation import Constraints, Positive, validate_params
from ._cli import checked_notebooks, command_line
from ._cli import parser as cli_parser

__all__ = ["RunResult", "RssSampler", "execute_notebook", "run_notebooks", "default_notebooks", "read_notebook_file",
           "main"]


def read_notebook_file(path: "str | Path") -> Any:
    """Read a Jupyter notebook file as an nbformat 4 ``NotebookNode`` (what the course tools work on).

    Parameters
    ----------
    path : str or Path
        An ``.ipynb`` file.

    Raises
    ------
    DataFormatError
        The file is missing, empty, not UTF-8 text, not JSON, or not a notebook (no ``cells`` list, or nbformat
        cannot convert it to version 4); the message names the file.
    """
    import nbformat  # Jupyter's notebook format: only the course tools need it

    p = Path(path)
    if not p.is_file():
        raise DataFormatError(f"{str(p)!r} is not a file; give the path of an existing .ipynb notebook")
    try:
        text = p.read_text(encoding="utf-8")
        raw = json.loads(text)
        if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
            raise ValueError("no 'cells' list")
        return nbformat.reads(text, as_version=4)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # bad UTF-8/JSON, nbformat's own errors
        raise DataFormatError(f"{p.name} is not a Jupyter notebook ({type(exc).__name__}: {exc}); open and save it "
                              "again in JupyterLab, or restore it from git") from None


@dataclass
class RunResult:
    """Outcome of one headless execution.

    Parameters
    ----------
    notebook : str
        Notebook path.
    ok : bool
        Ran without error.
    seconds : float
        Wall time (s).
    peak_rss_mb : float
        Peak memory of the kernel's process tree (MB).
    error : str, default ""
        First error.
    html : str, default ""
        Path of the HTML report.
    executed : str, default ""
        Path of the executed copy.
    n_cells : int, default 0
        Cells executed.
    """

    notebook: str
    ok: bool
    seconds: float
    peak_rss_mb: float
    error: str = ""
    html: str = ""
    executed: str = ""
    n_cells: int = 0


class RssSampler:
    """Sample the resident memory of a process and all its descendants; keep the peak (in MB).

    The sum of RSS over the process tree slightly overcounts pages shared between processes: an upper
    bound, which is what a memory limit (Binder: 1-2 GB) cares about.

    Parameters
    ----------
    interval : float, default 0.1
        Seconds between samples.

    Raises
    ------
    InvalidParameterError
        ``interval`` not a positive finite number.
    """

    _parameter_constraints: ClassVar[Constraints] = {"interval": Positive(hint="seconds between samples")}

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = validate_params(self._parameter_constraints, {"interval": interval})["interval"]
        self.peak_bytes = 0
        self._pid: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, pid: int) -> None:
        """Start sampling process ``pid`` and its descendants in a background thread.

        Parameters
        ----------
        pid : int
            Process id.
        """
        try:
            import psutil  # noqa: F401 - a test extra; without it no memory numbers (reported as NaN)
        except ImportError:
            self.peak_bytes = -1
            return
        self._pid = pid
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    def sample(self) -> int:
        """One sample now: the summed resident memory of the process tree (bytes); updates the peak.

        Returns
        -------
        int
        """
        import psutil

        try:
            root = psutil.Process(self._pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0
        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        self.peak_bytes = max(self.peak_bytes, total)
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def stop(self) -> float:
        """Stop sampling; returns the peak in MB.

        Returns
        -------
        float
        """
        if self._thread is not None:
            self.sample()
            self._stop.set()
            self._thread.join(timeout=5)
        return self.peak_mb

    @property
    def peak_mb(self) -> float:
        """Peak resident memory seen so far (MB)."""
        return float("nan") if self.peak_bytes < 0 else self.peak_bytes / 2**20


#: thread-count variables of the numerical libraries (OpenMP: torch and NumPy's BLAS, MKL, OpenBLAS, numexpr)
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def kernel_env(fast: bool = True, extra: "dict[str, str] | None" = None, *, mode: "str | None" = None,
               threads: "int | None" = None) -> dict[str, str]:
    """Environment of the kernel: this process's, with the run mode set explicitly.

    ``mode`` (``fast``/``classroom``/``full``) wins over ``fast`` (True: fast, False: full). ``threads`` sets
    every thread-count variable of :data:`THREAD_VARS` (a one-core measurement); fast mode defaults OMP to 1.
    """
    env = dict(os.environ)
    chosen = check_mode(mode, "kernel_env(mode=...)") if mode is not None else ("fast" if fast else "full")
    env.pop(FAST_ENV_VAR, None)
    env[MODE_ENV_VAR] = chosen
    if chosen == "fast":
        env[FAST_ENV_VAR] = "1"
        env.setdefault("OMP_NUM_THREADS", "1")
    if threads is not None:
        env.update({v: str(int(threads)) for v in THREAD_VARS})
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env.update(extra or {})
    return env


def execute_notebook(nb: Any, *, cwd: "str | Path", fast: bool = True, timeout: int = 900, allow_errors: bool = False,
                     kernel_name: str = "python3", env: "dict[str, str] | None" = None,
                     store_widget_state: bool = True, mode: "str | None" = None) -> tuple[Any, float, float, str]:
    """Execute ``nb`` (an nbformat NotebookNode, modified in place) in a fresh kernel started in ``cwd``.

    Returns ``(nb, seconds, peak_rss_mb, error)``; ``error`` is empty on success, otherwise the first
    failing cell's error (with ``allow_errors=False`` execution stops there, as in Run All).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook (modified in place).
    cwd : str or Path
        Working directory of the kernel.
    fast : bool, default True
        Run in fast mode.
    timeout : int, default 900
        Seconds per cell.
    allow_errors : bool, default False
        Go on after a failing cell.
    kernel_name : str, default "python3"
        Jupyter kernel.
    env : dict of str to str or None, default None
        Kernel environment (None: this process's).
    store_widget_state : bool, default True
        Save the widget state in the notebook.
    mode : str or None, default None
        Run mode (wins over ``fast``).

    Returns
    -------
    nb : nbformat.NotebookNode
    seconds : float
    peak_rss_mb : float
    error : str
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    sampler = RssSampler()
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name, allow_errors=allow_errors,
                            resources={"metadata": {"path": str(cwd)}}, store_widget_state=store_widget_state,
                            record_timing=True)

    def _on_start(**_: Any) -> None:
        try:
            pid = client.km.provisioner.process.pid  # type: ignore[union-attr]
        except AttributeError:  # a non-local provisioner: no memory numbers
            return
        sampler.start(pid)

    client.on_notebook_start = _on_start
    error = ""
    t0 = time.perf_counter()
    try:
        client.execute(env=env if env is not None else kernel_env(fast, mode=mode))
    except CellExecutionError as exc:
        error = _short_cell_error(exc) or type(exc).__name__
    except (CellTimeoutError, DeadKernelError, TimeoutError, RuntimeError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    finally:
        seconds = time.perf_counter() - t0
        peak = sampler.stop()
    return nb, seconds, peak, error


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _short_cell_error(exc: Exception) -> str:
    text = _ANSI.sub("", str(exc))
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return "\n".join(lines[:12])


def default_notebooks(root: "Path | None" = None) -> list[Path]:
    """The chapter notebooks ``notebooks/0*.ipynb`` of the repository (or of ``root``).

    Parameters
    ----------
    root : Path or None, default None
        Repository root (None: this checkout).

    Returns
    -------
    list of Path
    """
    if root is None:
        here = Path.cwd()
        root = here if (here / "notebooks").is_dir() else Path(__file__).resolve().parents[2]
    return sorted((root / "notebooks").glob("0*.ipynb"))


def _with_plotly_html(nb: Any) -> Any:
    """A copy of ``nb`` where plotly mime outputs also carry an HTML rendering (plotly.js embedded once).

    nbconvert cannot represent ``application/vnd.plotly.v1+json`` by itself; the report must stay readable
    offline, so plotly.js is inlined in the first figure only.
    """
    nb = copy.deepcopy(nb)
    first = True
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "application/vnd.plotly.v1+json" in data and "text/html" not in data:
                data["text/html"] = pio.to_html(dict(data["application/vnd.plotly.v1+json"]), full_html=False,
                                                include_plotlyjs=first, validate=False)
                first = False
    return nb


def export_html(nb: Any, path: Path) -> Path:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(_with_plotly_html(nb))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return path


def run_notebooks(notebooks: Sequence[Path], out: Path, *, fast: bool = True, timeout: int = 1800,
                  html: bool = True, echo: bool = True, mode: "str | None" = None,
                  env: "dict[str, str] | None" = None) -> list[RunResult]:
    """Execute each notebook (in its own directory), write executed copies and HTML reports under ``out``.

    ``mode`` (fast/classroom/full) wins over ``fast``; ``env`` replaces the kernel environment entirely.

    Parameters
    ----------
    notebooks : sequence of Path
        Notebooks.
    out : Path
        Output folder.
    fast : bool, default True
        Run in fast mode.
    timeout : int, default 1800
        Seconds per cell.
    html : bool, default True
        Write HTML reports.
    echo : bool, default True
        Print one line per notebook.
    mode : str or None, default None
        Run mode (wins over ``fast``).
    env : dict of str to str or None, default None
        Kernel environment (replaces it entirely).

    Returns
    -------
    list of RunResult
    """
    import nbformat

    label = mode or ("fast" if fast else "full")
    results = []
    for path in notebooks:
        path = Path(path)
        nb = read_notebook_file(path)
        if echo:
            print(f"running {path.name} ({label} mode) ...", flush=True)
        nb, seconds, peak, error = execute_notebook(nb, cwd=path.parent, fast=fast, timeout=timeout, mode=mode,
                                                    env=env)
        res = RunResult(path.name, not error, round(seconds, 2), round(peak, 1), error, n_cells=len(nb.cells))
        executed = out / "executed" / path.name
        executed.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, executed)
        res.executed = str(executed)
        if html:
            res.html = str(export_html(nb, out / "html" / f"{path.stem}.html"))
        results.append(res)
        if echo:
            status = "ok" if res.ok else "FAILED"
            print(f"  {status}: {res.seconds:.1f} s, kernel peak RSS {res.peak_rss_mb:.0f} MB", flush=True)
            if error:
                print("  " + error.replace("\n", "\n  "), flush=True)
    return results


def format_summary(results: Sequence[RunResult]) -> str:
    rows = [f"{'notebook':<36} {'status':>7} {'seconds':>9} {'peak RSS MB':>12}"]
    for r in results:
        rows.append(f"{r.notebook:<36} {'ok' if r.ok else 'FAILED':>7} {r.seconds:>9.1f} {r.peak_rss_mb:>12.0f}")
    if results:
        rows.append(f"{'total':<36} {'':>7} {sum(r.seconds for r in results):>9.1f} "
                    f"{max(r.peak_rss_mb for r in results):>12.0f}")
    return "\n".join(rows)


@command_line("Command line (``python -m npsnn_edu.course.notebook_runner --help``): run notebooks headless, time "
              "and memory.")
def main(argv: "Sequence[str] | None" = None) -> int:
    parser = cli_parser("npsnn_edu.course.notebook_runner", __doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: notebooks/0*.ipynb)")
    parser.add_argument("--full", action="store_true", help="research-size run (same as --mode full)")
    parser.add_argument("--mode", choices=("fast", "classroom", "full"), default=None,
                        help="run mode of the kernels (default fast)")
    parser.add_argument("--out", type=Path, default=Path("build"), help="output folder (default: build/)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell (default 1800)")
    parser.add_argument("--no-html", action="store_true", help="execute only, no HTML export")
    args = parser.parse_args(argv)
    notebooks = checked_notebooks(args.notebooks, default_notebooks, exists=Path.exists)
    if notebooks is None:
        return 2
    mode = args.mode or ("full" if args.full else "fast")
    results = run_notebooks(notebooks, args.out, mode=mode, timeout=args.timeout, html=not args.no_html)
    print()
    print(format_summary(results))
    summary = args.out / "html" / "summary.json"
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.write_text(json.dumps({"mode": mode,
                                   "results": [asdict(r) for r in results]}, indent=1))
    if not args.no_html:
        print(f"\nHTML reports in {args.out / 'html'}/")
    failed = [r.notebook for r in results if not r.ok]
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
