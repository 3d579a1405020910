"""Shipped chapter-3 reference data: provenance, shapes, splits, and regeneration from the seed."""

import numpy as np
import pytest

from npsnn_edu.errors import DataFormatError, UnknownNameError
from npsnn_edu.gpr.data import MOLECULES, data_path, load, make_calculator, regenerate_frames


@pytest.mark.parametrize("molecule,n_atoms", [("malondialdehyde", 9), ("water", 3)])
def test_shipped_data_shapes_and_provenance(molecule, n_atoms):
    d = load(molecule)
    n = len(d.energies)
    assert d.positions.shape == (n, n_atoms, 3) and d.forces.shape == (n, n_atoms, 3)
    assert np.all(np.isfinite(d.positions)) and np.all(np.isfinite(d.energies)) and np.all(np.isfinite(d.forces))
    assert (d.split == 0).sum() >= 1000 and (d.split == 1).sum() >= 250 and (d.split == 2).sum() >= 500
    assert sorted(set(d.temperature_K.tolist())) == [300.0, 600.0, 1000.0]
    p = d.provenance
    assert p["method"] == "GFN2-xTB" and p["molecule"] == molecule
    for key in ("tblite", "ase", "numpy"):
        assert p["versions"][key]
    assert p["settings"]["seed"] == 2025 and len(p["chain_seeds"]) == 6 and p["date_utc"].startswith("20")
    assert "--regenerate" in p["regenerate"]
    assert set(p["isolated_atom_energies_eV"]) == set(d.symbols)
    assert data_path(molecule).stat().st_size < 2_000_000
    # frames are decorrelated enough that consecutive frames of one chain differ clearly
    same_chain = d.chain[1:] == d.chain[:-1]
    step = np.abs(d.positions[1:] - d.positions[:-1]).max(axis=(1, 2))[same_chain]
    assert np.median(step) > 0.05


def test_energies_are_consistent_with_forces_along_the_chain():
    """Independent check of the stored data: dE ~ -F.dx between nearby geometries (trapezoid rule)."""
    d = load("water")
    sel = np.flatnonzero((d.chain == 0))[:50]
    X, E, F = d.positions[sel], d.energies[sel], d.forces[sel]
    calc = make_calculator()
    from ase import Atoms
    # take one geometry and a small displacement, compare with the xTB energy change
    a = Atoms(d.symbols, positions=X[0])
    a.calc = calc
    assert abs(a.get_potential_energy() - E[0]) < 1e-8
    # forces depend on the SCC convergence (the MD run warm-starts from the previous step): ~1e-5 eV/A
    assert np.allclose(a.get_forces(), F[0], atol=1e-4)
    dx = 1e-3 * np.random.default_rng(0).normal(size=X[0].shape)
    a.set_positions(X[0] + dx)
    e1 = a.get_potential_energy()
    f1 = a.get_forces()
    assert abs((e1 - E[0]) - (-0.5 * np.sum((F[0] + f1) * dx))) < 1e-6


@pytest.mark.parametrize("molecule", ["malondialdehyde", "water"])
def test_regenerating_a_few_frames_reproduces_the_shipped_file(molecule):
    d = load(molecule)
    chain = 3
    n = 3
    pos, ene = regenerate_frames(d, chain, n)
    sel = np.flatnonzero(d.chain == chain)
    sel = sel[np.argsort(d.frame_in_chain[sel])][:n]
    assert np.allclose(pos, d.positions[sel], atol=1e-8, rtol=0)
    assert np.abs(ene - d.energies[sel]).max() < 1e-8


def test_bad_names_and_missing_files(tmp_path):
    with pytest.raises(UnknownNameError):
        load("benzene")
    with pytest.raises(DataFormatError):
        load("water", path=tmp_path / "nope.npz")
    bad = tmp_path / "bad.npz"
    np.savez(bad, energies=np.zeros(3))
    with pytest.raises(DataFormatError, match="misses"):
        load("water", path=bad)
    with pytest.raises(UnknownNameError):
        load("water").subset("training")
    assert set(MOLECULES) == {"malondialdehyde", "water", "aspirin", "capped_glycine", "alanine_dipeptide",
                              "capped_serine"}
    with pytest.raises(DataFormatError, match="--regenerate --molecule capped_glycine --out DIR"):
        load("capped_glycine", path=tmp_path / "gone.npz")  # a missing file: the message says how to make it


def test_manifest_matches_the_shipped_files():
    import hashlib
    import json

    from npsnn_edu.gpr.data import data_dir

    manifest = json.loads((data_dir() / "gpr_datasets.json").read_text())
    assert set(manifest["files"]) == {"gpr_malondialdehyde.npz", "gpr_water.npz", "gpr_aspirin.npz",
                                      "gpr_alanine_dipeptide.npz", "gpr_capped_serine.npz", "gpr_capped_glycine.npz"}
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((data_dir() / name).read_bytes()).hexdigest() == entry["sha256"], (
            f"{name} changed since the manifest was written; regenerate both with "
            "`python -m npsnn_edu.gpr.data --regenerate`")
        assert entry["split_counts"] == {"train": 1000, "val": 250, "test": 500}


@pytest.mark.parametrize("kind", ["text", "truncated", "single_array", "bad_provenance", "bad_shape"])
def test_load_of_a_malformed_npz_raises_the_kits_data_format_error(tmp_path, kind):
    """Issue 19 item 7: whatever is wrong with the file, `load(path=...)` raises DataFormatError (never numpy's
    own error), and the message says how to get a good file."""
    good = data_path("water")
    path = tmp_path / "bad.npz"
    if kind == "text":
        path.write_text("not an archive")
    elif kind == "truncated":
        path.write_bytes(good.read_bytes()[:500])
    elif kind == "single_array":
        path = tmp_path / "bad.npy"
        np.save(path, np.zeros(3))
    else:
        with np.load(good, allow_pickle=False) as z:
            fields = {k: z[k] for k in z.files}
        if kind == "bad_provenance":
            fields["provenance"] = np.array("{not json")
        else:
            fields["forces"] = fields["forces"][:, :2]
        np.savez(path, **fields)
    with pytest.raises(DataFormatError, match="regenerate") as info:
        load("water", path=path)
    assert str(path) in str(info.value)


def test_load_of_a_well_formed_copy_still_works(tmp_path):
    path = tmp_path / "copy.npz"
    path.write_bytes(data_path("water").read_bytes())
    assert len(load("water", path=path).energies) == len(load("water").energies)
