"""The static checks script: each check passes on this repository and fails, by name, on a broken example.

The broken examples run the real script against a small tree in a temporary folder
(``STATIC_CHECKS_ROOT``), laid out like the repository: lambda/, tasks.py, devkit/ and the
repository's pyproject.toml, so ruff applies the same configuration.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / ".ci" / "static-checks"
STEPS = ("ruff", "bandit", "vermin")
TIMEOUT_SECONDS = 120

CLEAN_FUNCTION = '''"""A module that every check accepts."""

from typing import Optional


def count(value: Optional[int]) -> int:
    return value or 0
'''


def run_checks(*steps: str, root: Path = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("STATIC_CHECKS_ROOT", None)
    if root is not None:
        env["STATIC_CHECKS_ROOT"] = str(root)
    return subprocess.run(  # noqa: S603 - fixed argv: bash and this repository's script
        ["bash", str(SCRIPT), *steps], capture_output=True, text=True, timeout=TIMEOUT_SECONDS, env=env, check=False
    )


def output_of(done: subprocess.CompletedProcess) -> str:
    return done.stdout + done.stderr


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Return a tree laid out like the repository, with one clean module in each checked place."""
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "lambda" / "tracking").mkdir(parents=True)
    (tmp_path / "lambda" / "tracking" / "counting.py").write_text(CLEAN_FUNCTION, encoding="utf-8")
    (tmp_path / "devkit").mkdir()
    (tmp_path / "devkit" / "__init__.py").write_text('"""Developer tools."""\n', encoding="utf-8")
    (tmp_path / "tasks.py").write_text('"""Invoke tasks."""\n', encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("step", STEPS)
def test_static_checks_pass_on_repository(step):
    done = run_checks(step)

    assert done.returncode == 0, f"{step} failed on the repository:\n{output_of(done)}"
    assert f"== static-checks: {step} passed" in done.stdout, output_of(done)


def test_static_checks_pass_on_clean_tree(tree):
    # The broken-example tests below differ from this tree by one file, so that file is what fails.
    done = run_checks(root=tree)

    assert done.returncode == 0, output_of(done)
    assert "static-checks passed: ruff bandit vermin" in done.stdout, output_of(done)


def test_ruff_fails_on_unused_import(tree):
    (tree / "devkit" / "unused.py").write_text('"""Tools."""\n\nimport os\n', encoding="utf-8")

    done = run_checks(root=tree)

    assert done.returncode == 1, output_of(done)
    assert "F401" in done.stdout, output_of(done)
    assert "devkit/unused.py" in done.stdout, output_of(done)
    assert "static-checks FAILED: ruff" in done.stderr, output_of(done)
    assert "== static-checks: bandit passed" in done.stdout, "a ruff finding stopped the later steps"


def test_bandit_fails_on_shell_true(tree):
    (tree / "devkit" / "shell.py").write_text(
        '"""Tools."""\n\nimport subprocess\n\n\ndef run(command: str) -> None:\n'
        "    subprocess.run(command, shell=True, check=True)\n",
        encoding="utf-8",
    )

    done = run_checks("bandit", root=tree)

    assert done.returncode == 1, output_of(done)
    assert "B602" in done.stdout, output_of(done)
    assert "devkit/shell.py" in done.stdout, output_of(done)
    assert "== static-checks: bandit FAILED" in done.stderr, output_of(done)


def test_bandit_ignores_low_severity(tree):
    # assert is a low-severity finding (B101), and -ll reports medium and high only.
    (tree / "devkit" / "checks.py").write_text('"""Tools."""\n\nassert True\n', encoding="utf-8")

    done = run_checks("bandit", root=tree)

    assert done.returncode == 0, output_of(done)


@pytest.mark.parametrize(
    "source, finding",
    [
        (
            'def kind(value):\n    match value:\n        case 1:\n            return "one"\n    return "other"\n',
            "pattern",
        ),
        ("def is_count(value) -> bool:\n    return isinstance(value, int | None)\n", "union types"),
        ("OptionalCount = int | None\n", "union types"),
    ],
    ids=["match-statement", "union-in-isinstance", "union-alias"],
)
def test_vermin_fails_on_python_310_syntax(tree, source, finding):
    (tree / "lambda" / "tracking" / "modern.py").write_text(source, encoding="utf-8")

    done = run_checks("vermin", root=tree)

    assert done.returncode == 1, output_of(done)
    assert finding in done.stdout, output_of(done)
    assert "modern.py" in done.stdout, output_of(done)
    assert "== static-checks: vermin FAILED" in done.stderr, output_of(done)


def test_static_checks_rejects_unknown_step():
    done = run_checks("mypy")

    assert done.returncode == 2, output_of(done)
    assert "unknown step 'mypy'" in done.stderr, output_of(done)
