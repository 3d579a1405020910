"""The course on a real JupyterHub, end to end (``make hub-test``; marker ``hub``).

Boots JupyterHub (DummyAuthenticator with a password, SimpleLocalProcessSpawner, configurable-http-proxy from npm
in build/hub/) on free localhost ports with an instructor and two students (alice, bob); this venv is the
single-user server. Everything a teacher would set up comes from the kit: the student copies
(``npsnn_edu.course.assignments.generate``), the nbgitpuller link (``npsnn_edu.course.hub.nbgitpuller_link``), the
nbgrader course folder and the hub-wide nbgrader config (``write_nbgrader_course``). In headless Chromium:

1. alice clicks the kit's nbgitpuller link (a local bare git repository holding the student copies), logs in and
   lands in JupyterLab on chapter 1's student copy (screenshot: build/screenshots/hub_jupyterlab.png);
2. the instructor generates and releases an assignment built from chapter 1 (nbgrader's command line in the
   instructor's course folder); alice and bob fetch it through their servers' nbgrader handlers; alice solves one
   exercise; bob submits twice, the second time with an answer cell that raises; the instructor collects,
   autogrades, generates and releases feedback; both fetch their feedback. Asserted: alice's score on the solved
   exercise > 0 and bob's 0, each submission under its own student id, bob's raising cell graded 0 with its error
   shown in his feedback and nothing submitted lost, and no solution text in anything a student received;
3. a link to a repository that does not exist shows nbgitpuller's error and leaves the student's folder as it was;
4. the instructor pushes an update; alice clicks the link again: the update arrives and her own edit is kept.

Tear-down stops only the processes this test started (by PID); on failure the hub log's tail is printed.
Without configurable-http-proxy or chromium the test skips with what to install (fails under CI=true).
Times of each part go to build/hub_timings.json.
"""
from __future__ import annotations

import html
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from _jupyter_browser import (
    REPO,
    BrowserUnavailable,
    ChromiumProcess,
    _stop_pid_tree,
    check_browser_available,
    free_port,
    hub_login,
    user_api,
    wait_for_lab_document,
    wait_for_nbgitpuller_error,
)

from npsnn_edu.course.assignments import (
    BEGIN_SOLUTION,
    END_SOLUTION,
    find_exercises,
    generate,
    run_nbgrader,
    strip_solutions,
    student_nbgrader_config,
    write_nbgrader_course,
)
from npsnn_edu.course.hub import nbgitpuller_link

pytestmark = pytest.mark.hub

VENV_BIN = Path(sys.executable).parent
CHP = Path(os.environ.get("NPSNN_EDU_CHP", REPO / "build/hub/node_modules/.bin/configurable-http-proxy"))
CHAPTER = REPO / "notebooks" / "01_newtonian_md.ipynb"
COURSE_ID = "npsnn101"
USERS = ("instructor", "alice", "bob")
PASSWORD = "course-" + secrets.token_hex(4)
SCREENSHOTS = REPO / "build" / "screenshots"
TIMINGS = REPO / "build" / "hub_timings.json"
VIEWPORT = {"width": 1366, "height": 768}
GIT_ENV = {"GIT_AUTHOR_NAME": "Instructor", "GIT_AUTHOR_EMAIL": "instructor@example.edu",
           "GIT_COMMITTER_NAME": "Instructor", "GIT_COMMITTER_EMAIL": "instructor@example.edu"}


def _unavailable(msg: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"hub test cannot run under CI=true: {msg}", pytrace=False)
    pytest.skip(f"hub test skipped: {msg}")


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout


HUB_CONFIG = """\
c = get_config()  # noqa: F821
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.command = [{chp!r}]
c.ConfigurableHTTPProxy.pid_file = {work!r} + "/proxy.pid"
c.JupyterHub.db_url = "sqlite:///" + {work!r} + "/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = {work!r} + "/cookie_secret"
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allowed_users = {users!r}
c.Authenticator.admin_users = {{"instructor"}}
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {work!r} + "/homes/{{username}}"
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.args = {args!r}
c.Spawner.default_url = "/lab"
c.JupyterHub.implicit_spawn_seconds = 0.5  # a student's link to a stopped server starts it
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
c.Spawner.environment = {env!r}
c.JupyterHub.services = [{{"name": "ci", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{"name": "ci-role", "services": ["ci"],
                             "scopes": ["admin:users", "admin:servers", "read:users", "access:servers"]}}]
"""


class Hub:
    """A JupyterHub process started by this test (PID kept, stopped by PID with everything it started)."""

    def __init__(self, work: Path):
        self.work = work
        self.port, self.hub_port, self.api_port = free_port(), free_port(), free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = work / "hub.log"
        self.proc: subprocess.Popen | None = None
        self.etc = work / "etc" / "jupyter"   # hub-wide Jupyter config (TLJH: /opt/tljh/user/etc/jupyter)
        self.exchange = work / "exchange"

    def write_config(self) -> Path:
        settings = self.work / "lab_settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True, exist_ok=True)
        (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false",
                                                                                "checkForUpdates": False}))
        env = {"PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # alembic, git, the kernel
               "PYTHONPATH": str(REPO), "NPSNN_EDU_FAST": "1", "OMP_NUM_THREADS": "1",
               "JUPYTER_CONFIG_PATH": str(self.etc), "JUPYTERLAB_SETTINGS_DIR": str(self.work / "lab_settings")}
        args = ["--LabApp.news_url=", "--ServerApp.shutdown_no_activity_timeout=0"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--allow-root")
        for u in USERS:
            (self.work / "homes" / u).mkdir(parents=True, exist_ok=True)
        path = self.work / "jupyterhub_config.py"
        path.write_text(HUB_CONFIG.format(port=self.port, hub_port=self.hub_port, api_port=self.api_port,
                                          chp=str(CHP), work=str(self.work), password=PASSWORD, users=set(USERS),
                                          singleuser=str(VENV_BIN / "jupyterhub-singleuser"), args=args, env=env,
                                          token=self.token))
        return path

    def start(self, timeout: float = 90.0) -> None:
        config = self.write_config()
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([str(VENV_BIN / "jupyterhub"), "-f", str(config)], cwd=self.work,
                                     stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyterhub exited with code {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if self.api("GET", "/hub/api/")["version"]:
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"jupyterhub not up after {timeout:.0f} s:\n{self.log_tail()}")

    def api(self, method: str, path: str, body: object = None, timeout: float = 60.0) -> dict:
        req = urllib.request.Request(self.url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else {}

    def wait_ready(self, user: str, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.api("GET", f"/hub/api/users/{user}").get("servers", {}).get("", {}).get("ready"):
                return
            time.sleep(0.5)
        raise RuntimeError(f"{user}'s server not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no hub log)"

    def stop(self) -> None:
        if self.proc is None:
            return
        # the hub's own clean-up first (servers, proxy), then whatever of its process tree is left, by PID
        _stop_pid_tree(self.proc.pid, timeout=20)
        self.proc = None


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    if not CHP.exists():
        _unavailable(f"configurable-http-proxy not found at {CHP}: run `make hub-test` (it installs it from npm "
                     "into build/hub/; Node.js >= 18 needed)")
    try:
        check_browser_available()
    except BrowserUnavailable as exc:
        _unavailable(str(exc))
    work = tmp_path_factory.mktemp("hub")
    h = Hub(work)
    t0 = time.monotonic()
    try:
        h.start()
        h.boot_s = time.monotonic() - t0
        yield h
    finally:
        h.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory, hub):
    from playwright.sync_api import sync_playwright

    chromium = ChromiumProcess(profile_dir=tmp_path_factory.mktemp("hub-chromium"))
    try:
        try:
            chromium.start()
        except BrowserUnavailable as exc:
            pytest.fail(f"chromium is installed but did not start: {exc}", pytrace=False)
        with sync_playwright() as pw:
            b = pw.chromium.connect_over_cdp(chromium.cdp_url)
            try:
                yield b
            finally:
                try:
                    b.close()
                except Exception:  # noqa: BLE001 - the process is killed by PID below anyway
                    pass
    finally:
        chromium.stop()


def _student_repo(work: Path) -> tuple[Path, Path]:
    """A bare repository on the hub's disk with the student copy of chapter 1 (and the instructor's clone)."""
    clone, bare = work / "instructor_clone", work / "repos" / "npsnn_edu-student.git"
    generate([CHAPTER], clone / "student")
    (clone / "README.md").write_text("# Course notebooks\n\nWeek 1: chapter 1.\n")
    _git(clone, "init", "-q", "-b", "main")
    _git(clone, "add", ".")
    _git(clone, "commit", "-q", "-m", "week 1: chapter 1")
    bare.parent.mkdir()
    _git(work, "clone", "-q", "--bare", str(clone), str(bare))
    _git(clone, "remote", "add", "origin", str(bare))
    return clone, bare


def _solution_lines(instructor: nbformat.NotebookNode, skip: "set[str] | frozenset[str]" = frozenset()
                    ) -> dict[str, list[str]]:
    """Tell-tale solution lines of each exercise function: lines of its solution region, long enough, that appear
    nowhere else in the instructor notebook (a line also shown in the lesson's own text is no leak)."""
    outside = "\n".join(strip_solutions(c.source) for c in instructor.cells)
    out: dict[str, list[str]] = {}
    for ex in find_exercises(instructor):
        if ex.function not in skip:
            out[ex.function] = [ln.strip() for ln in ex.solution_lines
                                if len(ln.strip()) >= 12 and ln.strip() not in outside]
    return out


def _leaks(text: str, solutions: dict[str, list[str]]) -> list[str]:
    return [f"{fn}: {ln}" for fn, lines in solutions.items() for ln in lines if ln in text]


def _nb_text(path: Path) -> str:
    """All cell sources and outputs of a notebook as plain text (JSON escapes undone)."""
    nb = nbformat.read(path, as_version=4)
    return "\n".join([c.source for c in nb.cells] + [json.dumps(c.get("outputs", []), ensure_ascii=False)
                                                     for c in nb.cells])


def _html_text(page: str) -> str:
    """The text of an HTML page (nbgrader's feedback): tags removed (syntax highlighting splits code into
    spans), entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def _cell(nb: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    return cell


def test_course_round_trip_on_a_real_hub(hub, browser):
    try:
        _scenario(hub, browser)
    except BaseException:
        print(f"\n----- last lines of the hub log ({hub.log_path}) -----\n{hub.log_tail(80)}")
        raise


def _scenario(hub: Hub, browser) -> None:
    timings = {"hub_boot_s": round(hub.boot_s, 1)}
    t_start = time.monotonic()
    work, homes = hub.work, hub.work / "homes"
    instructor = nbformat.read(CHAPTER, as_version=4)
    exercises = [ex.function for ex in find_exercises(instructor)]
    all_solutions = _solution_lines(instructor)
    # alice solves the first exercise whose solution has tell-tale lines; bob's answer to another one raises
    solved = next(fn for fn in exercises if all_solutions[fn])
    broken = next(fn for fn in exercises if fn != solved)
    stem = CHAPTER.stem

    # --- the teacher's set-up, all from the kit --------------------------------------------------------------
    clone, bare = _student_repo(work)
    hub.exchange.mkdir(mode=0o777)
    hub.etc.mkdir(parents=True)
    (hub.etc / "nbgrader_config.py").write_text(student_nbgrader_config(COURSE_ID, str(hub.exchange)))
    course = homes / "instructor" / "course"
    made = work / "made_elsewhere" / "course"  # made on the teacher's laptop, then copied to the hub
    write_nbgrader_course([CHAPTER], made, mode="fast", course_id=COURSE_ID, exchange=str(hub.exchange))
    shutil.copytree(made, course)
    shutil.rmtree(made)
    link = nbgitpuller_link(hub.url, f"file://{bare}", notebook=f"student/{CHAPTER.name}")
    clone_dir = homes / "alice" / "npsnn_edu-student.git"  # nbgitpuller's own folder name, .git kept

    # --- servers: the instructor's started by the API; the students log in in the browser ---------------------
    t0 = time.monotonic()
    hub.api("POST", "/hub/api/users/instructor/server")
    alice_ctx, bob_ctx = browser.new_context(viewport=VIEWPORT), browser.new_context(viewport=VIEWPORT)
    alice, bob = alice_ctx.new_page(), bob_ctx.new_page()
    for page in (alice, bob):
        page.on("dialog", lambda d: d.accept())  # "leave page?" when a link replaces an open JupyterLab
    alice.goto(link)  # not logged in: the hub asks for a login first, then spawns, then nbgitpuller pulls
    hub_login(alice, "alice", PASSWORD)
    bob.goto(hub.url + "/hub/login")
    hub_login(bob, "bob", PASSWORD)
    url = wait_for_lab_document(alice, CHAPTER.name, timeout=240)
    for u in USERS:
        hub.wait_ready(u)
    bob.wait_for_url(re.compile(r".*/user/bob/lab.*"), timeout=120_000)
    timings["servers_ready_s"] = round(time.monotonic() - t0, 1)

    # 1. alice landed in JupyterLab on chapter 1's student copy, pulled into nbgitpuller's folder
    assert f"/user/alice/lab/tree/npsnn_edu-student.git/student/{CHAPTER.name}" in url, url
    pulled = nbformat.read(clone_dir / "student" / CHAPTER.name, as_version=4)
    assert nbformat.reads(_git(clone, "show", f"HEAD:student/{CHAPTER.name}"), as_version=4).cells == pulled.cells
    # the notebook's kernel (the kit's environment on the hub) starts
    alice.wait_for_function("() => /Idle/.test(document.querySelector('.jp-StatusBar-Widget, #jp-main-statusbar')"
                            "?.innerText || '')", timeout=180_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    alice.wait_for_timeout(1000)  # let the notebook finish rendering
    alice.screenshot(path=str(SCREENSHOTS / "hub_jupyterlab.png"))
    assert _leaks(_nb_text(CHAPTER), all_solutions)  # the check can see solution lines where they are
    assert not _leaks(_nb_text(clone_dir / "student" / CHAPTER.name), all_solutions)

    # 2. the assignment round trip
    t0 = time.monotonic()
    instr_env = {"HOME": str(homes / "instructor"), "JUPYTERHUB_USER": "instructor",
                 "JUPYTER_CONFIG_PATH": str(hub.etc), "NPSNN_EDU_MODE": "fast"}
    run_nbgrader(["generate_assignment", stem, "--force"], course, env=instr_env, timeout=300)
    run_nbgrader(["release_assignment", stem], course, env=instr_env, timeout=120)
    api = {"alice": (alice_ctx, "/user/alice"), "bob": (bob_ctx, "/user/bob")}
    for user, (ctx, base) in api.items():
        listed = user_api(ctx, hub.url, "POST", f"{base}/assignments/fetch",
                          form={"course_id": COURSE_ID, "assignment_id": stem})
        fetched = [a for a in listed["value"] if a["assignment_id"] == stem and a["status"] == "fetched"]
        assert fetched, f"{user} could not fetch: {listed}"
        received = _nb_text(homes / user / stem / CHAPTER.name)
        assert not _leaks(received, all_solutions), f"solution text reached {user}"
        assert "BEGIN HIDDEN TESTS" not in received and BEGIN_SOLUTION not in received and END_SOLUTION not in received

    source = nbformat.read(course / "source" / stem / CHAPTER.name, as_version=4)
    rel = f"{stem}/{CHAPTER.name}"
    # alice solves one exercise (types the solution into her copy and saves it, as JupyterLab does)
    model = user_api(alice_ctx, hub.url, "GET", f"/user/alice/api/contents/{rel}?content=1")
    nb = nbformat.from_dict(model["content"])
    _cell(nb, f"{stem}-{solved}").source = _cell(source, f"{stem}-{solved}").source
    user_api(alice_ctx, hub.url, "PUT", f"/user/alice/api/contents/{rel}", {"type": "notebook", "content": nb})
    # bob submits his untouched copy, then one whose answer cell raises
    submitted = {}
    for user in ("alice", "bob"):
        ctx, base = api[user]
        out = user_api(ctx, hub.url, "POST", f"{base}/assignments/submit",
                       form={"course_id": COURSE_ID, "assignment_id": stem})
        assert out.get("success", True) is not False, out
    model = user_api(bob_ctx, hub.url, "GET", f"/user/bob/api/contents/{rel}?content=1")
    nb = nbformat.from_dict(model["content"])
    cell = _cell(nb, f"{stem}-{broken}")
    cell.source = 'raise RuntimeError("bob: half-finished answer")\n' + cell.source
    user_api(bob_ctx, hub.url, "PUT", f"/user/bob/api/contents/{rel}", {"type": "notebook", "content": nb})
    out = user_api(bob_ctx, hub.url, "POST", "/user/bob/assignments/submit",
                   form={"course_id": COURSE_ID, "assignment_id": stem})
    inbound = sorted(p.name for p in (hub.exchange / COURSE_ID / "inbound").iterdir())
    for user in ("alice", "bob"):
        submitted[user] = [n for n in inbound if n.split("+")[0] == user and n.split("+")[1] == stem]
    assert len(submitted["alice"]) == 1 and len(submitted["bob"]) == 2, inbound  # each under its own id
    assert all(n.split("+")[0] in ("alice", "bob") for n in inbound), inbound

    run_nbgrader(["collect", stem], course, env=instr_env, timeout=120)
    assert sorted(p.name for p in (course / "submitted").iterdir()) == ["alice", "bob"]
    t1 = time.monotonic()
    run_nbgrader(["autograde", stem, "--force"], course, env=instr_env, timeout=600)
    timings["autograde_two_students_s"] = round(time.monotonic() - t1, 1)
    run_nbgrader(["generate_feedback", stem, "--force"], course, env=instr_env, timeout=300)
    run_nbgrader(["release_feedback", stem], course, env=instr_env, timeout=120)
    feedback = {}
    for user, (ctx, base) in api.items():
        user_api(ctx, hub.url, "POST", f"{base}/assignments/fetch_feedback",
                 form={"course_id": COURSE_ID, "assignment_id": stem})
        files = sorted((homes / user / stem / "feedback").rglob("*.html"))
        assert files, f"{user} received no feedback"
        feedback[user] = _html_text(files[-1].read_text(errors="replace"))

    # scores from the gradebook (nbgrader's own API), per student and per exercise
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id=COURSE_ID) as gb:
        scores = {u: {g.name: g.score for g in gb.find_submission_notebook(CHAPTER.stem, stem, u).grades}
                  for u in ("alice", "bob")}
    test_id = f"{stem}-test-{solved}"
    assert scores["alice"][test_id] > 0 and scores["bob"][test_id] == 0, scores
    assert scores["bob"][f"{stem}-test-{broken}"] == 0, scores
    graded_bob = nbformat.read(course / "autograded" / "bob" / stem / CHAPTER.name, as_version=4)
    assert "bob: half-finished answer" in json.dumps(_cell(graded_bob, f"{stem}-{broken}").outputs)
    assert "RuntimeError" in feedback["bob"] and "bob: half-finished answer" in feedback["bob"]
    # each feedback is the student's own, and no solution text reached either (alice's feedback shows her own)
    assert "bob: half-finished answer" not in feedback["alice"]
    assert not _leaks(feedback["bob"], all_solutions)
    assert not _leaks(feedback["alice"], _solution_lines(instructor, skip={solved}))
    assert _leaks(feedback["alice"], {solved: all_solutions[solved]})  # her own answer is there (control)
    # nothing already submitted was lost: bob's two submissions and alice's stay in the exchange
    assert sorted(p.name for p in (hub.exchange / COURSE_ID / "inbound").iterdir()) == inbound
    timings["assignment_round_trip_s"] = round(time.monotonic() - t0, 1)

    # 3. a link to a repository that does not exist: nbgitpuller's error, the student's folder untouched
    t0 = time.monotonic()
    my_note = "alice's own note: the period grows with amplitude"
    model = user_api(alice_ctx, hub.url, "GET", f"/user/alice/api/contents/npsnn_edu-student.git/student/"
                                               f"{CHAPTER.name}?content=1")
    nb = nbformat.from_dict(model["content"])
    nb.cells.append(nbformat.v4.new_markdown_cell(my_note))
    user_api(alice_ctx, hub.url, "PUT", f"/user/alice/api/contents/npsnn_edu-student.git/student/{CHAPTER.name}",
             {"type": "notebook", "content": nb})
    before = sorted(p.name for p in homes.joinpath("alice").iterdir())
    bad = nbgitpuller_link(hub.url, f"file://{work}/repos/no-such-course.git", notebook=f"student/{CHAPTER.name}",
                           check=False)
    alice.goto(bad)
    error = wait_for_nbgitpuller_error(alice)
    assert error.startswith("Error"), error
    assert sorted(p.name for p in homes.joinpath("alice").iterdir()) == before
    assert my_note in (clone_dir / "student" / CHAPTER.name).read_text()

    # 4. the instructor pushes an update; alice clicks the link again: update in, her edit kept
    (clone / "README.md").write_text("# Course notebooks\n\nWeek 1: chapter 1.\nWeek 2: chapter 2 next Monday.\n")
    (clone / "student" / "week2_notice.md").write_text("Chapter 2 opens on Monday.\n")
    _git(clone, "add", ".")
    _git(clone, "commit", "-q", "-m", "week 2 notice")
    _git(clone, "push", "-q", "origin", "main")
    alice.goto(link)
    wait_for_lab_document(alice, CHAPTER.name, timeout=120)
    assert (clone_dir / "student" / "week2_notice.md").read_text() == "Chapter 2 opens on Monday.\n"
    assert "Week 2" in (clone_dir / "README.md").read_text()
    assert my_note in (clone_dir / "student" / CHAPTER.name).read_text()
    timings["links_s"] = round(time.monotonic() - t0, 1)
    timings["scenario_s"] = round(time.monotonic() - t_start, 1)
    timings["total_with_boot_s"] = round(timings["scenario_s"] + hub.boot_s, 1)
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    TIMINGS.write_text(json.dumps(timings, indent=1) + "\n")
    print(f"hub timings: {timings}")
    alice_ctx.close()
    bob_ctx.close()
