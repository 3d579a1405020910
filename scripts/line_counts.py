"""Lines of the package by role, at any git revision (issue 19: "lines in npsnn_edu before and after, by role").

``python scripts/line_counts.py [--rev REV ...] [--code-copy DIR]`` prints, for each revision (default: the working
tree), the lines of npsnn_edu by role and the lines of research/. Two counts per role: all lines, and code lines (not
blank, not a comment, not a docstring). Roles follow the layout of issue 19 and are assigned by module name, so an
older revision with the flat layout is counted the same way:

- core: the flat modules of ``npsnn_edu/`` (potentials, integrators, trajectory, systems, units, ...);
- chapters 1-2: ``npsnn_edu/md/`` (before: ``analysis.py``, ``stability.py``);
- chapter 3: ``npsnn_edu/gpr/``; chapter 4: ``npsnn_edu/spiking/``;
- viz, exercises; course: ``npsnn_edu/course/`` (before: ``assignments``, ``course``, ``notebook_runner``, ``site``,
  ``lesson_stats``).
"""
from __future__ import annotations

import argparse
import ast
import io
import subprocess
import sys
import tokenize
from pathlib import Path

ROLES = ("core", "chapters 1-2", "chapter 3", "chapter 4", "viz", "exercises", "course")
_FLAT_CHAPTER_1_2 = {"analysis", "stability"}
_FLAT_COURSE = {"assignments", "course", "notebook_runner", "site", "lesson_stats"}


def role_of(path: str) -> str:
    """The role of a file of the package, from its path relative to the repository root.

    Parameters
    ----------
    path : str
        e.g. ``"npsnn_edu/gpr/model.py"``.

    Returns
    -------
    str
        One of :data:`ROLES`.
    """
    parts = Path(path).parts[1:]
    if len(parts) == 1:
        stem = Path(parts[0]).stem
        if stem in _FLAT_CHAPTER_1_2:
            return "chapters 1-2"
        if stem in _FLAT_COURSE:
            return "course"
        return "core"
    return {"md": "chapters 1-2", "gpr": "chapter 3", "spiking": "chapter 4", "viz": "viz",
            "exercises": "exercises", "course": "course"}[parts[0]]


def _docstring_lines(source: str) -> set[int]:
    """Line numbers (1-based) of the docstrings of a source: a string that is the first statement of a module,
    class or function."""
    lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                lines.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return lines


def count_lines(source: str) -> tuple[int, int]:
    """All lines and code lines of one Python source.

    Parameters
    ----------
    source : str
        The file's text.

    Returns
    -------
    tuple of int
        (lines, code lines): code lines are those holding a token other than a comment, a newline or a docstring
        (a string that is the first statement of a module, class or function).
    """
    docstring_lines = _docstring_lines(source)
    code: set[int] = set()
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in skip:
            continue
        for line in range(tok.start[0], tok.end[0] + 1):
            if line not in docstring_lines:
                code.add(line)
    return len(source.splitlines()), len(code)


def code_only(source: str) -> str:
    """The source with its docstrings and comments blanked, line numbers kept.

    What ``duplicates --repo`` reads in a copy written by ``--code-copy``: the repeats it finds there are code, not
    the numpydoc blocks that functions with the same parameters share.

    Parameters
    ----------
    source : str
        A Python file's text.

    Returns
    -------
    str
        The same number of lines; docstring and comment-only lines empty, trailing comments removed.
    """
    blank = _docstring_lines(source)
    lines = source.splitlines()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            row, col = tok.start
            lines[row - 1] = lines[row - 1][:col].rstrip()
    return "\n".join("" if n in blank else line for n, line in enumerate(lines, 1)) + "\n"


def _files(rev: str | None, root: Path, folder: str) -> dict[str, str]:
    if rev is None:
        return {p.relative_to(root).as_posix(): p.read_text() for p in sorted((root / folder).rglob("*.py"))}
    names = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev, folder], cwd=root, check=True,
                           capture_output=True, text=True).stdout.split()
    return {n: subprocess.run(["git", "show", f"{rev}:{n}"], cwd=root, check=True, capture_output=True,
                              text=True).stdout for n in names if n.endswith(".py")}


def counts(rev: str | None = None, root: Path | str = ".") -> dict[str, tuple[int, int]]:
    """Lines and code lines per role (and ``"npsnn_edu"`` in total, ``"research/"``) at a revision.

    Parameters
    ----------
    rev : str or None, default None
        A git revision; None reads the working tree.
    root : Path or str, default "."
        The repository root.

    Returns
    -------
    dict of str to (int, int)
        Role -> (lines, code lines), in the order of :data:`ROLES`, then the package total and research/.
    """
    root = Path(root)
    table = {role: (0, 0) for role in ROLES}
    for path, text in _files(rev, root, "npsnn_edu").items():
        role = role_of(path)
        lines, code = count_lines(text)
        table[role] = (table[role][0] + lines, table[role][1] + code)
    table["npsnn_edu"] = (sum(v[0] for v in table.values()), sum(v[1] for v in table.values()))
    research = [count_lines(t) for t in _files(rev, root, "research").values()]
    table["research/"] = (sum(r[0] for r in research), sum(r[1] for r in research))
    return table


def main(argv: list[str] | None = None) -> int:
    """Command line: print the table for each revision asked for.

    Parameters
    ----------
    argv : list of str or None, default None
        Arguments (None: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status (0).
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", action="append", help="a git revision (repeat; default: the working tree)")
    parser.add_argument("--root", default=".", help="the repository root")
    parser.add_argument("--code-copy", metavar="DIR", help="also write npsnn_edu (of the last --rev) with docstrings "
                        "and comments blanked into DIR, for `duplicates --repo DIR`")
    args = parser.parse_args(argv)
    revs = args.rev or [None]
    tables = {rev or "working tree": counts(rev, args.root) for rev in revs}
    print("| role | " + " | ".join(f"{name}: lines / code" for name in tables) + " |")
    print("|---|" + "---|" * len(tables))
    for role in (*ROLES, "npsnn_edu", "research/"):
        print(f"| {role} | " + " | ".join(f"{t[role][0]:,} / {t[role][1]:,}" for t in tables.values()) + " |")
    if args.code_copy:
        for path, text in _files(revs[-1], Path(args.root), "npsnn_edu").items():
            out = Path(args.code_copy) / Path(path).relative_to("npsnn_edu")
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(code_only(text))
        print(f"code-only copy: {args.code_copy}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
