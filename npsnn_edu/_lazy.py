"""The one list of imports that stay inside functions (issue 19): every other import sits at its module's top.

A key is a top-level module (its submodules included) or, for the package's own modules, a dotted module name; the
value says why a top import would cost too much. Times: ``python -X importtime``, added on top of what the importing
module already loads (2-core machine). ``tests/test_imports.py`` fails on a function-level import not listed here,
on an entry no function imports any more, and on an empty reason.
"""
from __future__ import annotations

__all__ = ["LAZY_IMPORTS"]

#: Module -> why it is imported inside the functions that use it.
LAZY_IMPORTS: dict[str, str] = {
    # third-party
    "torch": "~1 s; the core (device, the torch path of potentials) must import without it (.importlinter), and "
             "the light chapter-4 exercise and schematic modules use it on one path only",
    "tblite": "GFN2-xTB reference of chapter 3 (gpr.data): its OpenMP runtime reads OMP_NUM_THREADS when it "
              "loads, so it is imported after _ensure_single_thread() sets it",
    "ase": "ase's io, optimize, md, build, collections, neighborlist and visualize submodules (0.1-0.4 s each, they "
           "pull scipy) serve file I/O and reference-data generation only; ase itself, ase.data and "
           "ase.calculators are imported at module top",
    "scipy": "scipy.spatial (~0.27 s over the core: KD-tree neighbour search of large systems), scipy.stats "
             "(~0.45 s), scipy.optimize and scipy.integrate (~0.3-0.4 s) each serve one function",
    "matplotlib": "static schematics only (matplotlib.figure ~0.3 s over viz); the interactive figures are plotly",
    "ipywidgets": "the Jupyter widget stack (~0.09 s over viz): only the interactive panels build widgets; the "
                  "figures work in scripts and tests without it",
    "IPython": "the interactive shell (~0.05 s over viz): display(), the inline-PNG hook and the course checker's "
               "magics-aware cell parser are used on one path each",
    "nglview": "3D playback only; a widget stack whose import can fail (it is turned into ViewerUnavailableError "
               "with a fallback) and warns (silenced around the import)",
    "plotly": "plotly.subplots (~40 ms over plotly.graph_objects, which every viz module loads): only the "
              "multi-panel grid of viz.plots uses it",
    "tqdm": "progress bars (tqdm.auto ~35 ms, probes IPython): the core's integrators import progress, and a bar is "
            "made only when a run shows one",
    "nbformat": "the notebook format with its JSON-schema validators (~1 s): the course CLIs start (--help, hub and "
                "site configuration) without it and read notebooks on use",
    "nbclient": "a kernel client (~1.1 s): only executing a notebook needs it",
    "nbconvert": "~1.4 s, a test extra: only the HTML export of an executed notebook",
    "psutil": "a test extra (optional): without it the notebook runner reports no memory numbers",
    "dask": "the campaign runner's cluster path only (a serial run needs no Dask; ~0.1 s)",
    "distributed": "the campaign runner's cluster path only (LocalCluster/Client, ~0.2 s over dask)",
    # the package's own modules
    "npsnn_edu._compiled": "imports numba (~0.2 s over the core): loaded when a pair potential is made, so "
                           "`import npsnn_edu` does not pay for it",
    "npsnn_edu.spiking": "imports torch (~1 s) at its top: the light chapter-4 exercise and schematic modules "
                         "(exercises.chapter4*, viz.lesson_ch4, viz.schematics_ch4*) need it on one path only",
    "npsnn_edu.gpr.data": "`python -m npsnn_edu.gpr.data` must not find it imported by its package (runpy "
                          "warning): gpr/__init__ and gpr.priors (imported by gpr/__init__) import it on use",
}
