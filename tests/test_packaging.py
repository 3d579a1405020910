"""Offline packaging checks: the conda/Binder environments list the same packages as pyproject.toml, admit the
verified versions of constraints.txt, and keep torch CPU-only at 2.13.0; Binder's postBuild installs the kit and
builds the student copies (run here, in a copy of the repository: they exist, hold no solution, and run top to
bottom in fast mode without a traceback).

With ``jupyter-repo2docker`` available (in the venv, or named by NPSNN_EDU_REPO2DOCKER) the Binder spec is also
turned into a Dockerfile with ``--no-build`` (offline, well under a second); it is not a dependency of the kit.
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

REPO = Path(__file__).resolve().parents[1]
ENV_FILES = {"environment.yml": REPO / "environment.yml", "binder/environment.yml": REPO / "binder" / "environment.yml"}
#: conda-forge names of packages whose PyPI name differs
CONDA_TO_PYPI = {"pytorch": "torch", "pytorch-cpu": "torch", "tblite-python": "tblite", "py-yaml": "pyyaml"}
NOT_PACKAGES = {"python", "pip"}
#: packages only the Binder/JupyterHub image needs (not the kit): nbgitpuller serves the course links
IMAGE_ONLY = {"binder/environment.yml": {"nbgitpuller"}, "environment.yml": set()}
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def norm(name: str) -> str:
    n = re.sub(r"[-_.]+", "-", name).lower()
    return CONDA_TO_PYPI.get(n, n)


def conda_spec(spec: str) -> SpecifierSet:
    """conda version spec -> PEP 440 (``=1.2`` means 1.2.*; ``==``, ``>=``, ``<`` as in pip)."""
    parts = []
    for p in filter(None, (s.strip() for s in spec.split(","))):
        parts.append(f"=={p[1:]}.*" if p.startswith("=") and not p.startswith("==") else p)
    return SpecifierSet(",".join(parts))


def parse_env(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    conda, pip, options, editable = {}, {}, [], []
    for dep in data["dependencies"]:
        if isinstance(dep, dict):
            for line in dep.get("pip", []):
                line = line.split(" #")[0].strip()
                if line.startswith("-e ") or line.startswith("--editable"):
                    editable.append(line.split(None, 1)[1])
                elif line.startswith("-"):
                    options.append(line)
                else:
                    req = Requirement(line)
                    pip[norm(req.name)] = req.specifier
            continue
        m = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", dep.split("#")[0].strip())
        assert m, f"{path.name}: cannot parse conda dependency {dep!r}"
        conda[norm(m.group(1))] = conda_spec(m.group(2).replace(" ", ""))
    return {"data": data, "conda": conda, "pip": pip, "options": options, "editable": editable}


def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def core_requirements() -> dict[str, Requirement]:
    return {norm(Requirement(r).name): Requirement(r) for r in pyproject()["project"]["dependencies"]}


def constraints() -> dict[str, Version]:
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)
            (spec,) = list(req.specifier)
            assert spec.operator == "==", f"constraints.txt must pin exact versions: {line}"
            pins[norm(req.name)] = Version(spec.version)
    return pins


@pytest.mark.parametrize("label", list(ENV_FILES))
def test_environment_parses_and_uses_conda_forge_only(label):
    env = parse_env(ENV_FILES[label])
    assert env["data"]["channels"] in (["conda-forge"], ["conda-forge", "nodefaults"])
    assert "python" in env["conda"] and "pip" in env["conda"]
    assert Version("3.11") in env["conda"]["python"] or Version("3.11.0") in env["conda"]["python"]


@pytest.mark.parametrize("label", list(ENV_FILES))
def test_environment_lists_exactly_the_pyproject_dependencies(label):
    env = parse_env(ENV_FILES[label])
    listed = (set(env["conda"]) | set(env["pip"])) - NOT_PACKAGES - IMAGE_ONLY[label]
    required = set(core_requirements())
    assert listed == required, (f"{label} differs from pyproject.toml: missing {sorted(required - listed)}, "
                                f"extra {sorted(listed - required)}")
    assert not set(env["conda"]) & set(env["pip"]), "a package must come from conda OR pip, not both"


@pytest.mark.parametrize("label", list(ENV_FILES))
def test_environment_admits_the_verified_versions(label):
    env = parse_env(ENV_FILES[label])
    pins = constraints()
    for name, spec in {**env["conda"], **env["pip"]}.items():
        if name in pins:
            assert spec.contains(pins[name], prereleases=True), \
                f"{label}: {name}{spec} excludes the verified {name}=={pins[name]} of constraints.txt"
        # and what pyproject asks for is compatible with the verified pin as well
        if name in core_requirements() and name in pins:
            assert core_requirements()[name].specifier.contains(pins[name], prereleases=True)


@pytest.mark.parametrize("label", list(ENV_FILES))
def test_torch_is_the_cpu_wheel_2_13_and_nglview_fix_is_pinned(label):
    env = parse_env(ENV_FILES[label])
    assert "torch" not in env["conda"], "torch must come from the CPU wheel index (pip), not from conda"
    assert str(env["pip"]["torch"]) == "==2.13.0"
    assert any(CPU_INDEX in o for o in env["options"]), f"{label}: pip section must use {CPU_INDEX}"
    assert env["conda"]["nglview"].contains("3.1.4") and not env["conda"]["nglview"].contains("4.0.1")
    assert env["conda"]["setuptools"].contains("80.10.2") and not env["conda"]["setuptools"].contains("81.0.0")


def test_top_level_environment_installs_the_kit_from_the_repo():
    assert parse_env(ENV_FILES["environment.yml"])["editable"] == ["."]


def test_binder_postbuild_installs_the_kit_without_touching_dependencies():
    # repo2docker builds binder/environment.yml before the repository is copied: the kit comes from postBuild,
    # as a regular (not editable) install: a hub's home volume hides the image's repository folder.
    assert parse_env(ENV_FILES["binder/environment.yml"])["editable"] == []
    post = REPO / "binder" / "postBuild"
    text = post.read_text()
    assert text.startswith("#!") and re.search(r"^set -e", text, re.M)
    assert re.search(r"^python -m pip install --no-deps \.$", text, re.M)
    assert " -e " not in text
    assert re.search(r"^python -m npsnn_edu\.course\.assignments --out student$", text, re.M)
    assert re.search(r"^echo classroom > npsnn_edu_mode\.txt$", text, re.M)
    assert post.stat().st_mode & stat.S_IXUSR, "binder/postBuild must be executable"


def test_pyproject_and_constraints_pin_the_verified_stack():
    reqs = core_requirements()
    assert str(reqs["torch"].specifier) == "==2.13.0"
    assert reqs["setuptools"].specifier.contains("80.10.2") and not reqs["setuptools"].specifier.contains("81")
    pins = constraints()
    assert pins["torch"] == Version("2.13.0")
    assert pins["nglview"] == Version("3.1.4")
    assert pins["setuptools"] < Version("81")
    extras = [norm(Requirement(r).name) for group in pyproject()["project"].get("optional-dependencies", {}).values()
              for r in group]
    unpinned = sorted(set(reqs) - set(pins)) + sorted(set(extras) - set(pins))
    assert not unpinned, f"dependencies without a verified pin in constraints.txt: {unpinned}"


def _repo2docker() -> str | None:
    exe = os.environ.get("NPSNN_EDU_REPO2DOCKER") or shutil.which("jupyter-repo2docker",
                                                                    path=str(Path(sys.executable).parent))
    return exe if exe and Path(exe).exists() else None


def test_repo2docker_generates_a_dockerfile(tmp_path):
    exe = _repo2docker()
    assert exe, "jupyter-repo2docker is missing: it is in the [test] extra that `make test` installs"
    src = tmp_path / "repo"
    src.mkdir()
    for name in ("binder", "pyproject.toml", "constraints.txt", "README.md", "npsnn_edu", "environment.yml",
                 "notebooks"):
        p = REPO / name
        (shutil.copytree if p.is_dir() else shutil.copy2)(p, src / name)
    out = subprocess.run([exe, "--no-build", "--no-run", "--debug", str(src)], capture_output=True,
                         text=True, timeout=120)
    text = out.stdout + out.stderr
    assert out.returncode == 0, text[-3000:]
    assert 'env update -p ${NB_PYTHON_PREFIX} --file "binder/environment.yml"' in text
    assert text.index("COPY --chown=0:0 src/ ${REPO_DIR}/") < text.index("./binder/postBuild")
    # the postBuild that Dockerfile runs (after the repository is copied in) builds the student copies
    assert re.search(r"RUN .*\./binder/postBuild", text)
    assert "npsnn_edu.course.assignments --out student" in (src / "binder" / "postBuild").read_text()


def _postbuild_steps(tmp_path: Path) -> Path:
    """Run binder/postBuild's steps in a copy of the repository with this venv (its pip install line skipped:
    the kit is importable from the copy through PYTHONPATH); return the copy."""
    src = tmp_path / "repo"
    src.mkdir()
    for name in ("binder", "pyproject.toml", "README.md", "npsnn_edu", "notebooks"):
        p = REPO / name
        (shutil.copytree if p.is_dir() else shutil.copy2)(p, src / name, **(
            {"ignore": shutil.ignore_patterns("__pycache__")} if p.is_dir() else {}))
    lines = (REPO / "binder" / "postBuild").read_text().splitlines()
    steps = [ln for ln in lines if not re.match(r"^\s*python -m pip install", ln)]
    assert len(steps) == len(lines) - 1, "postBuild should install the kit with exactly one pip line"
    script = tmp_path / "postBuild-steps"
    script.write_text("\n".join(steps) + "\n")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1"}
    env.pop("NPSNN_EDU_MODE", None)
    out = subprocess.run(["bash", str(script)], cwd=src, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    return src


#: student notebooks run top to bottom by the postBuild test (fast mode); the others are checked for content only
#: (all four would take several minutes on 2 shared cores). NPSNN_EDU_POSTBUILD_RUN=all runs every one.
POSTBUILD_RUN = ["01_newtonian_md.ipynb"]


def test_binder_postbuild_builds_clean_student_copies_that_run(tmp_path):
    import nbformat

    from npsnn_edu.config import MODE_FILE, _mode_file
    from npsnn_edu.course.assignments import student_problems
    from npsnn_edu.course.notebook_runner import execute_notebook

    src = _postbuild_steps(tmp_path)
    chapters = sorted((src / "notebooks").glob("0*.ipynb"))
    students = sorted((src / "student").glob("0*.ipynb"))
    assert [p.name for p in students] == [p.name for p in chapters]  # the four labs and any going-further notebooks
    assert [p.name[:3] for p in students if p.name[2] == "_"] == ["01_", "02_", "03_", "04_"]
    for inst, stud in zip(chapters, students):
        assert student_problems(nbformat.read(stud, as_version=4), nbformat.read(inst, as_version=4)) == []
    assert _mode_file(src / "student") == src / MODE_FILE
    assert (src / MODE_FILE).read_text().strip() == "classroom"
    run = students if os.environ.get("NPSNN_EDU_POSTBUILD_RUN") == "all" else \
        [p for p in students if p.name in POSTBUILD_RUN]
    assert run
    for path in run:
        nb = nbformat.read(path, as_version=4)
        nb, seconds, _, error = execute_notebook(nb, cwd=path.parent, mode="fast", timeout=600,
                                                 store_widget_state=False)
        assert error == "", f"{path.name}: student copy stops with an error: {error}"
        texts = [str(o) for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        assert not any("Traceback" in t for t in texts), path.name
        assert any("NOT YET" in t for t in texts), f"{path.name}: the self-checks should say NOT YET"
