"""The GPR paper's claims as protocols that take any model: a GP potential or the reference method (an ASE calculator).

* :func:`optimise_conformers`: geometry optimisation of a dipeptide from C7eq- and C5-like starts with ASE's BFGS;
  the energy gap C7eq - C5 (kcal/mol), the steps until every force component is below 1 kcal/mol/A, the final
  backbone torsions.
* :func:`kabsch_rmsd`: RMSD (A) of two geometries after the best rotation and translation (Kabsch).
* :func:`ramachandran`: (phi, psi) of the frames of an NVT run, and the fraction of frames outside the beta/C5
  and C7eq basins (what "exploring beyond beta-sheet regions" is measured by).

Every function takes a GP model (:class:`~npsnn_edu.gpr.model.GPRPotential`) or an ASE calculator (e.g. GFN2-xTB
from :func:`npsnn_edu.gpr.data.make_calculator`), so the model and the reference go through the same protocol.
Units: eV and A inside, kcal/mol and kcal/mol/A in the results (``npsnn_edu.units.KCAL_PER_MOL_EV``).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from ase import Atoms
from ase.calculators.calculator import BaseCalculator

from ..errors import InvalidParameterError, ShapeMismatchError, unknown_name
from ..units import KCAL_PER_MOL_EV
from .peptides import CONFORMERS, backbone_dihedrals, dipeptide

__all__ = ["optimise_conformers", "kabsch_rmsd", "ramachandran", "basin_fractions", "BASINS"]

#: Backbone basins (phi range, psi range) in degrees used to say where a frame is: the extended beta/C5 region and
#: the C7eq/alpha-R region of the upper-left and lower-left quadrants. Frames outside both are "beyond".
BASINS = {"beta_C5": ((-180.0, -100.0), (90.0, 180.0)), "C7eq": ((-100.0, -40.0), (30.0, 120.0)),
          "alpha_R": ((-100.0, -40.0), (-70.0, -10.0))}


def _calculator(model: Any) -> Any:
    if isinstance(model, BaseCalculator):
        return model
    if hasattr(model, "as_ase_calculator"):
        return model.as_ase_calculator()
    raise InvalidParameterError(f"need a GP model or an ASE calculator, got {type(model).__name__}")


def kabsch_rmsd(a: np.ndarray, b: np.ndarray) -> float:
    """RMSD (A) between geometries ``a`` and ``b`` (N, 3) after optimal superposition (Kabsch, no reflection).

    Parameters
    ----------
    a, b : array of shape (n_atoms, 3)
        Geometries (A).

    Returns
    -------
    float
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape or a.ndim != 2 or a.shape[1] != 3:
        raise ShapeMismatchError(f"need two (N, 3) geometries of the same N, got {a.shape} and {b.shape}")
    p, q = a - a.mean(0), b - b.mean(0)
    u, _, vt = np.linalg.svd(p.T @ q)
    d = np.sign(np.linalg.det(u @ vt))
    r = u @ np.diag([1.0, 1.0, d]) @ vt
    return float(np.sqrt(np.mean(np.sum((p @ r - q) ** 2, axis=1))))


def optimise_conformers(model: Any, residue: str = "ALA", starts: Sequence[str] = ("C7eq", "C5"), *,
                        fmax_kcal_per_A: float = 1.0, max_steps: int = 500) -> dict[str, Any]:
    """Optimise Ace-``residue``-NMe from the standard geometries at each start's (phi, psi) with ASE's BFGS.

    Returns per start: the final energy (eV), the final positions (N, 3), (phi, psi) in degrees, the number of BFGS
    steps until the largest force component fell below ``fmax_kcal_per_A`` (None if not within ``max_steps``),
    and ``gap_kcal`` = E(C7eq) - E(C5) in kcal/mol when both are among the starts.

    Parameters
    ----------
    model : GPRPotential or ASE calculator
        The energy model.
    residue : str, default "ALA"
        Central residue.
    starts : sequence of str, default ("C7eq", "C5")
        Start conformers (names of :data:`BASINS`).
    fmax_kcal_per_A : float, default 1.0
        Convergence threshold on the largest force component (kcal/mol/A).
    max_steps : int, default 500
        Largest number of BFGS steps.

    Returns
    -------
    dict
    """
    from ase.optimize import BFGS

    fmax = float(fmax_kcal_per_A) * KCAL_PER_MOL_EV
    calc = _calculator(model)
    out: dict[str, Any] = {"starts": {}}
    for name in starts:
        if name not in CONFORMERS:
            raise unknown_name("conformer", name, list(CONFORMERS))
        symbols, pos = dipeptide(residue, *CONFORMERS[name])
        atoms = Atoms(symbols, positions=pos)
        atoms.calc = calc
        opt = BFGS(atoms, logfile=None)
        converged = opt.run(fmax=fmax, steps=max_steps)
        phi, psi = backbone_dihedrals(atoms.get_positions())
        out["starts"][name] = {"energy_eV": float(atoms.get_potential_energy()), "positions": atoms.get_positions(),
                               "steps": int(opt.nsteps) if converged else None, "phi": float(phi),
                               "psi": float(psi)}
    s = out["starts"]
    if "C7eq" in s and "C5" in s:
        out["gap_kcal"] = (s["C7eq"]["energy_eV"] - s["C5"]["energy_eV"]) / KCAL_PER_MOL_EV
    return out


def _in_basin(phi: np.ndarray, psi: np.ndarray, basin: str) -> np.ndarray:
    (p0, p1), (s0, s1) = BASINS[basin]
    return (phi >= p0) & (phi <= p1) & (psi >= s0) & (psi <= s1)


def ramachandran(frames: np.ndarray) -> dict[str, Any]:
    """(phi, psi) of dipeptide frames (F, N, 3) and the fraction of frames in each of :data:`BASINS` and outside
    all of them (``beyond``).

    Parameters
    ----------
    frames : array of shape (n_frames, n_atoms, 3)
        Dipeptide geometries (A).

    Returns
    -------
    dict
    """
    phi, psi = backbone_dihedrals(frames)
    phi, psi = np.atleast_1d(phi), np.atleast_1d(psi)
    return {"phi": phi, "psi": psi, "fractions": basin_fractions(phi, psi), "n_frames": int(phi.size)}


def basin_fractions(phi: np.ndarray, psi: np.ndarray) -> dict[str, float]:
    """Fraction of (phi, psi) points in each of :data:`BASINS` and outside all of them (``"beyond"``).

    Parameters
    ----------
    phi, psi : array of shape (n_frames,)
        Backbone torsions in degrees.

    Returns
    -------
    dict
        Basin name -> fraction (NaN for no frames).
    """
    phi, psi = np.atleast_1d(np.asarray(phi, float)), np.atleast_1d(np.asarray(psi, float))
    if phi.shape != psi.shape:
        raise ShapeMismatchError(f"phi and psi must have the same shape, got {phi.shape} and {psi.shape}")
    inside = np.zeros(phi.shape, bool)
    frac = {}
    for b in BASINS:
        m = _in_basin(phi, psi, b)
        frac[b] = float(m.mean()) if m.size else float("nan")
        inside |= m
    frac["beyond"] = float((~inside).mean()) if inside.size else float("nan")
    return frac
