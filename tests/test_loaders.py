"""Typed edges (issue 19, item 7): every loader of the package raises DataFormatError on a malformed file (empty,
truncated, not the format, wrong keys, wrong shapes), with a message that says what to do."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from npsnn_edu.errors import DataFormatError
from npsnn_edu.precomputed import RESULTS_DIR, load_result

GARBAGE = bytes(range(256)) * 4  # not UTF-8, not a zip archive, not JSON


def _write(path: Path, content: "bytes | str") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def _truncated(src: Path) -> bytes:
    data = src.read_bytes()
    return data[: len(data) // 2]


# ----------------------------------------------------------------------------- shipped results
SHIPPED = RESULTS_DIR / "xtb_control_aspirin.json"


@pytest.mark.parametrize("content", [
    b"", _truncated(SHIPPED), GARBAGE, "[]", '"a string"', '{"name": "x", "data": {}}',
    '{"name": "x", "data": {}, "provenance": "not a dict"}',
], ids=["empty", "truncated", "binary", "list", "string", "no_provenance", "provenance_not_dict"])
def test_load_result(tmp_path, content):
    _write(tmp_path / "bad.json", content)
    with pytest.raises(DataFormatError, match="regenerate"):
        load_result("bad", directory=tmp_path)


@pytest.mark.parametrize("content", [b"", GARBAGE, '{"name": "x", "data": [], "provenance": {}}'],
                         ids=["empty", "binary", "no_temperatures"])
def test_shipped_xtb_control_reader(tmp_path, monkeypatch, content):
    """load_xtb_control answers None only when nothing is shipped; a malformed file is an error, not "absent"."""
    import npsnn_edu.precomputed as pc
    from npsnn_edu.gpr.experiments import load_xtb_control

    monkeypatch.setattr(pc, "RESULTS_DIR", tmp_path)
    assert load_xtb_control("malondialdehyde") is None
    _write(tmp_path / "xtb_control_malondialdehyde.json", content)
    with pytest.raises(DataFormatError, match="regenerate"):
        load_xtb_control("malondialdehyde")


def test_structure_file_for_generate(tmp_path):
    from npsnn_edu.gpr.data import resolve_molecule

    for name, content in (("empty.xyz", b""), ("garbage.xyz", "3\nnot a frame\nX 1 2\n"), ("bin.pdb", GARBAGE)):
        with pytest.raises(DataFormatError, match="ASE|empty|atoms"):
            resolve_molecule(_write(tmp_path / name, content))


# ----------------------------------------------------------------------------- chapter 3 data sets
def _npz(tmp_path: Path, **fields) -> Path:
    path = tmp_path / "data.npz"
    np.savez(path, **fields)
    return path


def _good_fields() -> dict:
    from npsnn_edu.gpr.data import data_path

    with np.load(data_path("malondialdehyde"), allow_pickle=False) as z:
        return {k: z[k][:20] if z[k].ndim and len(z[k]) > 100 else z[k] for k in z.files}


def test_gpr_data_load_reads_a_good_file(tmp_path):
    from npsnn_edu.gpr.data import load

    d = load(path=_npz(tmp_path, **_good_fields()))
    assert d.positions.shape == (20, 9, 3) and d.symbols[0] == "C"


@pytest.mark.parametrize("case", ["empty", "truncated", "binary", "text", "single_array", "missing_key",
                                  "positions_2d", "forces_shape", "split_length", "provenance_not_json",
                                  "symbols_count"])
def test_gpr_data_load(tmp_path, case):
    from npsnn_edu.gpr.data import data_path, load

    f = _good_fields()
    if case == "empty":
        path = _write(tmp_path / "d.npz", b"")
    elif case == "truncated":
        path = _write(tmp_path / "d.npz", _truncated(data_path("malondialdehyde")))
    elif case == "binary":
        path = _write(tmp_path / "d.npz", GARBAGE)
    elif case == "text":
        path = _write(tmp_path / "d.npz", "positions,energies\n1,2\n")
    elif case == "single_array":
        path = tmp_path / "d.npy"
        np.save(path, f["positions"])
    else:
        if case == "missing_key":
            del f["forces"]
        elif case == "positions_2d":
            f["positions"] = f["positions"].reshape(20, -1)
        elif case == "forces_shape":
            f["forces"] = f["forces"][:, :5]
        elif case == "split_length":
            f["split"] = f["split"][:3]
        elif case == "provenance_not_json":
            f["provenance"] = np.array("{not json")
        elif case == "symbols_count":
            f["symbols"] = f["symbols"][:4]
        path = _npz(tmp_path, **f)
    with pytest.raises(DataFormatError, match="regenerate|pass the path"):
        load(path=path)


# ----------------------------------------------------------------------------- campaign store
@pytest.mark.parametrize("content", [
    GARBAGE, b"{not json}\n" + b'{"key": "a", "status": "done"}\n', b'[1, 2]\n{"key": "a"}\n',
    b'{"no_key": 1}\n{"key": "a"}\n', b'{"key": "a", "status": "done"}\n{"key": "b", "status": "done"}\n',
], ids=["binary", "garbage_line", "not_an_object", "no_key", "done_without_result"])
def test_campaign_store(tmp_path, content):
    from npsnn_edu.gpr.campaign import read_store, summarize_store

    path = _write(tmp_path / "store.jsonl", content)
    with pytest.raises(DataFormatError, match="campaign"):
        read_store(path)
    with pytest.raises(DataFormatError, match="campaign"):
        summarize_store(path)


def test_campaign_summary_of_a_record_without_its_fields(tmp_path):
    from npsnn_edu.gpr.campaign import summarize_store

    rec = {"key": "a", "status": "done", "job": {"molecule": "malondialdehyde"}, "result": {"prior": "MF5"}}
    path = _write(tmp_path / "store.jsonl", json.dumps(rec) + "\n")
    with pytest.raises(DataFormatError, match="lacks"):
        summarize_store(path)


def test_campaign_store_tolerates_only_a_torn_last_line(tmp_path):
    from npsnn_edu.gpr.campaign import read_store

    path = _write(tmp_path / "store.jsonl", b'{"key": "a", "status": "failed", "job": {}}\n{"key": "b", "sta')
    assert list(read_store(path)) == ["a"]


# ----------------------------------------------------------------------------- trajectories
@pytest.fixture
def traj_file(tmp_path):
    from npsnn_edu.integrators import simulate
    from npsnn_edu.potentials import Harmonic
    from npsnn_edu.trajectory import Trajectory  # noqa: F401 - the class under test

    tr = simulate(Harmonic(), np.array([[1.0]]), np.array([[0.0]]), dt=0.1, n_steps=10, progress=False)
    return tr.save_npz(tmp_path / "good.npz")


@pytest.mark.parametrize("case", ["empty", "truncated", "binary", "missing_key", "bad_meta", "positions_shape",
                                  "xyz_empty", "xyz_garbage"])
def test_trajectory_readers(tmp_path, traj_file, case):
    from npsnn_edu.trajectory import Trajectory

    path = tmp_path / "t.npz"
    if case == "empty":
        _write(path, b"")
    elif case == "truncated":
        _write(path, _truncated(traj_file))
    elif case == "binary":
        _write(path, GARBAGE)
    else:
        with np.load(traj_file, allow_pickle=False) as z:
            f = {k: z[k] for k in z.files}
        if case == "missing_key":
            del f["velocities"]
        elif case == "bad_meta":
            f["meta"] = np.array(json.dumps({"dt": 0.1}))
        elif case == "positions_shape":
            f["positions"] = f["positions"][:3]
        elif case == "xyz_empty":
            path = _write(tmp_path / "t.xyz", b"")
        elif case == "xyz_garbage":
            path = _write(tmp_path / "t.xyz", "3\nnot a frame\nX 1 2\n")
        if path.suffix == ".npz":
            np.savez(path, **f)
    with pytest.raises(DataFormatError):
        Trajectory.read(path)


# ----------------------------------------------------------------------------- notebooks, quizzes, course files
BAD_NOTEBOOKS = {"empty": b"", "binary": GARBAGE, "not_json": "{cells: [", "no_cells": '{"nbformat": 4}',
                 "list": "[]"}


@pytest.mark.parametrize("case", sorted(BAD_NOTEBOOKS))
def test_notebook_readers(tmp_path, case):
    from npsnn_edu.course import assignments, lesson_stats, notebook_runner

    path = _write(tmp_path / "nb" / "bad.ipynb", BAD_NOTEBOOKS[case])
    with pytest.raises(DataFormatError, match="bad.ipynb"):
        lesson_stats.read_notebook(path)
    with pytest.raises(DataFormatError, match="bad.ipynb"):
        notebook_runner.read_notebook_file(path)
    with pytest.raises(DataFormatError, match="bad.ipynb"):
        assignments.generate([path], tmp_path / "student")
    with pytest.raises(DataFormatError, match="bad.ipynb"):
        assignments.write_nbgrader_course([path], tmp_path / "course")
    with pytest.raises(DataFormatError, match="bad.ipynb"):
        assignments.self_test(path, echo=False)
    with pytest.raises(DataFormatError, match="bad.ipynb"):
        notebook_runner.run_notebooks([path], tmp_path / "out", echo=False)
    assert assignments.main([str(path)]) == 1  # the CLI reports it and goes on


@pytest.mark.parametrize("content", [b"", GARBAGE, "{", "[]", '[{"question": 1}]'],
                         ids=["empty", "binary", "truncated", "empty_list", "wrong_keys"])
def test_quiz_loader(tmp_path, content):
    from npsnn_edu.viz.quiz import load_quiz

    with pytest.raises(DataFormatError):
        load_quiz(_write(tmp_path / "q.json", content))


@pytest.mark.parametrize("content", [GARBAGE, b"\xff\xfe"], ids=["binary", "bom_only"])
def test_mode_file(tmp_path, monkeypatch, content):
    from npsnn_edu import config

    monkeypatch.delenv(config.MODE_ENV_VAR, raising=False)
    monkeypatch.delenv(config.FAST_ENV_VAR, raising=False)
    monkeypatch.setattr(config, "_session_mode", None)
    _write(tmp_path / config.MODE_FILE, content)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataFormatError, match=config.MODE_FILE):
        config.mode_source()


# ----------------------------------------------------------------------------- saved spiking models
def _checkpoint_cases(tmp_path: Path, good: Path) -> dict[str, Path]:
    out = {}
    for case in ("empty", "binary", "list", "wrong_format", "weights_truncated", "weights_garbage", "entry_list",
                 "entry_missing"):
        d = tmp_path / case
        shutil.copytree(good, d)
        meta = json.loads((good / "config.json").read_text())
        if case == "empty":
            _write(d / "config.json", b"")
        elif case == "binary":
            _write(d / "config.json", GARBAGE)
        elif case == "list":
            _write(d / "config.json", "[]")
        elif case == "wrong_format":
            _write(d / "config.json", json.dumps({**meta, "format": "something/else"}))
        elif case in ("entry_list", "entry_missing"):  # the saved problem / family entry is malformed
            key = "problem" if "problem" in meta else "family"
            entry = meta[key]
            bad = [1, 2] if case == "entry_list" else {k: v for k, v in list(entry.items())[1:]}
            _write(d / "config.json", json.dumps({**meta, key: bad}))
        elif case == "weights_truncated":
            _write(d / "weights.pt", _truncated(good / "weights.pt"))
        elif case == "weights_garbage":
            _write(d / "weights.pt", GARBAGE)
        out[case] = d
    return out


def test_spiking_trainer_load(tmp_path):
    from npsnn_edu.spiking import Trainer, get_problem
    from npsnn_edu.spiking.training import TrainConfig

    tr = Trainer(get_problem("harmonic"), TrainConfig(), device="cpu")
    good = tr.save(tmp_path / "good")
    for case, d in _checkpoint_cases(tmp_path, good).items():
        with pytest.raises(DataFormatError, match="save|weights"):
            Trainer.load(d)
        assert case


def test_spiking_operator_load(tmp_path):
    from npsnn_edu.spiking.operator import OperatorConfig, OperatorTrainer
    from npsnn_edu.spiking.operator_families import get_family

    tr = OperatorTrainer(get_family("harmonic"), OperatorConfig(), device="cpu")
    good = tr.save(tmp_path / "good")
    for _case, d in _checkpoint_cases(tmp_path, good).items():
        with pytest.raises(DataFormatError, match="save|weights"):
            OperatorTrainer.load(d)
