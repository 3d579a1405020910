"""The paper's peptides built from internal coordinates, and the optimisation / Ramachandran protocols."""
from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms

from npsnn_edu.errors import InvalidParameterError, ShapeMismatchError, UnknownNameError
from npsnn_edu.gpr.peptides import BACKBONE, CONFORMERS, backbone_dihedrals, dipeptide
from npsnn_edu.gpr.protocols import BASINS, kabsch_rmsd, optimise_conformers, ramachandran


@pytest.mark.parametrize(("residue", "n_atoms", "formula"), [("GLY", 19, "C5H10N2O2"), ("ALA", 22, "C6H12N2O2"),
                                                             ("SER", 23, "C6H12N2O3")])
def test_dipeptides_have_the_right_atoms_bonds_and_torsions(residue, n_atoms, formula):
    for phi, psi in [CONFORMERS["C7eq"], CONFORMERS["C5"], (60.0, -45.0)]:
        symbols, pos = dipeptide(residue, phi, psi)
        atoms = Atoms(symbols, positions=pos)
        assert len(atoms) == n_atoms and atoms.get_chemical_formula() == formula
        b = BACKBONE
        assert atoms.get_distance(b["N"], b["CA"]) == pytest.approx(1.458)
        assert atoms.get_distance(b["CA"], b["C"]) == pytest.approx(1.525)
        assert atoms.get_distance(b["C"], b["N_nme"]) == pytest.approx(1.335)
        # the torsions, checked with ASE's own dihedral (an independent implementation, degrees in [0, 360))
        ase_phi = atoms.get_dihedral(b["C_ace"], b["N"], b["CA"], b["C"])
        ase_psi = atoms.get_dihedral(b["N"], b["CA"], b["C"], b["N_nme"])
        got_phi, got_psi = backbone_dihedrals(pos)
        assert (got_phi - ase_phi) % 360 == pytest.approx(0, abs=1e-6) or (got_phi - ase_phi) % 360 == pytest.approx(
            360, abs=1e-6)
        assert (got_psi - ase_psi) % 360 == pytest.approx(0, abs=1e-6) or (got_psi - ase_psi) % 360 == pytest.approx(
            360, abs=1e-6)
        assert got_phi == pytest.approx(phi) and got_psi == pytest.approx(psi)
        d = np.linalg.norm(pos[:, None] - pos[None], axis=-1) + 9 * np.eye(len(pos))
        assert d.min() > 0.9  # no overlapping atoms at any of these torsions


def test_the_side_chain_is_on_the_L_side_and_a_mirror_image_is_D():
    symbols, pos = dipeptide("ALA")
    ca, n, c, cb, ha = pos[BACKBONE["CA"]], pos[BACKBONE["N"]], pos[BACKBONE["C"]], pos[12], pos[11]
    assert symbols[12] == "C" and symbols[11] == "H"

    def corn(n, c, cb, ha, ca):  # CO, R, N clockwise seen from H: negative
        a, b, cc = c - ca, cb - ca, n - ca
        return np.cross(b - a, cc - a) @ (ha - ca)

    assert corn(n, c, cb, ha, ca) < 0
    m = pos * np.array([-1.0, 1.0, 1.0])
    assert corn(m[BACKBONE["N"]], m[BACKBONE["C"]], m[12], m[11], m[BACKBONE["CA"]]) > 0


def test_bad_residues_and_shapes_are_refused():
    with pytest.raises(UnknownNameError, match="ALA"):
        dipeptide("TRP")
    with pytest.raises(InvalidParameterError, match="finite"):
        dipeptide("ALA", float("nan"), 0.0)
    with pytest.raises(InvalidParameterError, match="dipeptide"):
        backbone_dihedrals(np.zeros((3, 3)))
    with pytest.raises(ShapeMismatchError):
        kabsch_rmsd(np.zeros((3, 3)), np.zeros((4, 3)))


def test_kabsch_rmsd_removes_rotation_and_translation_only():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 3))
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))
    assert kabsch_rmsd(x, x @ q.T + 3.0) == pytest.approx(0.0, abs=1e-10)
    y = x.copy()
    y[0] += np.array([0.0, 0.0, 1.0])  # one atom moved: RMSD > 0 and at most the plain RMSD 1/sqrt(10)
    assert 0.0 < kabsch_rmsd(x, y) <= np.sqrt(1 / 10) + 1e-12


def test_ramachandran_puts_each_conformer_in_its_basin():
    frames = np.array([dipeptide("ALA", *CONFORMERS["C5"])[1], dipeptide("ALA", *CONFORMERS["C7eq"])[1],
                       dipeptide("ALA", 60.0, 60.0)[1], dipeptide("ALA", -70.0, -40.0)[1]])
    r = ramachandran(frames)
    assert r["n_frames"] == 4 and set(r["fractions"]) == set(BASINS) | {"beyond"}
    assert r["fractions"]["beta_C5"] == r["fractions"]["C7eq"] == r["fractions"]["alpha_R"] == 0.25
    assert r["fractions"]["beyond"] == 0.25


def test_xtb_optimisation_finds_c7eq_below_c5_and_the_energies_are_xtb_energies():
    from tblite.ase import TBLite

    from npsnn_edu.gpr.data import make_calculator

    r = optimise_conformers(make_calculator(), "ALA")
    c7, c5 = r["starts"]["C7eq"], r["starts"]["C5"]
    assert c7["steps"] is not None and c5["steps"] is not None
    assert -100 < c7["phi"] < -60 and 50 < c7["psi"] < 100  # still C7eq
    assert c5["phi"] < -140 and c5["psi"] > 140             # still C5 (extended)
    assert r["gap_kcal"] < 0  # GFN2-xTB, like DFT in the paper: C7eq is the lower of the two
    # the seven-membered ring's hydrogen bond, N-H(nme) ... O=C(ace), exists only in C7eq
    x7, x5 = c7["positions"], c5["positions"]
    assert np.linalg.norm(x7[10] - x7[3]) < 2.3 < np.linalg.norm(x5[10] - x5[3])
    atoms = Atoms(dipeptide("ALA")[0], positions=x7)
    atoms.calc = TBLite(method="GFN2-xTB", verbosity=0)
    assert atoms.get_potential_energy() == pytest.approx(c7["energy_eV"], abs=1e-6)
    assert np.abs(atoms.get_forces()).max() < 1.0 * 0.0434 + 1e-4  # converged to 1 kcal/mol/A


def test_shipped_alanine_dipeptide_data_are_reproduced_from_their_seeds():
    """The shipped data set (made by `--regenerate --molecule alanine_dipeptide`) starts from the relaxed C7eq
    conformer, and its first frames are regenerated bit for bit (single-threaded tblite) from the recorded seed."""
    from npsnn_edu.gpr.data import load, regenerate_frames

    d = load("alanine_dipeptide")
    assert len(d.symbols) == 22 and len(d.energies) == 1752
    assert [int((d.split == k).sum()) for k in (0, 1, 2)] == [1000, 250, 500]
    assert "--molecule alanine_dipeptide" in d.provenance["regenerate"]
    phi, psi = backbone_dihedrals(d.reference_positions)
    assert -100 < phi < -60 and 50 < psi < 100  # the reference geometry is the C7eq minimum
    pos, ene = regenerate_frames(d, chain=0, n_frames=3)
    idx = np.flatnonzero(d.chain == 0)[:3]
    np.testing.assert_allclose(pos, d.positions[idx], atol=1e-8)
    np.testing.assert_allclose(ene, d.energies[idx], atol=1e-8)


def test_alanine_dipeptide_models_and_the_optimisation_claim_as_measured():
    """The validated force-trained model of the shipped data, and the paper's optimisation test run on it: the GP
    finds the C7eq minimum where GFN2-xTB does, but puts C7eq ABOVE C5, where the reference puts it below. The
    training data come from MD started in C7eq: under 10 % of the training frames are in the extended (C5) basin,
    so the model has not learnt that basin (what the paper's metadynamics sampling is for)."""
    from npsnn_edu.gpr.data import load, make_calculator
    from npsnn_edu.gpr.experiments import accuracy, build_models

    d = load("alanine_dipeptide")
    assert ramachandran(d.subset("train")[0])["fractions"]["beta_C5"] < 0.10
    gp = build_models(d, "force_trained", priors=("MF5",))["MF5"]
    acc = accuracy(gp, d, n_force=50)
    assert 1.0 < acc["energy_mae_kcal"] < 2.0  # accurate to 1-2 kcal/mol, not the paper's < 1
    ref = optimise_conformers(make_calculator(), "ALA")
    got = optimise_conformers(gp, "ALA")
    assert ref["gap_kcal"] < 0 < got["gap_kcal"]
    assert kabsch_rmsd(got["starts"]["C7eq"]["positions"], ref["starts"]["C7eq"]["positions"]) < 0.1
    assert kabsch_rmsd(got["starts"]["C5"]["positions"], ref["starts"]["C5"]["positions"]) > 0.3


def test_shipped_capped_serine_data_and_its_hydroxyl():
    """Capped serine (Ace-Ser-NMe): 23 atoms, its hydroxyl O-H bonded in the relaxed reference (the bond the paper
    stretches), first frames regenerated from the recorded seed."""
    from npsnn_edu.gpr.data import load, regenerate_frames

    d = load("capped_serine")
    assert len(d.symbols) == 23 and d.symbols[13] == "O" and d.symbols[16] == "H"
    oh = np.linalg.norm(d.reference_positions[13] - d.reference_positions[16])
    assert 0.95 < oh < 1.0
    pos, ene = regenerate_frames(d, chain=3, n_frames=2)
    idx = np.flatnonzero(d.chain == 3)[:2]
    np.testing.assert_allclose(ene, d.energies[idx], atol=1e-8)


def test_shipped_capped_glycine_data_are_reproduced_from_their_seeds():
    from npsnn_edu.gpr.data import load, regenerate_frames

    d = load("capped_glycine")
    assert len(d.symbols) == 19 and d.provenance["settings"]["frames_per_chain"] == 292
    pos, ene = regenerate_frames(d, chain=5, n_frames=2)
    idx = np.flatnonzero(d.chain == 5)[:2]
    np.testing.assert_allclose(ene, d.energies[idx], atol=1e-8)
