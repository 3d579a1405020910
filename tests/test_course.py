"""Teaching a class (npsnn_edu.course): the nbgitpuller link has nbgitpuller's documented format and survives a
round trip through urllib; the z2jh singleuser snippet is valid YAML with the keys z2jh reads; bad input gets a
typed error that says what to change. All offline."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from npsnn_edu.course import main, nbgitpuller_link, repo_dir_name, z2jh_singleuser, z2jh_yaml
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
    assert q == {"repo": REPO_URL, "branch": "spring-2027",
                 "urlpath": "lab/tree/npsnn_edu-student/student/01_newtonian_md.ipynb"}
    # every value is percent-encoded: no raw '/' or ':' inside the query string
    assert "repo=https%3A%2F%2Fgithub.com%2Fteach-org%2Fnpsnn_edu-student.git" in parts.query
    assert "urlpath=lab%2Ftree%2Fnpsnn_edu-student%2Fstudent%2F01_newtonian_md.ipynb" in parts.query
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
    assert q2["urlpath"] == "lab/tree/npsnn_edu-student" and q2["branch"] == "main"
    parts3, q3 = _parse(nbgitpuller_link("https://hub.example.edu", REPO_URL, target_dir="course"))
    assert q3["targetPath"] == "course" and q3["urlpath"] == "lab/tree/course"


@pytest.mark.parametrize("repo, name", [(REPO_URL, "npsnn_edu-student"), ("https://github.com/o/r/", "r"),
                                        ("git@github.com:o/kit.git", "kit")])
def test_repo_dir_is_the_clone_folder(repo, name):
    assert repo_dir_name(repo) == name


@pytest.mark.parametrize("kwargs, what", [
    ({"hub": "hub.example.edu"}, "not a hub URL"),
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
    assert q["urlpath"] == "lab/tree/npsnn_edu-student/student/02_verlet_stability.ipynb"
    assert main(["z2jh", "--image", "ghcr.io/o/npsnn-edu", "--tag", "v1", "--memory", "1536M"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["singleuser"]["memory"]["limit"] == "1536M"
    assert main(["link", "--hub", "nope", "--repo", REPO_URL]) == 2
    assert "not a hub URL" in capsys.readouterr().err
