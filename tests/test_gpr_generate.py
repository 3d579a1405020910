"""Any molecule: gpr.data.generate / generate_file / the `generate` command, checkpoints, and bad input."""
from __future__ import annotations

import json

import numpy as np
import pytest
from ase import Atoms

from npsnn_edu.errors import DataFormatError, InvalidParameterError, UnknownNameError
from npsnn_edu.gpr import data as gd

TINY = gd.GenerationSettings.sized(3, temperatures_K=(300.0,), chains_per_temperature=2, n_equil=10, stride=2)


def test_sized_settings_split_all_frames_in_the_kit_proportions():
    s = gd.GenerationSettings.sized(70, temperatures_K=(300.0,), chains_per_temperature=1)
    assert (s.n_train, s.n_val, s.n_test) == (40, 10, 20)
    assert gd.GenerationSettings.sized(5, n_train=3).n_train == 3
    with pytest.raises(InvalidParameterError, match="frames_per_chain"):
        gd.GenerationSettings.sized(0)


@pytest.mark.parametrize(("symbol", "mult"), [("H", 2), ("He", 1), ("C", 3), ("N", 4), ("O", 3), ("F", 2),
                                              ("Ne", 1), ("Na", 2), ("P", 4), ("S", 3), ("Cl", 2), ("Fe", 5),
                                              ("Zn", 1), ("Br", 2), ("I", 2)])
def test_hund_multiplicity_matches_the_known_ground_states(symbol, mult):
    from ase.data import atomic_numbers

    assert gd.hund_multiplicity(atomic_numbers[symbol]) == mult
    if symbol in gd.ATOM_MULTIPLICITY:
        assert gd.ATOM_MULTIPLICITY[symbol] == mult


def test_generate_file_any_molecule_round_trip_against_an_independent_xtb_call(tmp_path):
    out = gd.generate_file("CH3OH", tmp_path / "methanol.npz", TINY, progress=False)
    d = gd.load(path=out)
    assert d.molecule == "CH3OH" and len(d.energies) == 6 and d.positions.shape == (6, 6, 3)
    assert sorted(np.bincount(d.split + 1)[1:].tolist()) == sorted([TINY.n_train, TINY.n_val, TINY.n_test])
    p = d.provenance
    assert p["charge"] == 0 and p["multiplicity"] == 1 and len(p["chain_seeds"]) == 2
    assert {"tblite", "ase", "numpy"} <= set(p["versions"]) and p["settings"]["frames_per_chain"] == 3
    assert not (tmp_path / "methanol.npz.partial").exists()
    # independent reference: a fresh tblite calculator on a stored frame
    from tblite.ase import TBLite

    k = 4
    atoms = Atoms(d.symbols, positions=d.positions[k])
    atoms.calc = TBLite(method="GFN2-xTB", verbosity=0)
    assert atoms.get_potential_energy() == pytest.approx(d.energies[k], abs=1e-6)
    np.testing.assert_allclose(atoms.get_forces(), d.forces[k], atol=1e-4)  # SCF tolerance
    # frames were sampled at the temperatures asked for, and the free-atom energies cover every element
    assert set(d.temperature_K.tolist()) == {300.0} and set(d.isolated_atom_energies) == {"C", "H", "O"}


def test_a_charged_molecule_is_run_with_its_charge(tmp_path):
    out = gd.generate_file("OH", tmp_path / "hydroxide.npz",
                           gd.GenerationSettings.sized(2, temperatures_K=(300.0,), chains_per_temperature=1,
                                                       n_equil=5, stride=2), charge=-1, progress=False)
    d = gd.load(path=out)
    assert d.provenance["charge"] == -1 and d.provenance["multiplicity"] == 1
    from tblite.ase import TBLite

    atoms = Atoms(d.symbols, positions=d.positions[0])
    atoms.calc = TBLite(method="GFN2-xTB", verbosity=0, charge=-1.0)
    assert atoms.get_potential_energy() == pytest.approx(d.energies[0], abs=1e-6)
    radical = Atoms(d.symbols, positions=d.positions[0])  # the neutral radical differs
    radical.calc = TBLite(method="GFN2-xTB", verbosity=0, charge=0.0, multiplicity=2)
    assert abs(radical.get_potential_energy() - d.energies[0]) > 0.1


def test_an_interrupted_generation_resumes_without_redoing_finished_chains(tmp_path, monkeypatch):
    real = gd.run_chain
    calls = []

    def failing_second_chain(*args, **kwargs):
        calls.append(args[2])
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        return real(*args, **kwargs)

    out = tmp_path / "m.npz"
    monkeypatch.setattr(gd, "run_chain", failing_second_chain)
    with pytest.raises(KeyboardInterrupt):
        gd.generate_file("CH3OH", out, TINY, progress=False)
    assert not out.exists(), "a half-done generation must not look complete"
    assert [f.name for f in (tmp_path / "m.npz.partial").iterdir()] == ["chain_0.npz"]
    assert not list(tmp_path.glob("*.tmp"))

    calls.clear()
    monkeypatch.setattr(gd, "run_chain", lambda *a, **k: (calls.append(a[2]), real(*a, **k))[1])
    gd.generate_file("CH3OH", out, TINY, progress=False)
    assert len(calls) == 1, "only the missing chain is run again"
    resumed = gd.load(path=out)
    assert resumed.provenance["resumed_chains"] == [0]

    monkeypatch.setattr(gd, "run_chain", real)
    fresh = gd.load(path=gd.generate_file("CH3OH", tmp_path / "fresh.npz", TINY, progress=False))
    np.testing.assert_array_equal(resumed.energies, fresh.energies)
    np.testing.assert_array_equal(resumed.split, fresh.split)


def test_a_stale_checkpoint_is_not_reused(tmp_path):
    out = tmp_path / "m.npz"
    part = tmp_path / "m.npz.partial"
    part.mkdir()
    np.savez(part / "chain_0.npz", positions=np.zeros((3, 6, 3)), energies=np.zeros(3), forces=np.zeros((3, 6, 3)),
             fingerprint=np.array("not-this-one"))
    with pytest.warns(RuntimeWarning, match="another molecule or other settings"):
        gd.generate_file("CH3OH", out, TINY, progress=False)
    assert np.all(gd.load(path=out).energies < -100)


def test_bad_input_gets_typed_errors_that_say_what_to_change(tmp_path):
    with pytest.raises(UnknownNameError, match="neither a file nor a known molecule name.*CH3CH2OH"):
        gd.resolve_molecule("unobtainium")
    with pytest.raises(InvalidParameterError, match="H to Rn.*Og"):
        gd.resolve_molecule(Atoms("OgH", positions=[[0, 0, 0], [0, 0, 1.5]]))
    with pytest.raises(InvalidParameterError, match=r"atoms 0 \(H\) and 1 \(H\) are 0.100 A apart \(overlapping"):
        gd.resolve_molecule(Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.1]]))
    empty = tmp_path / "empty.xyz"
    empty.write_text("")
    with pytest.raises(DataFormatError, match="empty"):
        gd.resolve_molecule(empty)
    junk = tmp_path / "junk.xyz"
    junk.write_text("this is not\na structure file\n")
    with pytest.raises(DataFormatError, match="could not read"):
        gd.resolve_molecule(junk)
    with pytest.raises(InvalidParameterError, match="no electrons"):
        gd.resolve_molecule("H2", charge=2)
    with pytest.raises(InvalidParameterError, match="must end in .npz"):
        gd.generate_file("H2", tmp_path / "h2.txt", TINY)
    with pytest.raises(InvalidParameterError, match="raise frames_per_chain"):
        gd.generate("H2", gd.GenerationSettings(frames_per_chain=1))
    assert not list(tmp_path.glob("h2*"))


def test_a_structure_file_is_read_with_ase(tmp_path):
    from ase.build import molecule
    from ase.io import write

    path = tmp_path / "water.xyz"
    write(path, molecule("H2O"))
    atoms, name = gd.resolve_molecule(path)
    assert name == "water" and atoms.get_chemical_formula() == "H2O"


def test_the_generate_command_writes_where_told_and_reports_errors(tmp_path, capsys):
    out = tmp_path / "sub" / "h2.npz"
    rc = gd.main(["generate", "H2", "--frames-per-chain", "2", "--temperatures", "300", "--chains-per-temperature",
                  "1", "--out", str(out), "--no-progress"])
    assert rc == 0 and out.exists()
    prov = json.loads(str(np.load(out)["provenance"]))
    assert prov["command"].startswith("OMP_NUM_THREADS=1 python -m npsnn_edu.gpr.data generate H2")
    assert gd.main(["generate", "unobtainium", "--out", str(tmp_path / "u.npz")]) == 2
    assert "neither a file nor a known molecule" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        gd.main(["--regenerate", "--molecule", "water"])  # never into the installed package: --out required


def test_a_molecule_of_your_own_gets_settings_validated_on_its_own_split(tmp_path):
    """No hand-validated settings needed: the lengthscale is chosen on the molecule's validation split, and the
    model it picks is more accurate on the test split than the worst grid lengthscale (the choice matters)."""
    from npsnn_edu.gpr.experiments import AUTO_SETTINGS, accuracy, build_models, model_settings, train_model

    settings = gd.GenerationSettings.sized(40, temperatures_K=(300.0, 600.0), chains_per_temperature=1, n_equil=20,
                                           stride=5)
    d = gd.load(path=gd.generate_file("CH3OH", tmp_path / "m.npz", settings, progress=False))
    assert model_settings(d.molecule) is AUTO_SETTINGS
    models = build_models(d, "force_trained", priors=("MF2", "MF5"))
    assert set(models) == {"MF2", "MF5"}
    grid = (0.3, 1.0, 3.0, 9.0)
    chosen = train_model(d, "MF5", n_force=10, lengthscales=grid)
    maes = {ls: accuracy(train_model(d, "MF5", n_force=10, lengthscale=ls), d)["energy_mae_kcal"] for ls in grid}
    assert accuracy(chosen, d)["energy_mae_kcal"] < max(maes.values())
    for m in models.values():
        assert np.isfinite(accuracy(m, d)["energy_mae_kcal"])
