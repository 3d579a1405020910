"""The GFN2-xTB control (research.xtb_control): enol conformer coordinate, the GP runs' protocol (run_nvt), the
CLI's --out and merge, the shipped results of the retired driver."""

import numpy as np
import pytest

from npsnn_edu.errors import DataFormatError, InvalidParameterError, ShapeMismatchError, UnknownNameError
from npsnn_edu.gpr.data import load, make_calculator
from npsnn_edu.gpr.experiments import run_nvt
from npsnn_edu.precomputed import RESULTS_DIR, load_result
from research.xtb_control import (
    CHECK_EVERY,
    CHECKPOINT_FS,
    ENOL_ATOMS,
    PROTOCOL,
    conformer_statistics,
    enol_conformer,
    main,
    run_control,
    run_record,
)

H, (O1, O2), (C1, C3), C2 = ENOL_ATOMS["h"], ENOL_ATOMS["oxygens"], ENOL_ATOMS["carbons"], ENOL_ATOMS["central"]


@pytest.fixture(scope="module")
def ref():
    return load("malondialdehyde").reference_positions.copy()


def _rotate_about(x, axis_a, axis_b, atom, degrees):
    """Rotate atom ``atom`` of x about the axis through atoms axis_a -> axis_b (Rodrigues)."""
    x = x.copy()
    k = x[axis_b] - x[axis_a]
    k /= np.linalg.norm(k)
    v = x[atom] - x[axis_b]
    t = np.radians(degrees)
    x[atom] = x[axis_b] + v * np.cos(t) + np.cross(k, v) * np.sin(t) + k * np.dot(k, v) * (1 - np.cos(t))
    return x


def test_reference_geometry_is_the_closed_enol_on_o2(ref):
    c = enol_conformer(ref)
    assert (c.carrier, c.open, c.rotated, c.label) == (1, False, False, "closed-O2")
    assert 0.9 < c.donor_A < 1.05 and 1.5 < c.acceptor_A < 2.0
    from ase import Atoms
    a = Atoms(load("malondialdehyde").symbols, positions=ref)
    # torsion agrees with ASE's dihedral (peer implementation), modulo the sign convention
    assert abs(abs(c.torsion_deg) - min(a.get_dihedral(H, O2, C3, C2), 360 - a.get_dihedral(H, O2, C3, C2))) < 1e-6


def test_rotated_open_and_transferred_geometries(ref):
    rot = _rotate_about(ref, C3, O2, H, 180.0)  # O-H rotated away about the C3-O2 bond
    c = enol_conformer(rot)
    assert c.rotated and c.open and c.carrier == 1 and c.label == "open-O2"
    assert abs(abs(c.torsion_deg) - 180.0) < 1.0 and c.acceptor_A > 3.0
    assert abs(c.donor_A - enol_conformer(ref).donor_A) < 1e-9  # rotation keeps the O-H length
    half = _rotate_about(ref, C3, O2, H, 60.0)
    assert not enol_conformer(half).rotated
    from ase import Atoms
    a = Atoms(["C"] * 3 + ["O"] * 2 + ["H"] * 4, positions=half)
    ase_deg = a.get_dihedral(H, O2, C3, C2)  # peer implementation, in [0, 360)
    assert abs(abs(enol_conformer(half).torsion_deg) - min(ase_deg, 360 - ase_deg)) < 1e-6
    assert abs(abs(enol_conformer(half).torsion_deg) - 60.0) < 5.0
    # open by the backbone: O1 pulled away from the proton, O-H torsion untouched
    opened = ref.copy()
    opened[O1] += 1.2 * (ref[O1] - ref[H]) / np.linalg.norm(ref[O1] - ref[H])
    c = enol_conformer(opened)
    assert c.open and not c.rotated and c.carrier == 1 and c.acceptor_A > 2.5
    assert not enol_conformer(opened, hbond_cutoff_A=4.0).open
    # proton transferred to O1 (the other tautomer), still H-bonded
    moved = ref.copy()
    u = (ref[O2] - ref[O1]) / np.linalg.norm(ref[O2] - ref[O1])
    moved[H] = ref[O1] + 0.98 * u
    c = enol_conformer(moved)
    assert (c.carrier, c.open, c.label) == (0, False, "closed-O1") and abs(c.donor_A - 0.98) < 1e-9


def test_series_matches_single_frames_and_counts_transfers(ref):
    u = ref[O1] - ref[O2]
    ts = np.r_[np.linspace(0.0, 1.0, 21), np.linspace(1.0, 0.0, 21)]
    series = np.repeat(ref[None], len(ts), axis=0)
    d_oo = np.linalg.norm(u)
    # H slides on the O2-O1 line from 0.98 A off O2 to 0.98 A off O1 and back: two transfers
    series[:, H] = ref[O2] + (0.98 + ts[:, None] * (d_oo - 1.96)) * u / d_oo
    conf = enol_conformer(series)
    for k in (0, 10, 20, 30):
        single = enol_conformer(series[k])
        assert conf.carrier[k] == single.carrier and conf.open[k] == single.open
        assert conf.label[k] == single.label
    stats = conformer_statistics(series)
    assert stats["proton_transfers"] == 2 and stats["n_samples"] == len(ts)
    assert abs(sum(stats["carrier_fractions"]) - 1) < 1e-12 and abs(sum(stats["label_fractions"].values()) - 1) < 1e-12
    # rattling around the midpoint without reaching either oxygen is not a transfer
    rattle = np.repeat(ref[None], 40, axis=0)
    s = 0.5 + 0.03 * np.sin(np.arange(40))
    rattle[:, H] = ref[O2] + s[:, None] * u
    assert conformer_statistics(rattle)["proton_transfers"] == 0


def test_enol_conformer_bad_input(ref):
    with pytest.raises(ShapeMismatchError, match="9, 3"):
        enol_conformer(np.zeros((21, 3)))
    with pytest.raises(InvalidParameterError):
        enol_conformer(np.full((9, 3), np.nan))
    with pytest.raises(InvalidParameterError):
        enol_conformer(ref, hbond_cutoff_A=-1.0)
    with pytest.raises(ShapeMismatchError):
        conformer_statistics(ref)


def test_control_runs_the_gp_protocol_and_is_deterministic():
    """The control IS run_nvt with GFN2-xTB: the kit's BAOAB, default_rng(seed), the crash check every 20 steps."""
    a = run_control("malondialdehyde", 1000.0, seed=0, duration_fs=100.0)
    ref = load("malondialdehyde").reference_atoms()
    direct = run_nvt(make_calculator(), ref, 1000.0, duration_fs=100.0, seed=0, check_every=CHECK_EVERY,
                     record_every_fs=CHECK_EVERY * 0.5)
    assert np.array_equal(a.frames, direct.frames) and np.array_equal(a.times_fs, direct.times_fs)
    assert a.prior == "xtb" and a.engine == "core" and a.thermostat == "langevin" and CHECK_EVERY == 20
    assert a.n_steps == 200 and len(a.frames) == 11 and np.allclose(np.diff(a.times_fs), 10.0)
    assert not a.crashed and a.reason is None and 0.0 < a.max_deviation_A < 0.5
    b = run_control("malondialdehyde", 1000.0, seed=0, duration_fs=40.0)  # same seed: the same path, bit for bit
    assert np.array_equal(a.frames[: len(b.frames)], b.frames)
    c = run_control("malondialdehyde", 1000.0, seed=1, duration_fs=10.0)
    assert not np.allclose(c.frames[-1], a.frames[1])  # another seed, another trajectory (t = 10 fs both)
    rec = run_record(a, "malondialdehyde", 0.5)
    assert rec["simulated_ps"] == 0.1 and rec["crashed"] is False and rec["mean_temperature_K"] is None
    k = int(np.flatnonzero(a.times_fs == CHECKPOINT_FS)[0])
    assert np.allclose(rec["checkpoint_positions_A"], a.frames[k], atol=1e-9, rtol=0)
    assert rec["max_bonded_deviation_A"] == round(a.max_deviation_A, 6)
    assert rec["proton_transfers"] == conformer_statistics(a.frames)["proton_transfers"]
    assert run_record(a, "aspirin", 0.5)["open_enol_fraction"] is None  # enol keys only for malondialdehyde


def test_control_bad_input():
    with pytest.raises(UnknownNameError):
        run_control("benzene")
    with pytest.raises(InvalidParameterError):
        run_control("malondialdehyde", -5.0)
    with pytest.raises(InvalidParameterError):
        run_control("malondialdehyde", 300.0, duration_fs=0.0)


ENTRY_KEYS = {"temperature_K", "seeds", "n_runs", "crashes", "n_crashes", "crash_fraction", "time_to_crash_fs",
              "crash_reasons", "max_bonded_deviation_A", "max_bonded_deviation_A_max", "open_enol_fraction",
              "open_enol_fraction_mean", "rotated_enol_fraction", "carrier_fractions", "label_fractions",
              "proton_transfers", "mean_temperature_K", "duration_ps", "simulated_ps", "dt_fs", "friction_per_fs",
              "check_every_steps", "ms_per_step", "ms_per_step_median", "checkpoint_fs", "checkpoint_positions_A",
              "runs"}


@pytest.mark.parametrize("molecule", ["malondialdehyde", "aspirin"])
def test_shipped_control_has_the_documented_keys(molecule):
    r = load_result(f"xtb_control_{molecule}")
    # the provenance reruns it with the research driver, and says the numbers came from the retired one
    assert "python -m research.xtb_control" in r.command and "--out npsnn_edu/data/results" in r.command
    assert "--save" not in r.command and r.provenance["seeds"]
    made = r.provenance["produced_by"]
    assert "retired" in made["driver"] and "ASE Langevin" in made["protocol"] and "RandomState" in made["protocol"]
    assert all("npsnn_edu.gpr.control" in c for c in made["commands"]) and "retired driver" in r.provenance["notes"]
    assert r.data["protocol"] != PROTOCOL and "retired" in r.data["protocol"]["driver"]
    d = r.data
    assert d["molecule"] == molecule and set(d["protocol"]) >= {"thermostat", "start", "criterion"}
    assert "1000" in d["temperatures"] and len(d["commands"]) >= 1
    for e in d["temperatures"].values():
        assert set(e) == ENTRY_KEYS
        n = e["n_runs"]
        assert n >= 2 and len(e["seeds"]) == n == len(e["crashes"]) == len(e["max_bonded_deviation_A"])
        # malondialdehyde: 10 ps runs; aspirin: 2 ps runs (what the time allowed on the shared machine)
        assert e["duration_ps"] >= (10 if molecule == "malondialdehyde" else 2)
        assert e["dt_fs"] == 0.5 and e["friction_per_fs"] == 0.02
        assert e["crash_fraction"] == pytest.approx(np.mean(e["crashes"]))
        assert e["n_crashes"] == sum(e["crashes"])
        for crashed, dev, ps, t in zip(e["crashes"], e["max_bonded_deviation_A"], e["simulated_ps"],
                                       e["time_to_crash_fs"]):
            if not crashed:  # a run the criterion let through never deviated beyond its 0.5 A tolerance
                assert dev <= 0.5 and ps == pytest.approx(e["duration_ps"]) and t is None
        assert all(0.8 * e["temperature_K"] < t < 1.2 * e["temperature_K"] for t in e["mean_temperature_K"])
        if molecule == "malondialdehyde":
            assert all(0 <= f <= 1 for f in e["open_enol_fraction"])
            assert e["open_enol_fraction_mean"] == pytest.approx(np.mean(e["open_enol_fraction"]))
            assert all(isinstance(p, int) and p >= 0 for p in e["proton_transfers"])
        else:
            assert e["open_enol_fraction"] is None and e["proton_transfers"] is None


def test_cli_writes_where_told_and_merges_seeds(tmp_path, capsys):
    import json
    import shutil

    out = tmp_path / "ctrl"
    for s in ("0", "1"):
        assert main(["--temperatures", "600", "--seeds", s, "--duration-ps", "0.005", "--out", str(out)]) == 0
        printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert printed["wrote"] == str(out / "xtb_control_malondialdehyde.json") and "--save" not in printed["command"]
        assert printed["command"].endswith(f"--out {out}") and printed["summary"]["600"]["crash_fraction"] == 0.0
    d = load_result("xtb_control_malondialdehyde", directory=out)
    e = d.data["temperatures"]["600"]
    assert e["seeds"] == [0, 1] and e["n_runs"] == 2 and len(d.data["commands"]) == 2 and set(e) == ENTRY_KEYS
    assert e["check_every_steps"] == CHECK_EVERY and d.data["protocol"] == PROTOCOL
    assert d.provenance["seeds"] == [0, 1] and "--seeds 1" in d.provenance["command"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ctrl"]  # nothing written anywhere else
    # --out is required; a file of another protocol (the shipped one of the retired driver) is never merged into
    with pytest.raises(SystemExit):
        main(["--temperatures", "600", "--seeds", "0", "--duration-ps", "0.005"])
    old = tmp_path / "old"
    old.mkdir()
    shutil.copy(RESULTS_DIR / "xtb_control_malondialdehyde.json", old)
    with pytest.raises(DataFormatError, match="another protocol"):
        main(["--temperatures", "600", "--seeds", "0", "--duration-ps", "0.005", "--out", str(old)])


def test_experiments_reads_the_shipped_control_as_the_model_table_needs():
    """The crash table's control row comes from the shipped file: the reference itself survives the criterion."""
    from npsnn_edu.gpr.experiments import HBOND_CUTOFF_A, enol_acceptor_distance, load_xtb_control

    ctrl = load_xtb_control("malondialdehyde", 1000)
    assert ctrl is not None and ctrl["n_runs"] >= 2 and ctrl["crash_fraction"] == 0.0
    assert 0.0 < ctrl["max_bonded_deviation_A"] < 0.5 and 0.0 < ctrl["open_enol_fraction"] < 0.5
    assert ctrl["max_bonded_deviation_A"] == max(ctrl["raw"]["max_bonded_deviation_A"])
    for T in (300, 600):  # the crash table's other temperatures have their control too
        low = load_xtb_control("malondialdehyde", T)
        assert low is not None and low["crash_fraction"] == 0.0 and low["n_runs"] >= 2
        assert low["max_bonded_deviation_A"] < ctrl["max_bonded_deviation_A"]  # colder: smaller excursions
    assert load_xtb_control("malondialdehyde", 450) is None  # not shipped at 450 K
    # one conformer definition: the detailed classifier and the model runs' coordinate agree
    import numpy as np

    from npsnn_edu.gpr.data import load

    frames = load("malondialdehyde").subset("train", 200)[0]
    assert np.array_equal(enol_conformer(frames).open, enol_acceptor_distance(frames) > HBOND_CUTOFF_A)
