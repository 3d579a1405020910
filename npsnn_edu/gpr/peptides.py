"""Capped amino acids (Ace-X-NMe) built from standard internal coordinates: the GPR paper's peptide molecules.

:func:`dipeptide` builds capped glycine (Ace-Gly-NMe, 19 atoms), alanine dipeptide (Ace-Ala-NMe, 22 atoms) and
capped serine (Ace-Ser-NMe, 23 atoms) at given backbone torsions (phi, psi) in degrees, with standard bond lengths
(A) and angles (deg) of the peptide group (C-N 1.335, N-CA 1.458, CA-C 1.525, C=O 1.229, trans peptide bonds) and
the L configuration at CA (checked by the "CORN" rule, not assumed). The geometries are starting points, relaxed with
GFN2-xTB by :mod:`npsnn_edu.gpr.data` before use. :func:`backbone_dihedrals` gives (phi, psi) of a trajectory for a
Ramachandran map.

Atom placement uses the natural extension reference frame (NeRF): atom D from atoms A, B, C, the bond |CD|, the
angle B-C-D and the dihedral A-B-C-D.

Conformers of alanine dipeptide in the gas phase: C7eq (phi, psi) ~ (-83, 73), an intramolecular N-H...O=C hydrogen
bond closing a seven-membered ring; C5 ~ (-157, 165), an extended backbone with a five-membered N-H...O contact.
"""
from __future__ import annotations

import numpy as np

from ..errors import InvalidParameterError, unknown_name

__all__ = ["RESIDUES", "CONFORMERS", "place", "dihedral", "dipeptide", "backbone_dihedrals", "BACKBONE"]

#: Residues :func:`dipeptide` builds (one-letter codes in parentheses: G, A, S).
RESIDUES = ("GLY", "ALA", "SER")
#: Starting backbone torsions (phi, psi) in degrees of the two gas-phase conformers of the paper's optimisation test.
CONFORMERS = {"C7eq": (-83.0, 73.0), "C5": (-157.0, 165.0)}
#: Indices of the backbone atoms in every built dipeptide: C(ace), N, CA, C, N(nme) (same for all residues).
BACKBONE = {"C_ace": 1, "N": 2, "CA": 4, "C": 6, "N_nme": 7}


def place(a: np.ndarray, b: np.ndarray, c: np.ndarray, bond: float, angle_deg: float, dihedral_deg: float
          ) -> np.ndarray:
    """Position (A) of atom D with |CD| = ``bond``, angle B-C-D = ``angle_deg``, dihedral A-B-C-D = ``dihedral_deg``.

    Parameters
    ----------
    a, b, c : array of shape (3,)
        Positions of atoms A, B, C (A).
    bond : float
        Length CD (A).
    angle_deg : float
        Angle B-C-D (degrees).
    dihedral_deg : float
        Dihedral A-B-C-D (degrees).

    Returns
    -------
    array of shape (3,)
    """
    th, ph = np.radians(angle_deg), np.radians(dihedral_deg)
    bc = (c - b) / np.linalg.norm(c - b)
    n = np.cross(b - a, bc)
    n /= np.linalg.norm(n)
    m = np.cross(n, bc)
    return c + bond * (-np.cos(th) * bc + np.sin(th) * np.cos(ph) * m + np.sin(th) * np.sin(ph) * n)


def dihedral(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Dihedral angle A-B-C-D in degrees, (-180, 180]; works on arrays of shape (..., 3).

    Parameters
    ----------
    a, b, c, d : array of shape (..., 3)
        Positions (A).

    Returns
    -------
    array of shape (...)
    """
    b0, b1, b2 = a - b, c - b, d - c
    b1 = b1 / np.linalg.norm(b1, axis=-1, keepdims=True)
    v = b0 - np.sum(b0 * b1, axis=-1, keepdims=True) * b1
    w = b2 - np.sum(b2 * b1, axis=-1, keepdims=True) * b1
    return np.degrees(np.arctan2(np.sum(np.cross(b1, v) * w, axis=-1), np.sum(v * w, axis=-1)))


def dipeptide(residue: str = "ALA", phi: float = -83.0, psi: float = 73.0) -> tuple[list[str], np.ndarray]:
    """(symbols, positions (N, 3) in A) of Ace-``residue``-NMe at backbone torsions ``phi``, ``psi`` (degrees).

    Atom order: C(methyl, ace), C(ace), N, O(ace), CA, H(N), C, N(nme), O, C(methyl, nme), H(N nme), HA, then the
    side chain (GLY: a second HA; ALA: CB + 3 H; SER: CB, OG, 2 HB, HG), then the 3 + 3 methyl H of the caps.

    Parameters
    ----------
    residue : {"GLY", "ALA", "SER"}, default "ALA"
        Central residue.
    phi, psi : float, default -83.0, 73.0
        Backbone torsions (degrees).

    Returns
    -------
    symbols : list of str
    positions : array of shape (n_atoms, 3)
        A.

    Raises
    ------
    UnknownNameError
        An unknown residue.
    InvalidParameterError
        Non-finite torsions.
    """
    residue = str(residue).upper()
    if residue not in RESIDUES:
        raise unknown_name("residue", residue, list(RESIDUES))
    if not (np.isfinite(phi) and np.isfinite(psi)):
        raise InvalidParameterError(f"phi and psi must be finite angles in degrees, got {phi}, {psi}")
    pos: dict[str, np.ndarray] = {}
    order: list[tuple[str, str]] = []

    def add(name: str, symbol: str, x: np.ndarray) -> None:
        pos[name] = np.asarray(x, float)
        order.append((name, symbol))

    add("C1", "C", np.zeros(3))
    add("C2", "C", np.array([1.52, 0.0, 0.0]))
    th = np.radians(180.0 - 116.0)
    add("N2", "N", pos["C2"] + 1.335 * np.array([np.cos(th), np.sin(th), 0.0]))
    add("O1", "O", place(pos["N2"], pos["C1"], pos["C2"], 1.229, 121.0, 180.0))
    add("CA", "C", place(pos["C1"], pos["C2"], pos["N2"], 1.458, 121.7, 180.0))
    add("H2", "H", place(pos["C1"], pos["C2"], pos["N2"], 1.010, 119.0, 0.0))
    add("C3", "C", place(pos["C2"], pos["N2"], pos["CA"], 1.525, 111.2, phi))
    add("N3", "N", place(pos["N2"], pos["CA"], pos["C3"], 1.335, 116.2, psi))
    add("O3", "O", place(pos["N2"], pos["CA"], pos["C3"], 1.229, 120.5, psi + 180.0))
    add("C4", "C", place(pos["CA"], pos["C3"], pos["N3"], 1.458, 121.7, 180.0))
    add("H3", "H", place(pos["CA"], pos["C3"], pos["N3"], 1.010, 119.0, 0.0))
    r_side = 1.09 if residue == "GLY" else 1.530
    for sign in (1.0, -1.0):  # the L configuration: CO, R, N clockwise seen from HA (the CORN rule)
        side = place(pos["C3"], pos["N2"], pos["CA"], r_side, 110.5, 122.5 * sign)
        ha = place(pos["C3"], pos["N2"], pos["CA"], 1.09, 109.5, -122.5 * sign)
        a, b, c = pos["C3"] - pos["CA"], side - pos["CA"], pos["N2"] - pos["CA"]
        if np.cross(b - a, c - a) @ (ha - pos["CA"]) < 0:
            break
    add("HA", "H", ha)
    if residue == "GLY":
        add("HA3", "H", side)
    else:
        add("CB", "C", side)
        if residue == "ALA":
            for k, d in enumerate((60.0, 180.0, 300.0)):
                add(f"HB{k}", "H", place(pos["N2"], pos["CA"], pos["CB"], 1.09, 109.5, d))
        else:
            chi1 = -60.0
            add("OG", "O", place(pos["N2"], pos["CA"], pos["CB"], 1.417, 111.0, chi1))
            add("HB2", "H", place(pos["N2"], pos["CA"], pos["CB"], 1.09, 109.5, chi1 + 120.0))
            add("HB3", "H", place(pos["N2"], pos["CA"], pos["CB"], 1.09, 109.5, chi1 - 120.0))
            add("HG", "H", place(pos["CA"], pos["CB"], pos["OG"], 0.967, 109.5, 180.0))
    for k, d in enumerate((0.0, 120.0, 240.0)):
        add(f"H1{k}", "H", place(pos["N2"], pos["C2"], pos["C1"], 1.09, 109.5, d))
    for k, d in enumerate((60.0, 180.0, 300.0)):
        add(f"H4{k}", "H", place(pos["C3"], pos["N3"], pos["C4"], 1.09, 109.5, d))
    return [s for _, s in order], np.array([pos[n] for n, _ in order])


def backbone_dihedrals(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(phi, psi) in degrees of dipeptide geometries (..., N, 3) built by :func:`dipeptide` (same atom order).

    Parameters
    ----------
    positions : array of shape (..., n_atoms, 3)
        Dipeptide geometries (A).

    Returns
    -------
    phi, psi : arrays of shape (...)
        Degrees.
    """
    x = np.asarray(positions, float)
    if x.ndim < 2 or x.shape[-1] != 3 or x.shape[-2] < 11:
        raise InvalidParameterError(f"positions must be shaped (..., N, 3) of a dipeptide, got {x.shape}")
    b = BACKBONE
    phi = dihedral(x[..., b["C_ace"], :], x[..., b["N"], :], x[..., b["CA"], :], x[..., b["C"], :])
    psi = dihedral(x[..., b["N"], :], x[..., b["CA"], :], x[..., b["C"], :], x[..., b["N_nme"], :])
    return phi, psi
