"""Teaching a class larger than one machine: an nbgitpuller link and a JupyterHub (z2jh) single-user config.

The convention on a JupyterHub: every student's server runs an image built by ``repo2docker`` from this
repository (the same build as Binder: ``binder/environment.yml`` + ``binder/postBuild``, which installs the kit
into the image's Python, not into the home folder), and an nbgitpuller link pulls the course notebooks into the
student's persistent home folder and opens the first one. Re-clicking the link later merges updates without
overwriting the student's work.

``python -m npsnn_edu.course link --hub https://hub.example.edu --repo https://github.com/ORG/npsnn_edu-student``
    prints the nbgitpuller link (``--branch``, ``--notebook`` path inside the repository, ``--app lab|notebook``).
``python -m npsnn_edu.course z2jh --image ghcr.io/ORG/npsnn-edu --tag 2026-12-01``
    prints the ``singleuser`` section of a zero-to-jupyterhub ``config.yaml`` (``--mode``, ``--memory``, ``--cpu``).

Link format (nbgitpuller's documented one)::

    https://HUB/hub/user-redirect/git-pull?repo=<url>&urlpath=lab/tree/<repo-dir>/<path>&branch=<branch>

with every value URL-encoded; ``<repo-dir>`` is the folder nbgitpuller clones into (the repository's name,
without ``.git``), because ``urlpath`` is relative to the home folder.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import PurePosixPath
from typing import Any, Sequence
from urllib.parse import quote, urlencode, urlsplit

from .config import MODES
from .errors import InvalidParameterError

__all__ = ["nbgitpuller_link", "repo_dir_name", "z2jh_singleuser", "z2jh_yaml", "main"]

_APPS = {"lab": "lab/tree", "notebook": "tree"}


def repo_dir_name(repo: str) -> str:
    """The folder nbgitpuller clones ``repo`` into: the last path component, without ``.git``."""
    path = urlsplit(repo).path if "://" in repo else repo.split(":", 1)[-1]
    name = PurePosixPath(path.rstrip("/")).name
    if name.endswith(".git"):
        name = name[:-4]
    if not name:
        raise InvalidParameterError(f"repo={repo!r} has no repository name: give the clone URL, e.g. "
                                    "https://github.com/ORG/npsnn_edu")
    return name


def nbgitpuller_link(hub: str, repo: str, *, branch: str = "main", notebook: str = "",
                     app: str = "lab", target_dir: "str | None" = None) -> str:
    """An nbgitpuller link: log in to ``hub``, pull ``repo`` at ``branch`` into the home folder, open ``notebook``.

    ``hub`` is the hub's base URL (``https://hub.example.edu`` or ``https://example.edu/jupyter``), ``repo`` a git
    clone URL, ``notebook`` a path inside the repository (empty: open the repository folder), ``app`` ``"lab"``
    (JupyterLab) or ``"notebook"`` (Notebook's tree), ``target_dir`` nbgitpuller's ``targetPath`` when the
    folder should not be named after the repository.
    """
    parts = urlsplit(hub.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidParameterError(f"hub={hub!r} is not a hub URL: give its address, e.g. https://hub.example.edu")
    if parts.query or parts.fragment:
        raise InvalidParameterError(f"hub={hub!r} must be the hub's base address, without ?query or #fragment")
    if app not in _APPS:
        raise InvalidParameterError(f"app={app!r}: choose one of {sorted(_APPS)}")
    if not branch or any(c.isspace() for c in branch):
        raise InvalidParameterError(f"branch={branch!r}: give a git branch name (e.g. main)")
    if "://" in repo and urlsplit(repo).scheme not in ("http", "https", "git", "ssh"):
        raise InvalidParameterError(f"repo={repo!r}: give an http(s) clone URL")
    folder = target_dir or repo_dir_name(repo)
    inner = PurePosixPath(notebook.strip("/")) if notebook else None
    if inner is not None and (inner.is_absolute() or ".." in inner.parts):
        raise InvalidParameterError(f"notebook={notebook!r} must be a path inside the repository")
    urlpath = f"{_APPS[app]}/{folder}" + (f"/{inner}" if inner is not None else "")
    base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    if base.endswith("/hub"):
        base = base[:-4]
    query = {"repo": repo, "urlpath": urlpath, "branch": branch}
    if target_dir:
        query["targetPath"] = target_dir
    return f"{base}/hub/user-redirect/git-pull?{urlencode(query, quote_via=quote, safe='')}"


def _memory(value: str) -> str:
    import re

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
    """The ``singleuser`` section of a zero-to-jupyterhub config.yaml for the image built from this repository."""
    from .config import MODE_ENV_VAR, _check_mode

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
        "extraEnv": {MODE_ENV_VAR: _check_mode(mode, "mode="), "OMP_NUM_THREADS": str(max(1, int(cpu_limit)))},
    }}


_YAML_HEAD = """\
# zero-to-jupyterhub (z2jh) config.yaml, singleuser part: every student server runs the npsnn_edu image
# (built by repo2docker from this repository; see docs/course.md "Teaching a class").
# Merge into your config.yaml, then: helm upgrade --install jhub jupyterhub/jupyterhub -f config.yaml
"""


def z2jh_yaml(image: str, tag: str, **kwargs: Any) -> str:
    """:func:`z2jh_singleuser` as YAML text, with a comment header."""
    import yaml

    return _YAML_HEAD + yaml.safe_dump(z2jh_singleuser(image, tag, **kwargs), sort_keys=False)


def main(argv: "Sequence[str] | None" = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m npsnn_edu.course", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    link = sub.add_parser("link", help="print an nbgitpuller link")
    link.add_argument("--hub", required=True, help="the hub's base URL, e.g. https://hub.example.edu")
    link.add_argument("--repo", required=True, help="git clone URL of the repository with the student copies")
    link.add_argument("--branch", default="main")
    link.add_argument("--notebook", default="", help="path of the start notebook inside the repository")
    link.add_argument("--app", choices=sorted(_APPS), default="lab")
    hub = sub.add_parser("z2jh", help="print the singleuser section of a z2jh config.yaml")
    hub.add_argument("--image", required=True, help="image name, e.g. ghcr.io/ORG/npsnn-edu")
    hub.add_argument("--tag", required=True, help="image tag")
    hub.add_argument("--mode", choices=MODES, default="classroom")
    hub.add_argument("--memory", default="2G", help="memory limit per student (1G-2G)")
    hub.add_argument("--cpu", type=float, default=1.0, help="CPU limit per student")
    args = parser.parse_args(argv)
    try:
        if args.command == "link":
            print(nbgitpuller_link(args.hub, args.repo, branch=args.branch, notebook=args.notebook, app=args.app))
        else:
            print(z2jh_yaml(args.image, args.tag, mode=args.mode, memory_limit=args.memory, cpu_limit=args.cpu,
                            cpu_guarantee=min(0.5, args.cpu)), end="")
    except InvalidParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
