"""Aspirin (C9H8O4), the second molecule: shipped GFN2-xTB data, its bonding, and regeneration from the seed."""

import numpy as np
import pytest

from npsnn_edu.gpr.data import MOLECULES, SEED_INDEX, data_path, load, make_calculator, regenerate_frames

# atom order of MOLECULES["aspirin"]: C1..C6 ring (C1 carries COOH, C2 the ester O), C7 carboxyl C, C8 ester C,
# C9 methyl C, O1 carboxyl =O, O2 carboxyl O-H, O3 ester ring-O-C, O4 ester =O, H13 acid H, H14-17 ring H on C3-C6,
# H18-20 methyl H
HEAVY_BONDS = {(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (0, 5),  # benzene ring
               (0, 6), (6, 9), (6, 10),                          # ring-COOH
               (1, 11), (7, 11), (7, 12), (7, 8)}                # ring-O-C(=O)-CH3 (acetyl ester)
H_PARENT = {13: 10, 14: 2, 15: 3, 16: 4, 17: 5, 18: 8, 19: 8, 20: 8}


@pytest.fixture(scope="module")
def data():
    return load("aspirin")


def test_shipped_aspirin_shapes_dtypes_and_provenance(data):
    d = data
    n = len(d.energies)
    assert d.symbols == MOLECULES["aspirin"]["symbols"] and len(d.symbols) == 21
    assert sorted(d.symbols) == sorted(["C"] * 9 + ["H"] * 8 + ["O"] * 4)
    assert d.positions.shape == (n, 21, 3) and d.forces.shape == (n, 21, 3)
    assert np.all(np.isfinite(d.positions)) and np.all(np.isfinite(d.energies)) and np.all(np.isfinite(d.forces))
    counts = [int((d.split == k).sum()) for k in (0, 1, 2)]
    p = d.provenance
    s = p["settings"]
    assert counts == [s["n_train"], s["n_val"], s["n_test"]] and min(counts) > 0
    assert sorted(set(d.temperature_K.tolist())) == [300.0, 600.0, 1000.0]
    assert p["method"] == "GFN2-xTB" and p["molecule"] == "aspirin" and p["date_utc"].startswith("20")
    assert all(p["versions"][k] for k in ("tblite", "ase", "numpy"))
    assert p["chain_seeds"] == [s["seed"] + 1000 * SEED_INDEX["aspirin"] + k for k in range(6)]
    assert "--molecule aspirin" in p["regenerate"] and p["generation_seconds"] > 0
    assert set(p["isolated_atom_energies_eV"]) == {"C", "H", "O"}
    assert data_path("aspirin").stat().st_size < 2_000_000
    # same storage as the malondialdehyde file (energies and forces in float64)
    with np.load(data_path("aspirin")) as za, np.load(data_path("malondialdehyde")) as zm:
        assert set(za.files) == set(zm.files)
        for k in zm.files:
            assert za[k].dtype.kind == zm[k].dtype.kind and (k == "provenance" or za[k].dtype == zm[k].dtype), k


def test_relaxed_aspirin_has_aspirins_bonding(data):
    from ase.neighborlist import natural_cutoffs, neighbor_list

    ref = data.reference_atoms()
    i, j = neighbor_list("ij", ref, natural_cutoffs(ref))
    heavy = {(int(a), int(b)) for a, b in zip(i, j) if a < b and ref.symbols[a] != "H" and ref.symbols[b] != "H"}
    assert heavy == HEAVY_BONDS
    x = ref.get_positions()
    heavy_idx = [k for k, s in enumerate(ref.symbols) if s != "H"]
    for h, parent in H_PARENT.items():
        r = np.linalg.norm(x[heavy_idx] - x[h], axis=1)
        assert heavy_idx[int(np.argmin(r))] == parent and r.min() < 1.15
        assert np.sort(r)[1] > 1.8  # no second heavy partner: nothing bridged
    d = lambda a, b: float(np.linalg.norm(x[a] - x[b]))  # noqa: E731
    ring = [d(a, b) for a, b in [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (0, 5)]]
    assert 1.37 < min(ring) and max(ring) < 1.43                      # aromatic C-C
    assert d(6, 9) + 0.08 < d(6, 10) and d(7, 12) + 0.08 < d(7, 11)  # C=O shorter than C-O (acid, ester)
    assert 1.18 < d(7, 12) < 1.25 and 1.45 < d(7, 8) < 1.55 and 0.95 < d(10, 13) < 1.02


def test_reference_is_a_gfn2_minimum_and_frames_match_xtb(data):
    calc = make_calculator()
    a = data.reference_atoms()
    a.calc = calc
    assert np.abs(a.get_forces()).max() < 2e-3  # relaxed with fmax 1e-3 eV/A
    # one stored frame recomputed from scratch; energy change against forces for a small displacement
    k = int(np.flatnonzero(data.temperature_K == 1000.0)[0])
    a.set_positions(data.positions[k])
    assert abs(a.get_potential_energy() - data.energies[k]) < 1e-8
    # forces depend on the SCC convergence (the MD run warm-starts from the previous step): ~2e-4 eV/A here
    assert np.allclose(a.get_forces(), data.forces[k], atol=1e-3)
    dx = 1e-3 * np.random.default_rng(0).normal(size=data.positions[k].shape)
    a.set_positions(data.positions[k] + dx)
    e1, f1 = a.get_potential_energy(), a.get_forces()
    assert abs((e1 - data.energies[k]) - (-0.5 * np.sum((data.forces[k] + f1) * dx))) < 1e-5


def test_regenerating_aspirin_frames_reproduces_the_shipped_file(data):
    chain, n = 4, 1  # a 1000 K chain (the most chaotic); 420 xTB steps, ~8 s on an idle core
    pos, ene = regenerate_frames(data, chain, n)
    sel = np.flatnonzero(data.chain == chain)
    sel = sel[np.argsort(data.frame_in_chain[sel])][:n]
    assert np.allclose(pos, data.positions[sel], atol=1e-8, rtol=0)
    assert np.abs(ene - data.energies[sel]).max() < 1e-8


def test_seed_index_is_fixed_for_the_older_molecules():
    # adding aspirin must not change the chain seeds of the shipped malondialdehyde and water files
    for m in ("malondialdehyde", "water"):
        assert load(m).provenance["chain_seeds"][0] == 2025 + 1000 * SEED_INDEX[m]
