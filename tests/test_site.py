"""The built course website (``make test-site`` builds it into build/site/ first, then runs these tests).

- no broken internal link (npsnn_edu.course.site.check_links) and every notebook and docs/ page is on the site;
- the API reference (api/) documents the classes that implement each chapter's equations, with their parameters
  and the equations typeset;
- the exercise solutions are hidden (inside a collapsed "Show solution" toggle, or absent with SOLUTIONS=remove);
- headless Chromium (Debian's chromium, started as in tests/_jupyter_browser.py) opens the start page and a chapter
  page from a local HTTP server: text, a drawn figure, typeset maths, no Python error output, no failed request to
  the site itself; a solution opens with its button;
- a quiz (npsnn_edu.viz.quiz's output, as show_quiz displays it) renders and answers on a static page: a small
  book with one notebook is built with the same tools (and on the real site for every notebook that calls
  show_quiz).

Screenshots: build/screenshots/site_start.png and site_chapter.png.
"""
from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import nbformat
import pytest
from _jupyter_browser import REPO, BrowserUnavailable, ChromiumProcess, check_browser_available

from npsnn_edu.course.site import check_links, prepare_book

pytestmark = pytest.mark.site

SITE = REPO / "build" / "site"
SITE_VENV_BIN = REPO / "build" / "site-venv" / "bin"
MATHJAX = REPO / "build" / "site-npm" / "node_modules" / "mathjax"
SCREENSHOTS = REPO / "build" / "screenshots"
VIEWPORT = {"width": 1366, "height": 768}
NOTEBOOKS = sorted((REPO / "notebooks").glob("0*.ipynb"))
DOCS = sorted((REPO / "docs").rglob("*.md"))
#: JavaScript errors of the book tool's own pages, not of the content (Jupyter Book 1.0.4 registers sphinx-thebe's
#: and MathJax's script tags twice on every page: a redeclared constant and a second MathJax start-up that fails).
#: Any other uncaught error fails the test.
KNOWN_THEME_ERRORS = ("Identifier 'THEBE_JS_URL' has already been declared",
                      "Cannot set property Package of #<Object> which has only a getter")
SOLUTION_TOGGLE = re.compile(r'<details class="[^"]*\bhide above-input\b[^"]*">.*?</details>', re.S)


@pytest.fixture(scope="module")
def site() -> Path:
    if not (SITE / "index.html").is_file():
        pytest.fail("build/site/index.html is missing: run `make site` (or `make test-site`) first", pytrace=False)
    return SITE


def test_no_broken_internal_link(site):
    broken = check_links(site)
    assert broken == [], "\n".join(f"{b.page}: {b.target} ({b.reason})" for b in broken)


def test_every_notebook_and_docs_page_is_on_the_site(site):
    index = (site / "index.html").read_text(encoding="utf-8")
    expected = [f"notebooks/{p.stem}.html" for p in NOTEBOOKS]
    expected += [p.relative_to(REPO).with_suffix(".html").as_posix() for p in DOCS]
    assert len(expected) >= 5
    for rel in expected:
        assert (site / rel).is_file(), f"{rel} not built"
        assert f'href="{rel}"' in index, f"the start page's navigation does not link {rel}"


#: the classes and functions that implement each chapter's equations: the API reference must document each one
#: (its autodoc anchor is the dotted name) on its package's page
API_MAIN = {"npsnn_edu": ["npsnn_edu.potentials.LennardJones", "npsnn_edu.potentials.Morse",
                          "npsnn_edu.integrators.VelocityVerlet", "npsnn_edu.integrators.LangevinBAOAB",
                          "npsnn_edu.integrators.simulate", "npsnn_edu.trajectory.Trajectory"],
            "npsnn_edu.md": ["npsnn_edu.md.stability.amplification_matrix",
                             "npsnn_edu.md.analysis.radial_distribution"],
            "npsnn_edu.gpr": ["npsnn_edu.gpr.model.GPRPotential", "npsnn_edu.gpr.priors.get_prior"],
            "npsnn_edu.spiking": ["npsnn_edu.spiking.models.ClockSNN", "npsnn_edu.spiking.training.Trainer",
                                  "npsnn_edu.spiking.training.physics_loss",
                                  "npsnn_edu.spiking.problems.NewtonProblem"]}


@pytest.mark.parametrize("page", sorted(API_MAIN))
def test_api_reference_lists_the_main_classes_with_their_parameters_and_maths(site, page):
    index = (site / "index.html").read_text(encoding="utf-8")
    assert f'href="api/{page}.html"' in index, f"the start page's navigation does not link api/{page}.html"
    html = (site / "api" / f"{page}.html").read_text(encoding="utf-8")
    for name in API_MAIN[page]:
        assert f'id="{name}"' in html, f"{name} is not documented on api/{page}.html"
        start = html.index(f'id="{name}"')
        end = html.find('<dt class="sig', start + 1)  # the next documented object (a class's first method)
        assert "Parameters" in html[start:end if end > 0 else None], f"{name}: no Parameters section on the page"
    assert html.count('<div class="math notranslate nohighlight">') >= 1, "the equations are not typeset as maths"
    assert "Undefined substitution" not in html and 'class="problematic"' not in html


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_solutions_are_hidden(site, path):
    nb = nbformat.read(path, as_version=4)
    n_solutions = sum(1 for c in nb.cells if c.cell_type == "code" and "### BEGIN SOLUTION" in c.source)
    page = (site / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
    toggles = [t for t in SOLUTION_TOGGLE.findall(page) if "BEGIN SOLUTION" in t]
    outside = SOLUTION_TOGGLE.sub("", page)
    assert "BEGIN SOLUTION" not in outside, "solution code visible outside a collapsed toggle"
    if toggles:  # SOLUTIONS=hide (the default): one collapsed "Show solution" toggle per solution cell
        assert len(toggles) == n_solutions
        assert all("Show solution" in t for t in toggles)
    else:  # SOLUTIONS=remove: the solution cells are absent
        assert "Show solution" not in page


# ------------------------------------------------------------------------------------------------ browser
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # noqa: D102 - keep the test output clean
        pass


class StaticServer:
    """The built site over HTTP on a free localhost port (a thread of this process)."""

    def __init__(self, root: Path) -> None:
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     functools.partial(_QuietHandler, directory=str(root)))
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "StaticServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    try:
        check_browser_available()
    except BrowserUnavailable as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"site browser test cannot run under CI=true: {exc}", pytrace=False)
        pytest.skip(f"site browser test skipped: {exc}")
    from playwright.sync_api import sync_playwright

    chromium = ChromiumProcess(profile_dir=tmp_path_factory.mktemp("site-chromium"))
    try:
        try:
            chromium.start()
        except BrowserUnavailable as exc:
            pytest.fail(f"chromium is installed but did not start: {exc}", pytrace=False)
        with sync_playwright() as pw:
            b = pw.chromium.connect_over_cdp(chromium.cdp_url)
            context = b.new_context(viewport=VIEWPORT)
            try:
                yield context
            finally:
                try:
                    context.close()
                    b.close()
                except Exception:  # noqa: BLE001 - the process is killed by PID below anyway
                    pass
    finally:
        chromium.stop()


class PageLog:
    """Uncaught JavaScript errors and failed requests of one page (``failed``: any request that did not succeed,
    local or remote: the site must be whole without a network, MathJax and plotly.js included)."""

    def __init__(self, page, base: str) -> None:
        self.errors: list[str] = []
        self.failed: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("requestfailed", lambda r: self.failed.append(r.url))
        page.on("response", lambda r: self.failed.append(f"{r.status} {r.url}")
                if r.url.startswith(base) and r.status >= 400 and not r.url.endswith("/favicon.ico") else None)

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not any(k in e for k in KNOWN_THEME_ERRORS)]


def _open(context, url: str, base: str, *, maths: bool = True):
    """Open ``url``; with ``maths``, wait until MathJax has typeset something."""
    page = context.new_page()
    log = PageLog(page, base)
    page.goto(url, wait_until="load", timeout=90_000)
    if maths:
        page.wait_for_function("() => document.querySelector('mjx-container') !== null", timeout=30_000)
    page.wait_for_timeout(500)
    return page, log


def _assert_no_python_errors(page) -> None:
    text = page.evaluate("document.body.textContent")
    assert "Traceback (most recent call last)" not in text
    assert page.locator(".output.traceback, .output.error").count() == 0


def test_start_page_renders(site, browser):
    with StaticServer(site) as srv:
        page, log = _open(browser, f"{srv.base}/index.html", srv.base)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "site_start.png"))
        assert "npsnn_edu" in page.locator("h1").first.inner_text()
        assert page.locator("main").inner_text().count("Chapter") >= len([p for p in NOTEBOOKS if p.stem[2] == "_"])
        for path in NOTEBOOKS:  # the navigation leads to every notebook page
            assert page.locator(f'nav a[href="notebooks/{path.stem}.html"]').count() >= 1
        assert page.locator("mjx-container").count() >= 1  # maths in the chapter titles, typeset offline
        _assert_no_python_errors(page)
        assert log.failed == []
        assert log.unexpected_errors() == []
        page.close()


def _chapter_with_plotly(site: Path) -> Path:
    for path in NOTEBOOKS:
        html = site / "notebooks" / f"{path.stem}.html"
        if "Plotly.newPlot" in html.read_text(encoding="utf-8"):
            return html
    pytest.fail("no chapter page holds a plotly figure")


def test_chapter_page_renders_with_figures_maths_and_hidden_solutions(site, browser):
    chapter = _chapter_with_plotly(site)
    with StaticServer(site) as srv:
        page, log = _open(browser, f"{srv.base}/notebooks/{chapter.name}", srv.base)
        page.screenshot(path=str(SCREENSHOTS / "site_chapter.png"))
        assert page.locator("h1").first.inner_text().startswith("Chapter")
        images = page.evaluate("Array.from(document.querySelectorAll('.cell_output img'))"
                               ".filter(i => i.complete && i.naturalWidth > 50).length")
        plots = page.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot'))"
                              ".filter(p => p.querySelectorAll('.main-svg .trace, .main-svg path').length > 0).length")
        assert images + plots >= 1, "no drawn figure on the chapter page"
        assert plots >= 1, "the plotly figures were not drawn"
        assert page.locator("mjx-container").count() >= 1
        _assert_no_python_errors(page)
        widget_notes = page.locator(".npsnn-widget-note")
        if widget_notes.count():  # live widgets are replaced by a note, never an empty box
            assert "running Python kernel" in widget_notes.first.inner_text()
        summaries = page.locator("details.hide.above-input > summary")
        if summaries.count():  # SOLUTIONS=hide
            details = page.locator("details.hide.above-input").first
            code = details.locator(".cell_input pre").first
            assert not code.is_visible()
            assert "Show solution" in summaries.first.inner_text()
            summaries.first.click()
            code.wait_for(state="visible", timeout=5000)
            assert "BEGIN SOLUTION" in code.inner_text()
        assert log.failed == []
        assert log.unexpected_errors() == []
        page.close()


QUIZ = [{"question": "Which integrator keeps the energy error bounded?", "type": "multiple_choice",
         "answers": [{"answer": "velocity Verlet", "correct": True, "feedback": "Right: it is symplectic."},
                     {"answer": "forward Euler", "correct": False, "feedback": "No: its energy drifts."}]}]


def _mini_book(tmp: Path) -> Path:
    """A one-notebook book built with the site's own tools: a quiz output (as show_quiz displays it) and a
    solution cell."""
    from npsnn_edu.viz.quiz import QuizView

    if not (SITE_VENV_BIN / "sphinx-build").exists() or not MATHJAX.is_dir():
        pytest.fail("the site's book tool is not installed: run `make site` first", pytrace=False)
    root = tmp / "repo"
    shutil.copytree(REPO / "site", root / "site")
    (root / "notebooks").mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    bundle = QuizView(QUIZ, shuffle_answers=False)._repr_mimebundle_()
    nb.cells = [nbformat.v4.new_markdown_cell("# Chapter 1 · Quiz demo\n\n## Quiz"),
                nbformat.v4.new_code_cell('show_quiz("01_demo")',
                                          outputs=[nbformat.v4.new_output("display_data", data=bundle)]),
                nbformat.v4.new_code_cell("def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION")]
    nbformat.write(nb, root / "notebooks" / "01_demo.ipynb")
    executed = tmp / "exec"
    executed.mkdir()
    shutil.copy(root / "notebooks" / "01_demo.ipynb", executed)
    src, out = tmp / "src", tmp / "site"
    prepare_book(executed, src, root=root, mathjax=MATHJAX, api=False)
    subprocess.run([str(SITE_VENV_BIN / "jupyter-book"), "config", "sphinx", str(src)], check=True,
                   capture_output=True)
    # the book's own extension (_ext/npsnn_api.py, see docs/site.md) is found through PYTHONPATH, as in `make site`
    subprocess.run([str(SITE_VENV_BIN / "sphinx-build"), "-b", "html", "-q", str(src), str(out)], check=True,
                   capture_output=True, timeout=300, env={**os.environ, "PYTHONPATH": str(src / "_ext")})
    return out


def _answer_quiz(page) -> None:
    quiz = page.locator("div[id^=npsnnquiz]").first
    quiz.wait_for(state="visible", timeout=10_000)
    assert "Which integrator keeps the energy error bounded?" in quiz.inner_text()
    page.get_by_text("velocity Verlet", exact=True).first.click()
    page.get_by_text("Right: it is symplectic.").first.wait_for(state="visible", timeout=5000)


def test_quiz_renders_and_answers_on_a_static_page(tmp_path, browser):
    out = _mini_book(tmp_path)
    assert check_links(out) == []
    with StaticServer(out) as srv:
        page, log = _open(browser, f"{srv.base}/notebooks/01_demo.html", srv.base, maths=False)
        _answer_quiz(page)
        assert page.locator("details.hide.above-input").count() == 1
        assert log.unexpected_errors() == []
        assert log.failed == []
        page.close()


def test_every_chapter_quiz_renders_on_the_site(site, browser):
    with_quiz = [p for p in NOTEBOOKS if "show_quiz(" in p.read_text(encoding="utf-8")]
    with StaticServer(site) as srv:
        for path in with_quiz:
            page, log = _open(browser, f"{srv.base}/notebooks/{path.stem}.html", srv.base, maths=False)
            quiz = page.locator("div[id^=npsnnquiz]").first
            quiz.wait_for(state="visible", timeout=10_000)
            assert quiz.inner_text().strip(), f"{path.stem}: the quiz box is empty (its script did not run)"
            assert log.unexpected_errors() == [], path.stem
            page.close()
