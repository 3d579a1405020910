"""Teaching a class larger than one machine: an nbgitpuller link and a JupyterHub (z2jh) single-user config.

The convention on a JupyterHub: every student's server runs an image built by ``repo2docker`` from this
repository (the same build as Binder: ``binder/environment.yml`` + ``binder/postBuild``, which installs the kit
into the image's Python, not into the home folder), and an nbgitpuller link pulls the course notebooks into the
student's persistent home folder and opens the first one. Re-clicking the link later merges updates without
overwriting the student's work.

``python -m npsnn_edu.course.hub link --hub https://hub.example.edu --repo https://github.com/ORG/npsnn_edu-student``
    prints the nbgitpuller link (``--branch``, ``--notebook`` path inside the repository, ``--app lab|notebook``,
    ``--target-dir``, ``--checkout`` a local clone to check the notebook path against).
``python -m npsnn_edu.course.hub z2jh --image ghcr.io/ORG/npsnn-edu --tag 2026-12-01``
    prints the ``singleuser`` section of a zero-to-jupyterhub ``config.yaml`` (``--mode``, ``--memory``, ``--cpu``).

Link format (nbgitpuller's documented one)::

    https://HUB/hub/user-redirect/git-pull?repo=<url>&urlpath=lab/tree/<dir>/<path>&branch=<b>&targetpath=<dir>

with every value URL-encoded and <dir> the clone folder. ``urlpath`` is relative to the home folder, so it must name
the folder nbgitpuller clones into. nbgitpuller 1.3 names that folder after the last part of the repository URL
*with* ``.git`` kept (upstream issue #205), and its streaming API takes only the lower-case ``targetpath``: the link
therefore always sends ``targetpath`` explicitly, with the clone folder's real name (:func:`repo_dir_name`).
``file://`` URLs and absolute local paths are accepted (nbgitpuller clones them with ``git clone``: a repository on
the hub's own disk, and what the offline hub test uses); for such a local repository the builder also checks that
the branch and the notebook exist in it (``check=True``), and so it does for a remote one when given a local clone
of it (``checkout=``).
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any, Sequence
from urllib.parse import quote, unquote, urlencode, urlsplit

import yaml

from ..config import MODE_ENV_VAR, MODES, check_mode
from ..errors import InvalidParameterError
from ._cli import command_line, guarded
from ._cli import parser as cli_parser

__all__ = ["nbgitpuller_link", "repo_dir_name", "local_repo_path", "z2jh_singleuser", "z2jh_yaml", "main"]

_APPS = {"lab": "lab/tree", "notebook": "tree"}
_REMOTE_SCHEMES = ("http", "https", "git", "ssh")


def local_repo_path(repo: str) -> "Path | None":
    """The folder of a local repository (``file:///srv/course.git`` or ``/srv/course.git``), else ``None``.

    Parameters
    ----------
    repo : str
        Clone URL or path.

    Returns
    -------
    Path or None
    """
    repo = repo.strip()
    if repo.startswith("file://"):
        parts = urlsplit(repo)
        if parts.netloc not in ("", "localhost"):
            raise InvalidParameterError(f"repo={repo!r}: a file:// URL names a folder on the hub's own disk: "
                                        "write it as file:///absolute/path (three slashes)")
        return Path(unquote(parts.path))
    if repo.startswith("/"):
        return Path(repo)
    return None


def repo_dir_name(repo: str) -> str:
    """The folder nbgitpuller clones ``repo`` into: the URL's (or path's) last part, ``.git`` kept, as nbgitpuller
    1.3 does (``repo.rstrip('/').split('/')[-1]``; for ``git@host:kit.git`` the part after the colon).

    Parameters
    ----------
    repo : str
        Clone URL or path.

    Returns
    -------
    str
    """
    tail = repo.strip().rstrip("/").split("/")[-1]
    if "://" not in repo and ":" in tail and "/" not in repo:  # scp-like git@host:kit.git
        tail = tail.split(":", 1)[1]
    if not tail or tail in (".", "..") or tail.endswith(":") or ("://" in repo and not urlsplit(repo).path.strip("/")):
        raise InvalidParameterError(f"repo={repo!r} has no repository name: give the clone URL, e.g. "
                                    "https://github.com/ORG/npsnn_edu-student")
    return tail


def _git(folder: Path, *args: str) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=60)


def _check_in_repo(folder: Path, branch: str, notebook: "PurePosixPath | None", repo: str) -> None:
    """Raise InvalidParameterError unless ``folder`` is a git repository with ``branch`` holding ``notebook``."""
    if not folder.is_dir() or _git(folder, "rev-parse", "--git-dir").returncode != 0:
        raise InvalidParameterError(f"repo={repo!r}: {folder} is not a git repository on this machine: give the "
                                    "path (or file:// URL) of the repository that holds the student copies")
    if _git(folder, "rev-parse", "--verify", "--quiet", f"{branch}^{{commit}}").returncode != 0:
        known = _git(folder, "for-each-ref", "--format=%(refname:short)", "refs/heads").stdout.split()
        raise InvalidParameterError(f"branch={branch!r} is not in {repo}: choose one of {known or ['(none)']}")
    if notebook is None:
        return
    if _git(folder, "cat-file", "-e", f"{branch}:{notebook}").returncode != 0:
        files = _git(folder, "ls-tree", "-r", "--name-only", branch).stdout.split("\n")
        nbs = [f for f in files if f.endswith(".ipynb")][:8]
        raise InvalidParameterError(f"notebook={str(notebook)!r} is not in {repo} (branch {branch!r}): give a path "
                                    f"relative to the repository's root, e.g. one of {nbs or ['(no notebook)']}")


def nbgitpuller_link(hub: str, repo: str, *, branch: str = "main", notebook: str = "",
                     app: str = "lab", target_dir: "str | None" = None, check: bool = True,
                     checkout: "str | Path | None" = None) -> str:
    """An nbgitpuller link: log in to ``hub``, pull ``repo`` at ``branch`` into the home folder, open ``notebook``.

    ``hub`` is the hub's base URL (``https://hub.example.edu`` or ``https://example.edu/jupyter``), ``repo`` a git
    clone URL (http(s), git, ssh, ``file:///...``) or an absolute path on the hub's disk, ``notebook`` a path inside
    the repository (empty: open the repository folder), ``app`` ``"lab"`` (JupyterLab) or ``"notebook"``
    (Notebook's tree), ``target_dir`` the clone folder in the student's home (default: nbgitpuller's own name for
    it, :func:`repo_dir_name`; always sent as ``targetpath``). With ``check`` (default) a local repository must
    exist and hold ``branch`` and ``notebook``; ``checkout`` (a local clone of a remote ``repo``) is checked the
    same way. Raises :class:`~npsnn_edu.errors.InvalidParameterError` saying what to change.

    Parameters
    ----------
    hub : str
        Base URL of the hub.
    repo : str
        Git clone URL or absolute path on the hub's disk.
    branch : str, default "main"
        Branch pulled.
    notebook : str, default ""
        Path inside the repository to open (empty: the folder).
    app : {"lab", "notebook"}, default "lab"
        Interface opened.
    target_dir : str or None, default None
        Clone folder in the student's home (None: :func:`repo_dir_name`).
    check : bool, default True
        Check that a local repository holds ``branch`` and ``notebook``.
    checkout : str, Path or None, default None
        A local clone of a remote ``repo`` to check the same way.

    Returns
    -------
    str

    Raises
    ------
    InvalidParameterError
        A bad URL, app, branch or notebook (the message says what to change).
    """
    parts = urlsplit(hub.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidParameterError(f"hub={hub!r} is not a hub URL: give its address with the scheme, e.g. "
                                    "https://hub.example.edu")
    if parts.query or parts.fragment:
        raise InvalidParameterError(f"hub={hub!r} must be the hub's base address, without ?query or #fragment")
    if app not in _APPS:
        raise InvalidParameterError(f"app={app!r}: choose one of {sorted(_APPS)}")
    if not branch or any(c.isspace() for c in branch):
        raise InvalidParameterError(f"branch={branch!r}: give a git branch name (e.g. main)")
    repo = repo.strip()
    local = local_repo_path(repo)
    if local is None and "://" in repo and urlsplit(repo).scheme not in _REMOTE_SCHEMES:
        raise InvalidParameterError(f"repo={repo!r}: give an http(s), git, ssh or file:/// clone URL, or an absolute "
                                    "path on the hub")
    if local is None and "://" not in repo and not (":" in repo and "@" in repo.split(":", 1)[0]):
        raise InvalidParameterError(f"repo={repo!r} is neither a clone URL nor an absolute path: give e.g. "
                                    "https://github.com/ORG/npsnn_edu-student or /srv/repos/npsnn_edu-student.git")
    folder = (target_dir or repo_dir_name(repo)).strip("/")
    if not folder or ".." in PurePosixPath(folder).parts:
        raise InvalidParameterError(f"target_dir={target_dir!r}: give a folder name inside the student's home")
    inner = PurePosixPath(notebook.strip("/")) if notebook.strip("/") else None
    if inner is not None and ".." in inner.parts:
        raise InvalidParameterError(f"notebook={notebook!r} must be a path inside the repository")
    if check and (local is not None or checkout is not None):
        _check_in_repo(Path(checkout) if checkout is not None else local, branch, inner, repo)  # type: ignore[arg-type]
    urlpath = f"{_APPS[app]}/{folder}" + (f"/{inner}" if inner is not None else "")
    base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    if base.endswith("/hub"):
        base = base[:-4]
    query = {"repo": repo, "urlpath": urlpath, "branch": branch, "targetpath": folder}
    return f"{base}/hub/user-redirect/git-pull?{urlencode(query, quote_via=quote, safe='')}"


def _memory(value: str) -> str:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([MG])", value.strip())
    if not m:
        raise InvalidParameterError(f"memory={value!r}: give it as z2jh does, e.g. '2G' or '1536M'")
    gb = float(m.group(1)) / (1024 if m.group(2) == "M" else 1)
    if not 1.0 <= gb <= 2.0:
        raise InvalidParameterError(f"memory={value!r}: the notebooks need 1-2 GB (kernel peak <= 1.5 GB measured, "
                                    "plus the server): give 1G to 2G")
    return value.strip()


def z2jh_singleuser(image: str, tag: str, *, mode: str = "classroom", memory_limit: str = "2G",
                    memory_guarantee: str = "1G", cpu_limit: float = 1.0, cpu_guarantee: float = 0.5) -> dict:
    """The ``singleuser`` section of a zero-to-jupyterhub config.yaml for the image built from this repository.

    Parameters
    ----------
    image : str
        Image name.
    tag : str
        Image tag.
    mode : {"full", "classroom", "fast"}, default "classroom"
        Run mode set in the students' environment.
    memory_limit, memory_guarantee : str, default "2G", "1G"
        Memory per student (Kubernetes quantities).
    cpu_limit, cpu_guarantee : float, default 1.0, 0.5
        CPUs per student.

    Returns
    -------
    dict

    Raises
    ------
    InvalidParameterError
        An image name with a tag, an empty tag, a bad mode or a CPU guarantee above the limit.
    """
    if not image or ":" in image.rsplit("/", 1)[-1]:
        raise InvalidParameterError(f"image={image!r}: give the image name without the tag (the tag goes in tag=)")
    if not tag or any(c.isspace() for c in tag):
        raise InvalidParameterError(f"tag={tag!r}: give the image tag (e.g. the git commit the image was built from)")
    if not 0 < cpu_guarantee <= cpu_limit:
        raise InvalidParameterError(f"cpu_guarantee={cpu_guarantee} must be > 0 and <= cpu_limit={cpu_limit}")
    return {"singleuser": {
        "image": {"name": image, "tag": str(tag), "pullPolicy": "IfNotPresent"},
        "defaultUrl": "/lab",
        "cpu": {"limit": float(cpu_limit), "guarantee": float(cpu_guarantee)},
        "memory": {"limit": _memory(memory_limit), "guarantee": _memory(memory_guarantee)},
        "extraEnv": {MODE_ENV_VAR: check_mode(mode, "mode="), "OMP_NUM_THREADS": str(max(1, int(cpu_limit)))},
    }}


_YAML_HEAD = """\
# zero-to-jupyterhub (z2jh) config.yaml, singleuser part: every student server runs the npsnn_edu image
# (built by repo2docker from this repository; see docs/course.md "Teaching a class").
# Merge into your config.yaml, then: helm upgrade --install jhub jupyterhub/jupyterhub -f config.yaml
"""


def z2jh_yaml(image: str, tag: str, **kwargs: Any) -> str:
    """:func:`z2jh_singleuser` as YAML text, with a comment header.

    Parameters
    ----------
    image : str
        Image name.
    tag : str
        Image tag.
    **kwargs
        Options of :func:`z2jh_singleuser`.

    Returns
    -------
    str
    """
    return _YAML_HEAD + yaml.safe_dump(z2jh_singleuser(image, tag, **kwargs), sort_keys=False)


@command_line("Command line (``python -m npsnn_edu.course.hub --help``): an nbgitpuller link or a zero-to-jupyterhub "
              "config.")
def main(argv: "Sequence[str] | None" = None) -> int:
    parser = cli_parser("npsnn_edu.course.hub", __doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    link = sub.add_parser("link", help="print an nbgitpuller link")
    link.add_argument("--hub", required=True, help="the hub's base URL, e.g. https://hub.example.edu")
    link.add_argument("--repo", required=True, help="git clone URL of the repository with the student copies")
    link.add_argument("--branch", default="main")
    link.add_argument("--notebook", default="", help="path of the start notebook inside the repository")
    link.add_argument("--app", choices=sorted(_APPS), default="lab")
    link.add_argument("--target-dir", default=None, help="clone folder in the student's home (default: nbgitpuller's "
                      "own name for it, the repository URL's last part)")
    link.add_argument("--checkout", default=None, help="a local clone of --repo: check that --branch and --notebook "
                      "exist in it (done anyway for a file:// or local-path repository)")
    hub = sub.add_parser("z2jh", help="print the singleuser section of a z2jh config.yaml")
    hub.add_argument("--image", required=True, help="image name, e.g. ghcr.io/ORG/npsnn-edu")
    hub.add_argument("--tag", required=True, help="image tag")
    hub.add_argument("--mode", choices=MODES, default="classroom")
    hub.add_argument("--memory", default="2G", help="memory limit per student (1G-2G)")
    hub.add_argument("--cpu", type=float, default=1.0, help="CPU limit per student")
    args = parser.parse_args(argv)

    def run() -> int:
        if args.command == "link":
            print(nbgitpuller_link(args.hub, args.repo, branch=args.branch, notebook=args.notebook, app=args.app,
                                   target_dir=args.target_dir, checkout=args.checkout))
        else:
            print(z2jh_yaml(args.image, args.tag, mode=args.mode, memory_limit=args.memory, cpu_limit=args.cpu,
                            cpu_guarantee=min(0.5, args.cpu)), end="")
        return 0
    return guarded(run, (InvalidParameterError,))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
