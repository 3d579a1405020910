"""The course website: book sources from the executed notebooks and docs/, and a link check of the built HTML.

``make site`` runs three steps (see the Makefile):

1. ``python -m npsnn_edu.course.notebook_runner --no-html --out build/site-exec`` executes every ``notebooks/0*.ipynb``
   (fast mode; ``make site FULL=1``: full mode, for publishing);
2. ``python -m npsnn_edu.course.site prepare`` (this module) lays out the book sources in ``build/site-src/``: the
   book's own files from ``site/`` (``_config.yml``, ``_toc.yml``, ``index.md``), ``docs/`` as it is, and every executed
   notebook with its exercise solutions marked by cell tags (:func:`mark_solutions`), its plotly figures given an
   HTML rendering that a static page can show (:func:`add_plotly_html`) and its live widgets replaced by a note
   (:func:`replace_widget_views`); MathJax is copied from its npm package (:func:`copy_mathjax`);
3. Jupyter Book (``jupyter-book config sphinx`` then ``sphinx-build``) writes the static site into ``build/site/``.

The table of contents (``site/_toc.yml``) lists the pages by glob pattern, so new going-further notebooks
(``notebooks/0Nb_*.ipynb``) and new pages under ``docs/`` appear without editing any list. Solutions are marked with
the book tool's own cell tags: ``hide-input`` (collapsed behind a "Show solution" button) or ``remove-cell``
(absent from the page). :func:`check_links` finds broken internal links in the built site (``tests/test_site.py``).
"""
from __future__ import annotations

import copy
import html.parser
import json
import posixpath
import shutil
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import unquote, urlsplit

import plotly.io as pio

from ..errors import InvalidParameterError
from ._cli import command_line
from ._cli import parser as cli_parser
from .notebook_runner import read_notebook_file

__all__ = ["SOLUTION_BEGIN", "SOLUTION_MODES", "BrokenLink", "is_solution_cell", "mark_solutions", "add_plotly_html",
           "replace_widget_views", "transform_notebook", "copy_mathjax", "api_modules", "write_api_pages",
           "prepare_book", "check_links", "main"]

#: nbgrader's marker that opens a solution region in a code cell (the kit's convention)
SOLUTION_BEGIN = "### BEGIN SOLUTION"
#: how solutions appear on the site: ``hide`` collapses the solution cell behind a button, ``remove`` drops it
SOLUTION_MODES = ("hide", "remove")
_TAG_FOR_MODE = {"hide": "hide-input", "remove": "remove-cell"}


def _source(cell: Any) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def is_solution_cell(cell: Any) -> bool:
    """True for a code cell that holds an exercise solution (a ``### BEGIN SOLUTION`` line).

    Parameters
    ----------
    cell : dict
        A notebook cell.

    Returns
    -------
    bool
    """
    return cell.get("cell_type") == "code" and SOLUTION_BEGIN in _source(cell)


def _check_mode(solutions: str) -> str:
    if solutions not in SOLUTION_MODES:
        raise InvalidParameterError(f"solutions={solutions!r} is not a solution mode: use one of {SOLUTION_MODES} "
                                    "('hide' collapses each solution behind a button, 'remove' leaves it out)")
    return solutions


def mark_solutions(nb: Any, solutions: str = "hide") -> int:
    """Tag every solution cell of ``nb`` (in place) for the book tool; returns how many cells were tagged.

    ``solutions="hide"`` adds the ``hide-input`` tag and names the toggle "Show solution" / "Hide solution"
    (myst-nb's cell-level ``code_prompt_show`` / ``code_prompt_hide``); ``"remove"`` adds ``remove-cell``.
    Tags the cell already carries are kept; running it twice adds nothing.

    Parameters
    ----------
    nb : nbformat.NotebookNode or dict
        The notebook (changed in place).
    solutions : {"hide", "remove"}, default "hide"
        How solutions appear.

    Returns
    -------
    int

    Raises
    ------
    InvalidParameterError
        Another mode.
    """
    tag = _TAG_FOR_MODE[_check_mode(solutions)]
    n = 0
    for cell in nb.get("cells", []):
        if not is_solution_cell(cell):
            continue
        meta = cell.setdefault("metadata", {})
        tags = list(meta.get("tags", []))
        if tag not in tags:
            tags.append(tag)
        meta["tags"] = tags
        if solutions == "hide":
            prompts = dict(meta.get("mystnb", {}))
            prompts.update(code_prompt_show="Show solution", code_prompt_hide="Hide solution")
            meta["mystnb"] = prompts
        n += 1
    return n


PLOTLY_MIME = "application/vnd.plotly.v1+json"


def add_plotly_html(nb: Any) -> int:
    """Give every plotly output of ``nb`` (in place) a ``text/html`` rendering; returns how many outputs changed.

    A static page cannot run plotly's notebook renderer: each plotly figure is drawn from an HTML rendering with
    plotly.js embedded inline in the notebook's first figure (no network needed to view the page), as the kit's
    HTML reports do. The plotly JSON itself is dropped from the bundle (the book tool has no renderer for it).

    Parameters
    ----------
    nb : nbformat.NotebookNode or dict
        The notebook (changed in place).

    Returns
    -------
    int
    """
    first = True
    n = 0
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if PLOTLY_MIME not in data:
                continue
            if "text/html" not in data or first:
                data["text/html"] = pio.to_html(dict(data[PLOTLY_MIME]), full_html=False, include_plotlyjs=first,
                                                validate=False)
                first = False
            del data[PLOTLY_MIME]
            n += 1
    return n


WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
#: what a static page shows where the notebook displays a live widget (sliders, buttons, a 3D view)
WIDGET_NOTE = ("Interactive widget (controls, live plot or 3D view): it needs a running Python kernel, so it "
               "works when you run this notebook in JupyterLab, not on this page.")


def replace_widget_views(nb: Any) -> int:
    """Replace every live-widget output of ``nb`` (in place) by a short note; returns how many were replaced.

    A widget is drawn by its kernel: on a static page its controls would move nothing. The notebook's saved
    widget state (``metadata.widgets``) is dropped too, so the page loads no widget manager from the network.

    Parameters
    ----------
    nb : nbformat.NotebookNode or dict
        The notebook (changed in place).

    Returns
    -------
    int
    """
    n = 0
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_VIEW_MIME in data:
                out["data"] = {"text/html": f'<p class="npsnn-widget-note"><em>{WIDGET_NOTE}</em></p>',
                               "text/plain": WIDGET_NOTE}
                n += 1
    nb.get("metadata", {}).pop("widgets", None)
    return n


def transform_notebook(nb: Any, solutions: str = "hide") -> Any:
    """A copy of an executed notebook ready for the site: solutions tagged, plotly figures with HTML, live
    widgets replaced by a note.

    Parameters
    ----------
    nb : nbformat.NotebookNode or dict
        An executed notebook (not changed).
    solutions : {"hide", "remove"}, default "hide"
        How solutions appear.

    Returns
    -------
    nbformat.NotebookNode or dict
    """
    nb = copy.deepcopy(nb)
    mark_solutions(nb, solutions)
    add_plotly_html(nb)
    replace_widget_views(nb)
    return nb


def _repo_root() -> Path:
    here = Path.cwd()
    return here if (here / "notebooks").is_dir() else Path(__file__).resolve().parents[2]


#: the files of the MathJax npm package (its es5 build) that the site serves itself: the combined TeX/MathML
#: component and its web fonts (``site/_config.yml`` points ``mathjax_path`` at the copy)
MATHJAX_FILES = ("es5/tex-mml-chtml.js", "es5/output/chtml/fonts/woff-v2")


def copy_mathjax(package: "str | Path", static: "str | Path") -> Path:
    """Copy MathJax's browser files from an installed npm package (``node_modules/mathjax``) into
    ``static/mathjax`` (same layout below ``es5/``), so pages typeset their maths without a network; returns the
    folder.

    Parameters
    ----------
    package : str or Path
        The npm package folder (``node_modules/mathjax``).
    static : str or Path
        The book's ``_static`` folder.

    Returns
    -------
    Path

    Raises
    ------
    InvalidParameterError
        No MathJax browser files in ``package``.
    """
    package, dest = Path(package), Path(static) / "mathjax"
    missing = [f for f in MATHJAX_FILES if not (package / f).exists()]
    if missing:
        raise InvalidParameterError(f"{package} is not MathJax 3's npm package (missing {', '.join(missing)}): "
                                    "install it with `npm install mathjax@3` and pass its node_modules/mathjax")
    for rel in MATHJAX_FILES:
        src, target = package / rel, dest / Path(rel).relative_to("es5")
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, target, dirs_exist_ok=True)
        else:
            shutil.copy2(src, target)
    return dest


#: folder of the API reference in the book (one page per package, a section per module; ``site/_toc.yml`` globs it)
API_DIR = "api"
#: page titles of the API reference by package (a package not listed is titled by its name)
API_TITLES = {"npsnn_edu": "Core (npsnn_edu)",
              "npsnn_edu.md": "Chapters 1-2: Newtonian MD and stability (npsnn_edu.md)",
              "npsnn_edu.gpr": "Chapter 3: GPR potentials (npsnn_edu.gpr)",
              "npsnn_edu.spiking": "Chapter 4: spiking PINNs (npsnn_edu.spiking)",
              "npsnn_edu.viz": "Figures and widgets (npsnn_edu.viz)",
              "npsnn_edu.exercises": "Exercise self-checks (npsnn_edu.exercises)",
              "npsnn_edu.course": "Course tooling (npsnn_edu.course)"}


def api_modules(package_dir: "str | Path | None" = None, package: str = "npsnn_edu") -> dict[str, list[str]]:
    """The public modules of the package, grouped by the package that holds them (one API page each).

    Read from the source tree (nothing is imported): every ``*.py`` file whose dotted path has no part starting
    with ``_`` (``__init__.py`` stands for its package). A package's page lists the package itself first.

    Parameters
    ----------
    package_dir : str, Path or None, default None
        Folder of the package (None: the installed ``npsnn_edu``).
    package : str, default "npsnn_edu"
        Its import name.

    Returns
    -------
    dict of str to list of str
        Package name -> dotted module names, packages sorted, modules sorted within each.
    """
    root = Path(package_dir) if package_dir is not None else Path(__file__).resolve().parents[1]
    groups: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        if any(part.startswith("_") for part in parts):
            continue
        name = ".".join((package, *parts))
        if is_package:
            groups.setdefault(name, []).insert(0, name)
        else:
            groups.setdefault(name.rpartition(".")[0], []).append(name)
    return {page: groups[page] for page in sorted(groups)}


def _api_page(page: str, modules: list[str]) -> str:
    lines = [f"# {API_TITLES.get(page, page)}", ""]
    for module in modules:
        if module == page:  # the package: its docstring (its names are documented in their own modules)
            lines += ["```{eval-rst}", f".. automodule:: {module}", "```", ""]
            continue
        lines += [f"## `{module}`", "", "```{eval-rst}", f".. automodule:: {module}", "   :members:",
                  "   :show-inheritance:", "```", ""]
    return "\n".join(lines)


def write_api_pages(out: "str | Path", package_dir: "str | Path | None" = None) -> list[Path]:
    """Write the API reference of the package into the book sources ``out``: ``api/index.md`` and one page per
    package, each module documented by Sphinx autodoc (numpydoc sections through napoleon), plus
    ``_ext/kit_paths.json``, the kit's import paths that the book's extension ``_ext/npsnn_api.py`` appends to
    ``sys.path`` so that the book tool's environment can import the package (nothing is installed into it).

    Parameters
    ----------
    out : str or Path
        The book sources (as laid out by :func:`prepare_book`).
    package_dir : str, Path or None, default None
        Folder of the package (None: the installed ``npsnn_edu``).

    Returns
    -------
    list of Path
        The pages written, ``api/index.md`` first.
    """
    out = Path(out)
    api = out / API_DIR
    api.mkdir(parents=True, exist_ok=True)
    groups = api_modules(package_dir)
    index = ["# API reference", "",
             "Every public class and function of the helper package `npsnn_edu`, with its parameters (shapes and "
             "units: reduced Lennard-Jones units in chapters 1, 2 and 4; eV, Angstrom and fs where ASE is involved), "
             "what it returns and what it raises. The classes that implement a chapter's equation carry it as "
             "maths. Generated from the docstrings by Sphinx autodoc.", ""]
    written = [api / "index.md"]
    for page, modules in groups.items():
        (api / f"{page}.md").write_text(_api_page(page, modules))
        written.append(api / f"{page}.md")
        index.append(f"- [{API_TITLES.get(page, page)}]({page}.md): " + ", ".join(f"`{m}`" for m in modules))
    (api / "index.md").write_text("\n".join(index) + "\n")
    src = Path(package_dir) if package_dir is not None else Path(__file__).resolve().parents[1]
    paths = [str(src.parent), *dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))]
    (out / "_ext").mkdir(exist_ok=True)
    (out / "_ext" / "kit_paths.json").write_text(json.dumps({"paths": paths}, indent=1) + "\n")
    return written


def prepare_book(executed: "str | Path", out: "str | Path", *, root: "str | Path | None" = None,
                 solutions: str = "hide", mathjax: "str | Path | None" = None, api: bool = True) -> list[Path]:
    """Lay out the book sources in ``out`` (emptied first); returns the notebooks written.

    ``executed`` holds the executed copies (``<name>.ipynb``) of every ``notebooks/0*.ipynb`` of ``root`` (the
    repository); a notebook without its executed copy raises :class:`~npsnn_edu.errors.InvalidParameterError`.
    ``mathjax``: the installed MathJax npm package, copied to ``_static/mathjax`` (:func:`copy_mathjax`).

    Parameters
    ----------
    executed : str or Path
        Folder of the executed notebooks.
    out : str or Path
        Book source folder (emptied first).
    root : str, Path or None, default None
        Repository root (None: this checkout).
    solutions : {"hide", "remove"}, default "hide"
        How solutions appear.
    mathjax : str, Path or None, default None
        The MathJax npm package to copy.
    api : bool, default True
        Write the API reference (:func:`write_api_pages`); False leaves ``api/`` out (a book of a few pages
        built by a test: the toc's ``api/*`` glob then matches nothing, a warning).

    Returns
    -------
    list of Path

    Raises
    ------
    InvalidParameterError
        A notebook without its executed copy, or a bad mode.
    """
    import nbformat

    _check_mode(solutions)
    root = Path(root) if root is not None else _repo_root()
    executed, out = Path(executed), Path(out)
    site_dir = root / "site"
    sources = sorted((root / "notebooks").glob("0*.ipynb"))
    if not (site_dir / "_config.yml").is_file() or not (site_dir / "_toc.yml").is_file():
        raise InvalidParameterError(f"{site_dir} must hold the book's _config.yml and _toc.yml: run from the "
                                    "repository root or pass root=")
    if not sources:
        raise InvalidParameterError(f"no notebooks match {root / 'notebooks'}/0*.ipynb: pass the repository as root=")
    missing = [p.name for p in sources if not (executed / p.name).is_file()]
    if missing:
        raise InvalidParameterError(f"no executed copy of {', '.join(missing)} in {executed}: run `python -m "
                                    f"npsnn_edu.course.notebook_runner --no-html --out {executed.parent}` first")
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(site_dir, out, ignore=shutil.ignore_patterns("requirements.txt"))
    if (root / "docs").is_dir():
        shutil.copytree(root / "docs", out / "docs")
    written = []
    for src in sources:
        nb = transform_notebook(read_notebook_file(executed / src.name), solutions)
        dest = out / "notebooks" / src.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dest)
        written.append(dest)
    if mathjax is not None:
        copy_mathjax(mathjax, out / "_static")
    if api:
        write_api_pages(out)
    return written


@dataclass(frozen=True)
class BrokenLink:
    """An internal link of the built site that leads nowhere: ``page`` (relative to the site) links to ``target``.

    Parameters
    ----------
    page : str
        Page holding the link, relative to the site.
    target : str
        The link target.
    reason : str
        Why it is broken.
    """

    page: str
    target: str
    reason: str


class _LinkParser(html.parser.HTMLParser):
    _ATTRS = {"a": "href", "link": "href", "img": "src", "script": "src", "iframe": "src", "source": "src"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, "str | None"]]) -> None:
        d = dict(attrs)
        for key in ("id", "name"):
            if d.get(key) and (key == "id" or tag == "a"):
                self.ids.add(str(d[key]))
        attr = self._ATTRS.get(tag)
        if attr and d.get(attr):
            self.links.append(str(d[attr]))


def _parse(path: Path, cache: dict[Path, _LinkParser]) -> _LinkParser:
    if path not in cache:
        parser = _LinkParser()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        cache[path] = parser
    return cache[path]


def check_links(site: "str | Path") -> list[BrokenLink]:
    """Every internal link (``a``, ``link``, ``img``, ``script``, ``iframe``) of every HTML page under ``site``
    whose target file is missing, or whose ``#fragment`` names no element id of the target page.

    External links (with a scheme, or ``//host``) are not followed: the site is checked offline. Files under
    ``_static/`` and ``_sources/`` are the theme's assets and page sources, not pages (their links are only checked
    when a page uses them).

    Parameters
    ----------
    site : str or Path
        The built site.

    Returns
    -------
    list of BrokenLink
    """
    site = Path(site)
    if not (site / "index.html").is_file():
        raise InvalidParameterError(f"{site} has no index.html: build the site first (make site)")
    cache: dict[Path, _LinkParser] = {}
    broken = []
    for page in sorted(site.rglob("*.html")):
        rel_page = page.relative_to(site).as_posix()
        if rel_page.startswith(("_static/", "_sources/")):
            continue
        for link in _parse(page, cache).links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith("//"):
                continue
            if parts.path:
                target_rel = posixpath.normpath(posixpath.join(posixpath.dirname(rel_page), unquote(parts.path)))
                if target_rel.startswith("../") or target_rel == "..":
                    broken.append(BrokenLink(rel_page, link, "points outside the site"))
                    continue
                target = site / target_rel
                if target.is_dir():
                    target = target / "index.html"
            else:
                target = page
            if not target.is_file():
                broken.append(BrokenLink(rel_page, link, "no such file"))
                continue
            frag = unquote(parts.fragment)
            if frag and target.suffix == ".html" and frag not in _parse(target, cache).ids:
                broken.append(BrokenLink(rel_page, link, f"no element with id {frag!r}"))
    return broken


@command_line("Command line: ``prepare`` (lay out the book) and ``check-links`` (see the module docstring).")
def main(argv: "Sequence[str] | None" = None) -> int:
    parser = cli_parser("npsnn_edu.course.site", __doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare", help="lay out the book sources from the executed notebooks and docs/")
    prep.add_argument("--executed", type=Path, default=Path("build/site-exec/executed"),
                      help="folder of the executed notebooks (default build/site-exec/executed)")
    prep.add_argument("--out", type=Path, default=Path("build/site-src"), help="book sources (default build/site-src)")
    prep.add_argument("--solutions", choices=SOLUTION_MODES, default="hide",
                      help="hide: solutions collapsed behind a button (default); remove: left out")
    prep.add_argument("--mathjax", type=Path, default=None,
                      help="MathJax 3 npm package folder (node_modules/mathjax) to serve from the site itself")
    links = sub.add_parser("check-links", help="list broken internal links of a built site")
    links.add_argument("site", type=Path, nargs="?", default=Path("build/site"))
    args = parser.parse_args(argv)
    if args.command == "prepare":
        written = prepare_book(args.executed, args.out, solutions=args.solutions, mathjax=args.mathjax)
        print(f"book sources in {args.out}: {len(written)} notebooks, solutions {args.solutions}")
        return 0
    broken = check_links(args.site)
    for b in broken:
        print(f"{b.page}: {b.target} ({b.reason})")
    n_pages = sum(1 for p in Path(args.site).rglob("*.html") if not p.relative_to(args.site).parts[0].startswith("_"))
    print(f"{len(broken)} broken internal link(s) in {n_pages} pages of {args.site}")
    return 1 if broken else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
