"""Teaching a class (npsnn_edu.course.hub): the nbgitpuller link has nbgitpuller's documented format and survives a
round trip through urllib, names
nbgitpuller's own clone folder (.git kept) and always sends targetpath, accepts file:// and local repositories and
checks the notebook is in them; the course config is relocatable and sets course id, exchange and per-user
student ids; the z2jh singleuser snippet is valid YAML with the keys z2jh reads; bad input gets a
typed error that says what to change. All offline."""
from __future__ import annotations

import os
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from npsnn_edu.course.hub import main, nbgitpuller_link, repo_dir_name, z2jh_singleuser, z2jh_yaml
from npsnn_edu.errors import InvalidParameterError

REPO_URL = "https://github.com/teach-org/npsnn_edu-student.git"


def _parse(link: str):
    parts = urlsplit(link)
    query = parse_qs(parts.query, strict_parsing=True)
    assert all(len(v) == 1 for v in query.values()), query
    return parts, {k: v[0] for k, v in query.items()}


def test_link_has_the_documented_format_and_round_trips():
    link = nbgitpuller_link("https://hub.example.edu", REPO_URL, branch="spring-2027",
                            notebook="student/01_newtonian_md.ipynb")
    parts, q = _parse(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "hub.example.edu", "/hub/user-redirect/git-pull")
    # the clone folder keeps '.git' (nbgitpuller names it repo.rstrip('/').split('/')[-1]) and is always sent
    assert q == {"repo": REPO_URL, "branch": "spring-2027", "targetpath": "npsnn_edu-student.git",
                 "urlpath": "lab/tree/npsnn_edu-student.git/student/01_newtonian_md.ipynb"}
    # every value is percent-encoded: no raw '/' or ':' inside the query string
    assert "repo=https%3A%2F%2Fgithub.com%2Fteach-org%2Fnpsnn_edu-student.git" in parts.query
    assert "urlpath=lab%2Ftree%2Fnpsnn_edu-student.git%2Fstudent%2F01_newtonian_md.ipynb" in parts.query
    assert link.startswith("https://hub.example.edu/hub/user-redirect/git-pull?repo=")


def test_link_encodes_awkward_characters_and_subpath_hubs():
    link = nbgitpuller_link("https://example.edu/jupyter/", "https://gitlab.example.edu/a b/course&co",
                            branch="week#1", notebook="/notes/ex 1?.ipynb", app="notebook")
    parts, q = _parse(link)
    assert parts.path == "/jupyter/hub/user-redirect/git-pull"
    assert q["repo"] == "https://gitlab.example.edu/a b/course&co" and q["branch"] == "week#1"
    assert q["urlpath"] == "tree/course&co/notes/ex 1?.ipynb"
    assert not parts.fragment  # '#' was encoded, not taken as a fragment
    # a hub URL that already ends in /hub is not doubled; no notebook opens the cloned folder
    _, q2 = _parse(nbgitpuller_link("https://hub.example.edu/hub", REPO_URL))
    assert q2["urlpath"] == "lab/tree/npsnn_edu-student.git" and q2["branch"] == "main"
    assert q2["targetpath"] == "npsnn_edu-student.git"
    parts3, q3 = _parse(nbgitpuller_link("https://hub.example.edu", REPO_URL, target_dir="course"))
    assert q3["targetpath"] == "course" and q3["urlpath"] == "lab/tree/course" and "targetPath" not in q3


@pytest.mark.parametrize("repo, name", [(REPO_URL, "npsnn_edu-student.git"), ("https://github.com/o/r/", "r"),
                                        ("git@github.com:o/kit.git", "kit.git"), ("git@host:kit.git", "kit.git"),
                                        ("file:///srv/repos/course.git", "course.git"), ("/srv/course/", "course")])
def test_repo_dir_is_the_clone_folder(repo, name):
    assert repo_dir_name(repo) == name


@pytest.mark.parametrize("repo", [REPO_URL, "https://github.com/o/r/", "https://gitlab.example.edu/a b/course&co"])
def test_repo_dir_is_what_nbgitpuller_itself_clones_into(repo):
    """Independent reference: nbgitpuller 1.3's own default (handlers.py: repo.rstrip('/').split('/')[-1])."""
    import inspect

    from nbgitpuller import handlers

    assert "repo.rstrip('/').split('/')[-1]" in inspect.getsource(handlers.UIHandler.get)
    assert repo_dir_name(repo) == repo.rstrip("/").split("/")[-1]


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@x"})


@pytest.fixture
def local_repo(tmp_path):
    """A bare repository (what a teacher keeps on the hub's disk) with student/01_newtonian_md.ipynb on main."""
    work, bare = tmp_path / "work", tmp_path / "npsnn_edu-student.git"
    (work / "student").mkdir(parents=True)
    (work / "student" / "01_newtonian_md.ipynb").write_text("{}")
    _git(work, "init", "-q", "-b", "main")
    _git(work, "add", ".")
    _git(work, "commit", "-q", "-m", "week 1")
    _git(tmp_path, "clone", "-q", "--bare", str(work), str(bare))
    return bare


def test_file_url_and_local_path_repositories_are_accepted_and_checked(local_repo):
    nb = "student/01_newtonian_md.ipynb"
    for repo in (f"file://{local_repo}", str(local_repo)):
        _, q = _parse(nbgitpuller_link("http://127.0.0.1:8000", repo, notebook=nb))
        assert q["repo"] == repo and q["targetpath"] == "npsnn_edu-student.git"
        assert q["urlpath"] == f"lab/tree/npsnn_edu-student.git/{nb}"
    with pytest.raises(InvalidParameterError, match=r"not in .*give a path relative to the repository's root, e.g. "
                                                    r"one of \['student/01_newtonian_md.ipynb'\]"):
        nbgitpuller_link("http://127.0.0.1:8000", f"file://{local_repo}", notebook="01_newtonian_md.ipynb")
    with pytest.raises(InvalidParameterError, match=r"branch='spring' is not in .*choose one of \['main'\]"):
        nbgitpuller_link("http://127.0.0.1:8000", str(local_repo), branch="spring", notebook=nb)
    with pytest.raises(InvalidParameterError, match="is not a git repository on this machine"):
        nbgitpuller_link("http://127.0.0.1:8000", f"file://{local_repo.parent / 'missing.git'}", notebook=nb)
    # a link to a repository that is gone (or not yet made) can still be built on purpose
    _, q = _parse(nbgitpuller_link("http://127.0.0.1:8000", f"file://{local_repo}.old", notebook=nb, check=False))
    assert q["targetpath"] == "npsnn_edu-student.git.old"


def test_remote_repository_is_checked_against_a_given_checkout(local_repo):
    nb = "student/01_newtonian_md.ipynb"
    assert "targetpath=npsnn_edu-student.git" in nbgitpuller_link("https://hub.example.edu", REPO_URL, notebook=nb,
                                                                  checkout=local_repo)
    with pytest.raises(InvalidParameterError, match="student/02.ipynb.*is not in"):
        nbgitpuller_link("https://hub.example.edu", REPO_URL, notebook="student/02.ipynb", checkout=local_repo)


@pytest.mark.parametrize("kwargs, what", [
    ({"hub": "hub.example.edu"}, "not a hub URL: give its address with the scheme"),
    ({"hub": "127.0.0.1:8000"}, "with the scheme"),
    ({"repo": "npsnn_edu-student"}, "neither a clone URL nor an absolute path"),
    ({"repo": "ftp://example.edu/course.git"}, "give an http"),
    ({"repo": "file://server/srv/course.git"}, "three slashes"),
    ({"target_dir": "../x"}, "inside the student's home"),
    ({"hub": "https://hub.example.edu/?next=x"}, "without"),
    ({"app": "rstudio"}, "app="),
    ({"branch": ""}, "branch="),
    ({"notebook": "../etc/passwd"}, "inside the repository"),
    ({"repo": "https://github.com/"}, "no repository name"),
])
def test_bad_link_input_is_a_typed_error(kwargs, what):
    args = {"hub": "https://hub.example.edu", "repo": REPO_URL, **kwargs}
    with pytest.raises(InvalidParameterError, match=what):
        nbgitpuller_link(args.pop("hub"), args.pop("repo"), **args)


def test_z2jh_snippet_is_yaml_with_the_keys_z2jh_reads():
    text = z2jh_yaml("ghcr.io/teach-org/npsnn-edu", "0a1b2c3")
    data = yaml.safe_load(text)
    assert list(data) == ["singleuser"]
    su = data["singleuser"]
    assert su["image"] == {"name": "ghcr.io/teach-org/npsnn-edu", "tag": "0a1b2c3", "pullPolicy": "IfNotPresent"}
    assert su["defaultUrl"] == "/lab"
    assert su["memory"] == {"limit": "2G", "guarantee": "1G"}
    assert su["cpu"] == {"limit": 1.0, "guarantee": 0.5}
    assert su["extraEnv"]["NPSNN_EDU_MODE"] == "classroom"
    assert isinstance(su["image"]["tag"], str)  # a numeric-looking tag must stay a string
    assert yaml.safe_load(z2jh_yaml("img", "20261201"))["singleuser"]["image"]["tag"] == "20261201"


@pytest.mark.parametrize("kwargs, what", [
    ({"image": "ghcr.io/o/npsnn-edu:latest"}, "without the tag"),
    ({"tag": ""}, "tag="),
    ({"memory_limit": "4G"}, "1G to 2G"),
    ({"memory_limit": "2GB"}, "e.g. '2G'"),
    ({"mode": "turbo"}, "unknown mode"),
    ({"cpu_guarantee": 2.0}, "cpu_guarantee"),
])
def test_bad_z2jh_input_is_a_typed_error(kwargs, what):
    args = {"image": "ghcr.io/o/npsnn-edu", "tag": "v1", **kwargs}
    with pytest.raises(InvalidParameterError, match=what):
        z2jh_singleuser(args.pop("image"), args.pop("tag"), **args)


def test_cli_prints_link_and_snippet(capsys):
    assert main(["link", "--hub", "https://hub.example.edu", "--repo", REPO_URL,
                 "--notebook", "student/02_verlet_stability.ipynb"]) == 0
    _, q = _parse(capsys.readouterr().out.strip())
    assert q["urlpath"] == "lab/tree/npsnn_edu-student.git/student/02_verlet_stability.ipynb"
    assert main(["z2jh", "--image", "ghcr.io/o/npsnn-edu", "--tag", "v1", "--memory", "1536M"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["singleuser"]["memory"]["limit"] == "1536M"
    assert main(["link", "--hub", "nope", "--repo", REPO_URL]) == 2
    assert "not a hub URL" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ nbgrader course config
def _load_config(path, env):
    """The config nbgrader would read from these files in this order (later files win), under ``env``."""
    from traitlets.config.loader import Config, PyFileConfigLoader

    old = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        merged = Config()
        for p in path:
            merged.merge(PyFileConfigLoader(p.name, path=str(p.parent)).load_config())
        return merged
    finally:
        os.environ.clear()
        os.environ.update(old)


def test_course_config_sets_course_exchange_and_is_relocatable(tmp_path):
    from npsnn_edu.course.assignments import write_nbgrader_course

    root = tmp_path / "made_here" / "course"
    write_nbgrader_course([], root, course_id="npsnn101", exchange="/srv/nbgrader/exchange")
    text = (root / "nbgrader_config.py").read_text()
    assert str(tmp_path) not in text and "db_url" not in text  # no absolute path of where it was made
    moved = tmp_path / "instructor_home" / "course"
    moved.parent.mkdir()
    root.rename(moved)
    cfg = _load_config([moved / "nbgrader_config.py"], {"PATH": os.environ.get("PATH", "")})
    assert cfg.CourseDirectory.root == str(moved) and cfg.CourseDirectory.course_id == "npsnn101"
    assert cfg.Exchange.root == "/srv/nbgrader/exchange" and cfg.CourseDirectory.student_id == "*"


def test_each_hub_user_submits_under_their_own_id_and_the_instructor_grades_all(tmp_path):
    from npsnn_edu.course.assignments import student_nbgrader_config, write_nbgrader_course

    hub_cfg = tmp_path / "etc" / "nbgrader_config.py"
    hub_cfg.parent.mkdir()
    hub_cfg.write_text(student_nbgrader_config("npsnn101", "/srv/ex"))
    for user in ("alice", "bob"):
        cfg = _load_config([hub_cfg], {"JUPYTERHUB_USER": user})
        assert cfg.CourseDirectory.student_id == user and cfg.CourseDirectory.course_id == "npsnn101"
        assert cfg.Exchange.root == "/srv/ex"
    # the course folder's config is read after the hub-wide one (nbgrader loads the working folder last)
    write_nbgrader_course([], tmp_path / "course", course_id="npsnn101", exchange="/srv/ex")
    cfg = _load_config([hub_cfg, tmp_path / "course" / "nbgrader_config.py"], {"JUPYTERHUB_USER": "instructor"})
    assert cfg.CourseDirectory.student_id == "*"
    assert (tmp_path / "course" / "hub_nbgrader_config.py").read_text() == hub_cfg.read_text()


@pytest.mark.parametrize("kwargs, what", [({"course_id": "npsnn 101"}, "no spaces"),
                                          ({"course_id": "a+b"}, "no '\\+'"),
                                          ({"exchange": "exchange"}, "absolute path of a folder every user")])
def test_bad_course_input_is_a_typed_error(tmp_path, kwargs, what):
    from npsnn_edu.course.assignments import write_nbgrader_course

    with pytest.raises(InvalidParameterError, match=what):
        write_nbgrader_course([], tmp_path / "course", **kwargs)
    assert not (tmp_path / "course").exists()


def test_relocated_course_folder_keeps_its_gradebook_inside(tmp_path):
    """nbgrader itself, run in the moved folder, creates and uses the gradebook there (not where it was made)."""
    from npsnn_edu.course.assignments import run_nbgrader, write_nbgrader_course

    made = tmp_path / "made" / "course"
    write_nbgrader_course([], made)
    moved = tmp_path / "moved"
    made.rename(moved)
    run_nbgrader(["db", "student", "add", "alice"], moved, timeout=120)
    assert (moved / "gradebook.db").is_file() and not (made / "gradebook.db").exists()
    assert "alice" in run_nbgrader(["db", "student", "list"], moved, timeout=120).stdout


def test_cli_checks_the_notebook_against_a_checkout(local_repo, capsys):
    args = ["link", "--hub", "https://hub.example.edu", "--repo", REPO_URL, "--checkout", str(local_repo)]
    assert main([*args, "--notebook", "student/01_newtonian_md.ipynb", "--target-dir", "course"]) == 0
    _, q = _parse(capsys.readouterr().out.strip())
    assert q["targetpath"] == "course" and q["urlpath"] == "lab/tree/course/student/01_newtonian_md.ipynb"
    assert main([*args, "--notebook", "student/99.ipynb"]) == 2
    assert "is not in" in capsys.readouterr().err
