"""scripts/bench_compare.py: the before/after comparison of two `make bench` logs that a maintainer's note quotes."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_compare", ROOT / "scripts" / "bench_compare.py")
bench_compare = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_compare)


def _log(*benchmarks):
    lines = ["start Sat Dec  5 load 0.5"]
    for command, records in benchmarks:
        lines.append(f".venv/bin/python benchmarks/{command}")
        lines.append("| a table | 1.0 |")
        lines.extend(json.dumps(r) for r in records)
    return "\n".join(lines) + "\n"


BEFORE = _log(("md_vs_ase.py --quick", [{"speedup_vs_ase": 88.0, "energy_match": 3.4e-13, "openmm_ratio": 0.72}]),
              ("gpr_stability.py --quick", [{"crash_fraction": {"MF2": 1.0, "MF5": 0.0}, "ms_per_md_step": 0.16,
                                             "median_time_to_crash_fs": {"MF2": 4940.0, "MF5": None},
                                             "wall_s": 27.4}]),
              ("npsnn_systems.py --quick", [{"rows": [{"rel_l2": 1e-3}, {"rel_l2": 2e-3}]}]),
              ("dt_slider_latency.py", [{"benchmark": "dt_slider_update", "ms": 45.2}]))
AFTER = _log(("md_vs_ase.py --quick", [{"speedup_vs_ase": 101.3, "energy_match": 3.4e-13, "openmm_ratio": 0.70}]),
             ("gpr_stability.py --quick", [{"crash_fraction": {"MF2": 0.875, "MF5": 0.0}, "ms_per_md_step": 0.30,
                                            "median_time_to_crash_fs": {"MF2": 4940.0, "MF5": None},
                                            "wall_s": 40.1}]),
             ("npsnn_systems.py --quick", [{"rows": [{"rel_l2": 1e-3}, {"rel_l2": 2.0000001e-3}, {"rel_l2": 5e-3}]}]),
             ("dt_slider_latency.py", [{"benchmark": "dt_slider_update", "ms": 41.1}]))


def test_parses_each_command_and_its_json_lines():
    records = bench_compare.parse_log(BEFORE + "not json {\n{broken json}\n")
    assert list(records) == ["md_vs_ase", "gpr_stability", "npsnn_systems", "dt_slider_latency"]
    assert records["gpr_stability"][0]["wall_s"] == 27.4


def test_timing_keys_are_told_apart_from_physics():
    for path in ("wall_s", "ms_per_md_step", "md_vs_ase[0].speedup_vs_ase", "ms_per_step.aspirin.ratio",
                 "seconds_per_step.kernel", "campaign.overhead_vs_loop", "openmm_ratio", "dt_slider_latency[0].ms"):
        assert bench_compare.is_timing(path), path
    for path in ("median_time_to_crash_fs.MF2", "crash_fraction.MF2", "energy_match", "p_value", "rows[1].rel_l2",
                 "force_mae_ratio", "mae_kcal.MF5", "workers"):
        assert not bench_compare.is_timing(path), path


def test_compare_counts_identical_lists_changes_timings_and_missing_values():
    result = bench_compare.compare(bench_compare.parse_log(BEFORE), bench_compare.parse_log(AFTER))
    # a benchmark whose own name says "latency" still has non-timing values (its name is not a key of the record)
    assert result["identical"] == {"md_vs_ase": 1, "gpr_stability": 3, "npsnn_systems": 1, "dt_slider_latency": 1}
    assert [row[0] for row in result["different"]] == ["gpr_stability[0].crash_fraction.MF2",
                                                       "npsnn_systems[0].rows[1].rel_l2"]
    assert {row[0] for row in result["timings"]} == {"md_vs_ase[0].speedup_vs_ase", "md_vs_ase[0].openmm_ratio",
                                                     "gpr_stability[0].ms_per_md_step", "gpr_stability[0].wall_s",
                                                     "dt_slider_latency[0].ms"}
    assert result["only_after"] == ["npsnn_systems[0].rows[2].rel_l2"] and result["only_before"] == []
    loose = bench_compare.compare(bench_compare.parse_log(BEFORE), bench_compare.parse_log(AFTER), rtol=1e-6)
    assert [row[0] for row in loose["different"]] == ["gpr_stability[0].crash_fraction.MF2"]


def test_command_line_prints_a_json_summary_and_refuses_a_log_without_benchmarks(tmp_path, capsys):
    before, after, empty = tmp_path / "before.log", tmp_path / "after.log", tmp_path / "empty.log"
    before.write_text(BEFORE)
    after.write_text(AFTER)
    empty.write_text("make: *** [Makefile:138: bench] Error 1\n")
    assert bench_compare.main([str(before), str(after)]) == 0
    out = capsys.readouterr().out
    assert json.loads(out.strip().splitlines()[-1]) == {"identical": 6, "different": 2, "timings": 5,
                                                        "only_before": 0, "only_after": 1}
    assert "gpr_stability[0].wall_s: 27.4 -> 40.1 1.46x" in out
    assert bench_compare.main([str(before), str(empty)]) == 2
    assert "no benchmark JSON found" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["md_vs_ase", "gpr_paper_claims"])
def test_a_repeated_benchmark_keeps_both_runs(name):
    log = _log((f"{name}.py --quick", [{"x": 1}]), (f"{name}.py --full", [{"x": 2}]))
    assert bench_compare.parse_log(log) == {name: [{"x": 1}], f"{name} --full": [{"x": 2}]}
