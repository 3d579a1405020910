"""The course website's tools (npsnn_edu.course.site): solution tags, plotly HTML, book layout, MathJax, link check.

Fast unit tests on small hand-made notebooks and pages; the built site itself is checked by tests/test_site.py.
"""
from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml

from npsnn_edu.course.site import (
    API_TITLES,
    BrokenLink,
    add_plotly_html,
    api_modules,
    check_links,
    copy_mathjax,
    is_solution_cell,
    mark_solutions,
    prepare_book,
    replace_widget_views,
    transform_notebook,
    write_api_pages,
)
from npsnn_edu.errors import InvalidParameterError

REPO = Path(__file__).resolve().parents[1]
SOLUTION_SRC = "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"


def _nb() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Chapter 1 · Demo\n\nThe marker `### BEGIN SOLUTION` in prose is no solution."),
        nbformat.v4.new_code_cell(SOLUTION_SRC),
        nbformat.v4.new_code_cell("check(f)"),
        nbformat.v4.new_code_cell("g = 1", metadata={"tags": ["keep-me"]}),
    ]
    return nb


def test_only_code_cells_with_the_marker_are_solutions():
    nb = _nb()
    assert [is_solution_cell(c) for c in nb.cells] == [False, True, False, False]


def test_hide_mode_tags_solutions_and_names_the_toggle():
    nb = _nb()
    assert mark_solutions(nb, "hide") == 1
    sol = nb.cells[1]
    assert sol.metadata["tags"] == ["hide-input"]
    assert sol.metadata["mystnb"] == {"code_prompt_show": "Show solution", "code_prompt_hide": "Hide solution"}
    for cell in (nb.cells[0], nb.cells[2]):
        assert "tags" not in cell.metadata
    assert nb.cells[3].metadata["tags"] == ["keep-me"]
    assert mark_solutions(nb, "hide") == 1  # idempotent: the tag is not added twice
    assert sol.metadata["tags"] == ["hide-input"]


def test_remove_mode_removes_the_whole_cell_and_keeps_other_tags():
    nb = _nb()
    nb.cells[1].metadata["tags"] = ["graded"]
    assert mark_solutions(nb, "remove") == 1
    assert nb.cells[1].metadata["tags"] == ["graded", "remove-cell"]
    assert "mystnb" not in nb.cells[1].metadata


def test_unknown_solution_mode_is_a_typed_error_that_lists_the_modes():
    with pytest.raises(InvalidParameterError, match="'hide'.*'remove'"):
        mark_solutions(_nb(), "show")


@pytest.mark.parametrize("path", sorted((REPO / "notebooks").glob("0*.ipynb")), ids=lambda p: p.stem)
def test_every_solution_cell_of_the_chapters_is_tagged(path):
    nb = nbformat.read(path, as_version=4)
    n_markers = sum(1 for c in nb.cells if c.cell_type == "code" and "### BEGIN SOLUTION" in c.source)
    out = transform_notebook(nb, "hide")
    tagged = [c for c in out.cells if "hide-input" in c.metadata.get("tags", [])]
    assert len(tagged) == n_markers
    if path.name[2] == "_":  # a lab notebook (0N_...) has exercises
        assert n_markers > 0
    assert not any("hide-input" in c.metadata.get("tags", []) for c in nb.cells)  # the original is untouched


def _plotly_output(title: str) -> dict:
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=[0, 1, 2], y=[1, 3, 2]), layout={"title": title})
    return nbformat.v4.new_output("display_data", data={"application/vnd.plotly.v1+json": fig.to_plotly_json(),
                                                        "text/plain": "Figure"})


def test_plotly_outputs_get_html_with_plotlyjs_inlined_once():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("fig", outputs=[_plotly_output("first")]),
                nbformat.v4.new_code_cell("fig2", outputs=[_plotly_output("second")])]
    assert add_plotly_html(nb) == 2
    first, second = (c.outputs[0].data for c in nb.cells)
    for data, title in ((first, "first"), (second, "second")):
        assert "application/vnd.plotly.v1+json" not in data
        assert title in data["text/html"] and "Plotly.newPlot" in data["text/html"]
    # plotly.js itself (about 4 MB) only in the first figure: the page needs no network and carries it once
    assert len(first["text/html"]) > 1_000_000 > len(second["text/html"])
    assert add_plotly_html(nb) == 0


def test_live_widgets_become_a_note_and_their_state_is_dropped():
    nb = nbformat.v4.new_notebook()
    view = {"model_id": "abc", "version_major": 2, "version_minor": 0}
    nb.cells = [nbformat.v4.new_code_cell("w", outputs=[
        nbformat.v4.new_output("display_data", data={"application/vnd.jupyter.widget-view+json": view,
                                                     "text/plain": "VBox(children=(FloatSlider(...),))"}),
        nbformat.v4.new_output("stream", name="stdout", text="kept\n")])]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"abc": {}}}}
    assert replace_widget_views(nb) == 1
    data = nb.cells[0].outputs[0]["data"]
    assert set(data) == {"text/html", "text/plain"} and "running Python kernel" in data["text/plain"]
    assert nb.cells[0].outputs[1]["text"] == "kept\n"
    assert "widgets" not in nb.metadata
    assert replace_widget_views(nb) == 0


def _toc_globs() -> dict[str, list[str]]:
    toc = yaml.safe_load((REPO / "site" / "_toc.yml").read_text())
    return {part["caption"]: [ch["glob"] for ch in part["chapters"]] for part in toc["parts"]}


@pytest.mark.parametrize("name, part", [
    ("notebooks/01_newtonian_md", "Labs"), ("notebooks/04_spiking_pinn", "Labs"),
    ("notebooks/01b_ase_and_real_molecules", "Going further"), ("notebooks/03c_gpr_sparse", "Going further"),
    ("docs/course", "For teachers"), ("docs/instructor/ch2", "For teachers"),
    ("docs/instructor/extra/handout", "For teachers"), ("api/index", "API reference"),
    ("api/npsnn_edu.spiking", "API reference"),
])
def test_table_of_contents_globs_place_each_kind_of_page_in_one_part(name, part):
    hits = [caption for caption, globs in _toc_globs().items() if any(_toc_match(name, g) for g in globs)]
    assert hits == [part]


def _toc_match(name: str, pattern: str) -> bool:
    """Sphinx's toctree glob (sphinx.util.matching.patmatch): ``**`` crosses folders, ``*`` and ``?`` stay within
    one, ``[...]`` is a character class."""
    regex = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            regex, i = regex + ".*", i + 2
        elif pattern[i] == "*":
            regex, i = regex + "[^/]*", i + 1
        elif pattern[i] == "?":
            regex, i = regex + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            regex, i = regex + pattern[i:end + 1], end + 1
        else:
            regex, i = regex + re.escape(pattern[i]), i + 1
    return re.fullmatch(regex, name) is not None


def _fake_repo(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "repo"
    shutil.copytree(REPO / "site", root / "site")
    (root / "notebooks").mkdir(parents=True)
    (root / "docs" / "instructor").mkdir(parents=True)
    (root / "docs" / "instructor" / "ch1.md").write_text("# Chapter 1: lesson plan\n")
    executed = tmp_path / "exec" / "executed"
    executed.mkdir(parents=True)
    for name in ("01_demo.ipynb", "01b_more.ipynb"):
        nbformat.write(_nb(), root / "notebooks" / name)
        nbformat.write(_nb(), executed / name)
    return root, executed


def _fake_mathjax(tmp_path: Path) -> Path:
    pkg = tmp_path / "node_modules" / "mathjax"
    (pkg / "es5" / "output" / "chtml" / "fonts" / "woff-v2").mkdir(parents=True)
    (pkg / "es5" / "tex-mml-chtml.js").write_text("/* mathjax */")
    (pkg / "es5" / "output" / "chtml" / "fonts" / "woff-v2" / "MathJax_Main-Regular.woff").write_bytes(b"w")
    return pkg


def test_prepare_book_lays_out_sources_like_the_repository(tmp_path):
    root, executed = _fake_repo(tmp_path)
    out = tmp_path / "src"
    out.mkdir()
    (out / "stale.md").write_text("left from an earlier build")
    written = prepare_book(executed, out, root=root, solutions="remove", mathjax=_fake_mathjax(tmp_path))
    assert [p.name for p in written] == ["01_demo.ipynb", "01b_more.ipynb"]
    api_pages = {f"api/{page}.md" for page in api_modules()}
    assert {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} == {
        "_config.yml", "_toc.yml", "index.md", "docs/instructor/ch1.md", "notebooks/01_demo.ipynb",
        "notebooks/01b_more.ipynb", "_static/mathjax/tex-mml-chtml.js",
        "_static/mathjax/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff", "_ext/npsnn_api.py",
        "_ext/kit_paths.json", "api/index.md", *api_pages}
    nb = nbformat.read(out / "notebooks" / "01_demo.ipynb", as_version=4)
    assert nb.cells[1].metadata["tags"] == ["remove-cell"]
    assert "tags" not in nbformat.read(root / "notebooks" / "01_demo.ipynb", as_version=4).cells[1].metadata


def test_prepare_book_refuses_a_notebook_without_its_executed_copy(tmp_path):
    root, executed = _fake_repo(tmp_path)
    (executed / "01b_more.ipynb").unlink()
    with pytest.raises(InvalidParameterError, match=r"01b_more\.ipynb.*notebook_runner"):
        prepare_book(executed, tmp_path / "src", root=root)


def test_prepare_book_needs_the_book_config(tmp_path):
    root, executed = _fake_repo(tmp_path)
    (root / "site" / "_toc.yml").unlink()
    with pytest.raises(InvalidParameterError, match="_toc.yml"):
        prepare_book(executed, tmp_path / "src", root=root)


def test_copy_mathjax_refuses_a_folder_that_is_not_the_package(tmp_path):
    with pytest.raises(InvalidParameterError, match="npm install mathjax@3"):
        copy_mathjax(tmp_path, tmp_path / "static")


def _page(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<html><body>{body}</body></html>")


def test_check_links_reports_missing_files_fragments_and_escapes(tmp_path):
    site = tmp_path / "site"
    _page(site / "index.html", '<a href="notebooks/a.html#sec-2">ok</a> <a href="https://example.org/x">ext</a>'
                               '<img src="_static/logo.png"> <a href="#top">top</a> <h1 id="top">T</h1>'
                               '<a href="notebooks/">dir</a> <a href="mailto:a@b.c">mail</a>')
    _page(site / "notebooks" / "a.html", '<h2 id="sec-2">S</h2><a href="../index.html">up</a>'
                                         '<a href="b.html">missing</a><a href="../index.html#nowhere">frag</a>'
                                         '<a href="../../outside.html">escape</a>')
    _page(site / "notebooks" / "index.html", "")
    (site / "_static").mkdir()
    (site / "_static" / "logo.png").write_bytes(b"png")
    _page(site / "_static" / "macros.html", '<a href="{{ pathto(x) }}">template, not a page</a>')
    assert check_links(site) == [
        BrokenLink("notebooks/a.html", "b.html", "no such file"),
        BrokenLink("notebooks/a.html", "../index.html#nowhere", "no element with id 'nowhere'"),
        BrokenLink("notebooks/a.html", "../../outside.html", "points outside the site"),
    ]
    (site / "_static" / "logo.png").unlink()
    assert BrokenLink("index.html", "_static/logo.png", "no such file") in check_links(site)


def test_check_links_needs_a_built_site(tmp_path):
    with pytest.raises(InvalidParameterError, match="make site"):
        check_links(tmp_path)


# --- the API reference (api/ pages, site/_ext/npsnn_api.py) ----------------------------------------------------------

def _fake_package(tmp_path: Path) -> Path:
    pkg = tmp_path / "src" / "npsnn_edu"
    for rel in ("__init__.py", "core.py", "_private.py", "gpr/__init__.py", "gpr/model.py", "gpr/_helpers.py",
                "_hidden/__init__.py", "_hidden/thing.py", "spiking/__init__.py", "spiking/models.py",
                "spiking/basis.py"):
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text('"""doc"""\n')
    return pkg


def test_api_modules_groups_public_modules_by_package(tmp_path):
    assert api_modules(_fake_package(tmp_path)) == {
        "npsnn_edu": ["npsnn_edu", "npsnn_edu.core"],
        "npsnn_edu.gpr": ["npsnn_edu.gpr", "npsnn_edu.gpr.model"],
        "npsnn_edu.spiking": ["npsnn_edu.spiking", "npsnn_edu.spiking.basis", "npsnn_edu.spiking.models"]}


def test_api_modules_of_the_package_cover_every_chapter():
    groups = api_modules()
    modules = [m for page in groups.values() for m in page]
    for name in ("npsnn_edu.potentials", "npsnn_edu.integrators", "npsnn_edu.trajectory", "npsnn_edu.gpr.model",
                 "npsnn_edu.spiking.models", "npsnn_edu.spiking.training", "npsnn_edu.md.stability",
                 "npsnn_edu.course.hub"):
        assert name in modules
    # one page per package of the layout, each with its title
    assert set(groups) == {"npsnn_edu", "npsnn_edu.md", "npsnn_edu.gpr", "npsnn_edu.spiking", "npsnn_edu.viz",
                           "npsnn_edu.exercises", "npsnn_edu.course"}
    assert set(groups) == set(API_TITLES)
    assert not [m for m in modules if any(part.startswith("_") for part in m.split("."))]


def test_write_api_pages_documents_each_module_with_autodoc(tmp_path):
    pkg = _fake_package(tmp_path)
    out = tmp_path / "book"
    written = write_api_pages(out, package_dir=pkg)
    assert [p.relative_to(out).as_posix() for p in written] == [
        "api/index.md", "api/npsnn_edu.md", "api/npsnn_edu.gpr.md", "api/npsnn_edu.spiking.md"]
    index = (out / "api" / "index.md").read_text()
    assert index.startswith("# API reference")
    assert "](npsnn_edu.gpr.md): `npsnn_edu.gpr`, `npsnn_edu.gpr.model`" in index
    page = (out / "api" / "npsnn_edu.gpr.md").read_text()
    assert page.startswith("# Chapter 3: GPR potentials (npsnn_edu.gpr)")
    # the package: its docstring only (its names are documented in their modules); a module: all its members
    assert ".. automodule:: npsnn_edu.gpr\n```" in page
    assert "## `npsnn_edu.gpr.model`\n\n```{eval-rst}\n.. automodule:: npsnn_edu.gpr.model\n   :members:" in page
    paths = json.loads((out / "_ext" / "kit_paths.json").read_text())["paths"]
    assert paths[0] == str(pkg.parent)


def _api_extension():
    spec = importlib.util.spec_from_file_location("npsnn_api", REPO / "site" / "_ext" / "npsnn_api.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_api_extension_escapes_pipes_outside_literals_roles_and_maths():
    ext = _api_extension()
    lines = ["Error |E(t) - E0| / |E0| and ``|x|`` and :math:`|x|`.", "", ".. math::", "",
             "    \\lVert x \\rVert = |x|", "", "After |y|."]
    assert ext.escape_pipes(lines) == [
        "Error \\|E(t) - E0\\| / \\|E0\\| and ``|x|`` and :math:`|x|`.", "", ".. math::", "",
        "    \\lVert x \\rVert = |x|", "", "After \\|y\\|."]


def test_api_extension_turns_underlined_headings_into_rubrics():
    ext = _api_extension()
    lines = ["Intro.", "", "Exercises", "---------", "4c.1 a thing", "", "=====  ====", "a      b", "=====  ===="]
    assert ext.headings_to_rubrics(lines) == [
        "Intro.", "", ".. rubric:: Exercises", "", "4c.1 a thing", "", "=====  ====", "a      b", "=====  ===="]


def test_api_extension_appends_the_kit_paths_after_the_book_tools_own(tmp_path, monkeypatch):
    ext_dir = tmp_path / "_ext"
    ext_dir.mkdir()
    shutil.copy(REPO / "site" / "_ext" / "npsnn_api.py", ext_dir)
    (ext_dir / "kit_paths.json").write_text(json.dumps({"paths": ["/kit/repo", "/kit/site-packages"]}))
    spec = importlib.util.spec_from_file_location("npsnn_api_copy", ext_dir / "npsnn_api.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = ["/book/site-packages"]
    monkeypatch.setattr("sys.path", path)
    connected = []

    class App:
        def connect(self, event, fn):
            connected.append(event)

    assert module.setup(App())["parallel_read_safe"] is True
    assert path == ["/book/site-packages", "/kit/repo", "/kit/site-packages"]
    assert connected == ["autodoc-process-docstring"]


def test_prepare_book_refuses_a_malformed_executed_copy(tmp_path):
    from npsnn_edu.errors import DataFormatError

    root, executed = _fake_repo(tmp_path)
    (executed / "01b_more.ipynb").write_text('{"cells": [')  # truncated: an interrupted notebook_runner
    with pytest.raises(DataFormatError, match=r"01b_more\.ipynb is not a Jupyter notebook"):
        prepare_book(executed, tmp_path / "src", root=root)
