"""3D playback of trajectories in the notebook, with nglview (and an X3D fallback).

nglview 3.1.4 (with ``setuptools<81``) is the version that renders in JupyterLab 4; 4.0.1 as published does
not (see the project's stack notes).  The view is an ``nglview.NGLWidget`` fed with ASE ``Atoms`` frames
from :func:`npsnn_edu.ase_interop.trajectory_to_atoms`, so coordinates are in Angstrom (reduced-unit
trajectories are converted with their ``lj_units``, argon by default).

The front end asks the kernel for one frame of coordinates at a time, but the kernel keeps every frame in
memory: :func:`show_trajectory` therefore keeps at most ``max_frames`` evenly spaced frames (always the
first and the last).

Without nglview (or without its JupyterLab extension) use :func:`show_trajectory_x3d`, a static X3D
rendering of one frame through ``ase.visualize.view(atoms, viewer="x3d")``.
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
from ase import Atoms

from ..errors import InvalidParameterError, NpsnnError, ShapeMismatchError
from ..registry import Registry
from ..trajectory import Trajectory
from ..units import ARGON
from ..validation import at_least, one_of, positive_or_none

#: Default cap on the number of frames handed to the viewer (memory: every frame is kept in the kernel).
DEFAULT_MAX_FRAMES = 300
#: Representations offered by :func:`show_trajectory` (NGL names).
REPRESENTATIONS = ("spacefill", "ball+stick", "licorice", "point")
#: Name table of the representations, with aliases.
REPRESENTATION_NAMES: Registry[str] = Registry("representation")
for _name, _aliases in (("spacefill", ("spheres",)), ("ball+stick", ("ball_and_stick", "ballstick")),
                        ("licorice", ()), ("point", ())):
    REPRESENTATION_NAMES.register(_name, _name, aliases=_aliases)


class ViewerUnavailableError(NpsnnError, ImportError):
    """The 3D viewer (nglview) cannot be imported here. The message says how to fix it or what to use instead."""


_FALLBACK_HINT = (
    "Install the pinned viewer with `pip install \"nglview==3.1.4\" \"setuptools<81\"` (the version that renders "
    "in JupyterLab 4) and restart the kernel, or use the static fallback "
    "`npsnn_edu.viz.playback.show_trajectory_x3d(traj)` (that is `ase.visualize.view(atoms, viewer=\"x3d\")`)."
)


def import_nglview() -> Any:
    """Import nglview quietly (its ``pkg_resources`` deprecation warning is noise for students).

    Raises :class:`ViewerUnavailableError` (an ``ImportError``) with a fix and a fallback when it fails.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import nglview
    except Exception as exc:  # ModuleNotFoundError (nglview or pkg_resources), broken installs...
        raise ViewerUnavailableError(f"the 3D viewer nglview could not be imported ({type(exc).__name__}: {exc}). "
                                     + _FALLBACK_HINT) from exc
    return nglview


def select_frames(n_frames: int, stride: int = 1, max_frames: int | None = DEFAULT_MAX_FRAMES) -> np.ndarray:
    """Indices of the frames to show: every ``stride``-th, thinned evenly to at most ``max_frames``.

    The first frame is always kept; the last one too when frames have to be dropped for ``max_frames``.

    Parameters
    ----------
    n_frames : int
        Frames available.
    stride : int, default 1
        Keep every ``stride``-th frame.
    max_frames : int or None, default 300
        Most frames shown (None: no limit).

    Returns
    -------
    array of int
    """
    n_frames = int(n_frames)
    if n_frames < 1:
        raise InvalidParameterError("the trajectory has no frames to show")
    stride = at_least("stride", stride, 1, integer=True, hint="show every stride-th frame; a positive integer")
    max_frames = positive_or_none("max_frames", max_frames, integer=True, hint="a positive integer or None")
    idx = np.arange(0, n_frames, stride)
    if max_frames is not None and len(idx) > max_frames:
        if max_frames == 1:
            return idx[:1]
        # evenly spaced picks from the strided frames, keeping the first and the last
        idx = idx[np.unique(np.round(np.linspace(0, len(idx) - 1, int(max_frames))).astype(int))]
    return idx


def trajectory_images(traj: "Trajectory | Sequence[Atoms] | Atoms", *, symbols: "str | Sequence[str] | None" = None,
                      wrap: bool = True, stride: int = 1, max_frames: int | None = DEFAULT_MAX_FRAMES) -> list[Atoms]:
    """The frames that :func:`show_trajectory` would show, as ASE ``Atoms`` (Angstrom).

    ``traj`` is a :class:`~npsnn_edu.trajectory.Trajectory` (converted with ``trajectory_to_atoms``; ``wrap``
    folds atoms back into the periodic box), a list of ``Atoms``, or one ``Atoms``.

    Parameters
    ----------
    traj : Trajectory, sequence of ase.Atoms or ase.Atoms
        The frames.
    symbols : str, sequence of str or None, default None
        Chemical symbols for a reduced-unit trajectory.
    wrap : bool, default True
        Fold atoms into the periodic box.
    stride : int, default 1
        Keep every ``stride``-th frame.
    max_frames : int or None, default 300
        Most frames.

    Returns
    -------
    list of ase.Atoms
    """
    if isinstance(traj, Atoms):
        traj = [traj]
    if isinstance(traj, Trajectory):
        return traj.select(select_frames(traj.n_frames, stride, max_frames)).to_atoms(symbols=symbols, wrap=wrap)
    try:
        frames = list(traj)
    except TypeError:
        frames = []
    if not frames or not all(isinstance(a, Atoms) for a in frames):
        raise InvalidParameterError(
            f"show a npsnn_edu Trajectory, a list of ase.Atoms or one ase.Atoms; got {type(traj).__name__}")
    if any(len(a) != len(frames[0]) for a in frames):
        raise ShapeMismatchError("every frame must have the same number of atoms")
    frames = [frames[i] for i in select_frames(len(frames), stride, max_frames)]
    if symbols is not None or wrap:
        frames = [a.copy() for a in frames]
        for a in frames:
            if symbols is not None:
                a.set_chemical_symbols([symbols] * len(a) if isinstance(symbols, str) else list(symbols))
            if wrap and a.pbc.any():
                a.wrap()
    return frames


def _default_radius(traj: Any) -> float | None:
    """Sphere radius in Angstrom: half of sigma for a reduced LJ trajectory (spheres touch at contact)."""
    if isinstance(traj, Trajectory) and traj.units == "reduced":
        units = traj.lj_units or ARGON
        return 0.5 * units.length
    return None


# nglview 3.1.4 sizes its WebGL canvas once, when the view is created, from the width of the element it sits in.
# A view created while that element is hidden (its notebook in a background tab, a page still laying out when
# Run All reaches the cell) gets a 0 x 0 canvas and stays blank: nglview does not resize when it is shown later
# (measured in JupyterLab 4.6 + Chromium: 0 x 0 while the notebook is hidden and still 0 x 0 once it is shown).
# This script, run in the browser by the view itself, watches the view's element and fits the canvas when the
# element holding it has a width while the canvas is still empty. A canvas that already has a size is left alone, so a
# view resized by hand keeps its size.
_FIT_WHEN_SHOWN_JS = """
const view = this;
if (typeof ResizeObserver !== 'undefined' && !view._npsnnFitObserver) {
  const fit = () => {
    const viewer = view.stage && view.stage.viewer;
    const width = view.$el.parent().width();
    if (!viewer || !(width > 0) || (viewer.width > 1 && viewer.height > 1)) { return; }
    view.setSize(view.model.get('_view_width') || (width + 'px'), view.model.get('_view_height') || '300px');
  };
  view._npsnnFitObserver = new ResizeObserver(fit);
  view._npsnnFitObserver.observe(view.el);
  if (view.el.parentElement) { view._npsnnFitObserver.observe(view.el.parentElement); }
}
"""


def _new_view(nv: Any, **widget_kwargs: Any) -> Any:
    """An ``nglview.NGLWidget`` whose canvas is fitted when it is first shown (see ``_FIT_WHEN_SHOWN_JS``)."""
    view = nv.NGLWidget(**widget_kwargs)
    view._execute_js_code(_FIT_WHEN_SHOWN_JS)  # nglview queues it until the view has loaded in the browser
    return view


def _style(view: Any, representation: str, radius: float | None, unit_cell: bool, color: str | None,
           component: int = 0) -> None:
    key = REPRESENTATION_NAMES.get(representation)
    radius = positive_or_none("radius", radius, hint="a length in Angstrom")
    params: dict[str, Any] = {}
    if radius is not None:
        params["radius"] = float(radius)
    if color is not None:
        params["color"] = color
    view.add_representation(key, selection="all", component=component, **params)
    if unit_cell:
        view.add_representation("unitcell", selection="all", component=component)


def _camera(view: Any, camera: str, tilt: bool) -> None:
    """Camera type, a tilt (a crystal seen along a lattice axis looks flat), then zoom to fit everything."""
    view.camera = one_of("camera", camera, ("orthographic", "perspective"))
    if tilt:
        view.control.spin([1.0, 0.0, 0.0], 0.4)
        view.control.spin([0.0, 1.0, 0.0], 0.5)
    view.center()


def show_trajectory(traj: "Trajectory | Sequence[Atoms] | Atoms", *, symbols: "str | Sequence[str] | None" = None,
                    wrap: bool = True, stride: int = 1, max_frames: int | None = DEFAULT_MAX_FRAMES,
                    representation: str = "spacefill", radius: float | None = None, unit_cell: bool | None = None,
                    color: str | None = None, camera: str = "orthographic", tilt: bool = True,
                    size: "tuple[str, str] | None" = None, **widget_kwargs: Any) -> Any:
    """An nglview widget that plays ``traj`` (use the widget's player to step through the frames).

    Parameters
    ----------
    traj : Trajectory, list of ase.Atoms, or ase.Atoms
        Reduced-unit trajectories are converted to Angstrom (argon by default); 1D/2D ones are padded to 3D.
    symbols : chemical symbol(s) to display (default: the trajectory's own, else "Ar").
    wrap : fold atoms into the periodic box (otherwise atoms that crossed a face are drawn outside it).
    stride : show every ``stride``-th recorded frame.
    max_frames : cap on the frames handed to the viewer (memory); frames are thinned evenly beyond it.
    representation : "spacefill" (default), "ball+stick", "licorice" or "point".
    radius : sphere radius in Angstrom (default: sigma/2 for reduced LJ trajectories, else the element's).
    unit_cell : draw the periodic box (default: when the frames are periodic).
    color : one colour for every atom (e.g. "#0072B2"); default colours by element.
    camera : "orthographic" (default: no perspective distortion of a lattice) or "perspective".
    tilt : turn the camera a little so that a crystal is not seen straight along a lattice axis.
    size : (width, height) as CSS lengths, e.g. ("420px", "320px"). REQUIRED when the view is placed inside an
        ipywidgets HBox/VBox: nglview 3.1.4 ignores a Layout width there and draws a 1-px-wide, blank canvas
        (measured in JupyterLab 4.6 + Chromium); its own size traits, set before display, render correctly.
        A view displayed on its own takes the cell's width (size None).

    Returns the ``nglview.NGLWidget``; its ``frame_indices`` attribute lists the trajectory frames shown.
    """
    nv = import_nglview()
    images = trajectory_images(traj, symbols=symbols, wrap=wrap, stride=stride, max_frames=max_frames)
    if radius is None:
        radius = _default_radius(traj)
    if unit_cell is None:
        unit_cell = bool(images[0].pbc.any() and images[0].cell.volume > 0)
    view = _new_view(nv, **widget_kwargs)
    if size is not None:
        view._view_width, view._view_height = size
    view.add_trajectory(nv.ASETrajectory(images), default_representation=False)
    _style(view, representation, radius, unit_cell, color)
    _camera(view, camera, tilt)
    view.frame_indices = (select_frames(traj.n_frames, stride, max_frames) if isinstance(traj, Trajectory)
                          else np.arange(len(images)))
    view.images = images
    return view


def show_atoms(atoms: Atoms, *, representation: str = "spacefill", radius: float | None = None,
               unit_cell: bool | None = None, color: str | None = None, camera: str = "orthographic",
               tilt: bool = True, **widget_kwargs: Any) -> Any:
    """An nglview widget showing one ``ase.Atoms`` structure (unit cell drawn when periodic).

    Options as in :func:`show_trajectory` (``radius`` in Angstrom, default the element's).

    Parameters
    ----------
    atoms : ase.Atoms
        The structure.
    representation : str, default "spacefill"
        nglview representation.
    radius : float or None, default None
        Atom radius (A; None: the element's).
    unit_cell : bool or None, default None
        Draw the cell (None: when periodic).
    color : str or None, default None
        One colour for all atoms (None: by element).
    camera : str, default "orthographic"
        Camera type.
    tilt : bool, default True
        Tilt the view to show depth.
    **widget_kwargs
        Options of the nglview widget.

    Returns
    -------
    nglview.NGLWidget
    """
    if not isinstance(atoms, Atoms):
        raise InvalidParameterError(f"show_atoms needs an ase.Atoms, got {type(atoms).__name__}; "
                                    "for a Trajectory use show_trajectory")
    nv = import_nglview()
    if unit_cell is None:
        unit_cell = bool(atoms.pbc.any() and atoms.cell.volume > 0)
    view = _new_view(nv, **widget_kwargs)
    view.add_structure(nv.ASEStructure(atoms), default_representation=False)
    _style(view, representation, radius, unit_cell, color)
    _camera(view, camera, tilt)
    return view


def show_trajectory_x3d(traj: "Trajectory | Sequence[Atoms] | Atoms", frame: int = -1, *,
                        symbols: "str | Sequence[str] | None" = None, wrap: bool = True) -> Any:
    """Static fallback without nglview: one frame (default the last) rendered with X3D by ASE.

    Same as ``ase.visualize.view(atoms, viewer="x3d")``; returns an ``IPython.display.HTML``. The page loads
    the x3dom script from the web, so it needs the browser to be online.

    Parameters
    ----------
    traj : Trajectory, sequence of ase.Atoms or ase.Atoms
        The frames.
    frame : int, default -1
        Frame shown.
    symbols : str, sequence of str or None, default None
        Chemical symbols for a reduced-unit trajectory.
    wrap : bool, default True
        Fold atoms into the periodic box.

    Returns
    -------
    IPython.display.HTML
    """
    from ase.visualize.x3d import view_x3d

    if isinstance(traj, Trajectory):
        n = traj.n_frames
        if not -n <= int(frame) < n:
            raise InvalidParameterError(f"frame {frame} is out of range for a trajectory with {n} frames")
        atoms = traj.select([int(frame) % n]).to_atoms(symbols=symbols, wrap=wrap)[0]
    else:
        images = trajectory_images(traj, symbols=symbols, wrap=wrap, max_frames=None)
        if not -len(images) <= int(frame) < len(images):
            raise InvalidParameterError(f"frame {frame} is out of range for {len(images)} frames")
        atoms = images[int(frame)]
    return view_x3d(atoms)
