"""`invoke test`: which steps it plans, in which order, and how it finds Python 3.9.

The subprocess tests use invoke's --dry, which prints each command instead of running it,
so the suite never runs itself recursively.
"""

import os
import shutil
import stat
import sys

import pytest

from devkit import deploy

from .conftest import VENV_BIN


def step_lines(stdout: str) -> list:
    """Return ``(name, command)`` of each "[i/n] name: command" line."""
    found = []
    for line in stdout.splitlines():
        if line.startswith("[") and "] " in line and ": " in line:
            name, command = line.split("] ", 1)[1].split(": ", 1)
            found.append((name, command))
    return found


def executable(path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def fake_python39(tmp_path) -> dict:
    """Return a PATH with a stand-in pyenv, whose 3.9 prefix contains a stand-in python3.9, and that interpreter."""
    prefix = tmp_path / "pyenv-3.9"
    executable(prefix / "bin" / "python3.9", "#!/bin/sh\necho 3.9\n")
    executable(tmp_path / "fake-bin" / "pyenv", f"#!/bin/sh\necho {prefix}\n")
    path = os.pathsep.join([str(tmp_path / "fake-bin"), str(VENV_BIN), "/usr/bin", "/bin"])
    return {"PATH": path, "interpreter": str(prefix / "bin" / "python3.9")}


def test_fast_runs_only_pytest(workspace):
    done = workspace.invoke("--dry", "test", "--fast")

    assert done.returncode == 0, done.stderr
    assert step_lines(done.stdout) == [("pytest", f"{sys.executable} -m pytest -q -n auto")]
    assert "dry run: 1 steps shown, none run" in done.stdout


def test_static_checks_come_first(workspace):
    done = workspace.invoke("--dry", "test", "--no-py39")

    assert done.returncode == 0, done.stderr
    steps = step_lines(done.stdout)
    assert [name for name, _ in steps] == ["ruff", "bandit", "vermin", "pytest"]
    assert steps[0][1].endswith(".ci/static-checks ruff")
    assert steps[1][1].endswith(".ci/static-checks bandit")
    assert steps[2][1].endswith(".ci/static-checks vermin")


def test_workers_option_reaches_pytest(workspace):
    done = workspace.invoke("--dry", "test", "--fast", "--workers", "0")

    assert step_lines(done.stdout) == [("pytest", f"{sys.executable} -m pytest -q -n 0")]


def test_invalid_workers_is_rejected(workspace):
    done = workspace.invoke("test", "--workers", "many")

    assert done.returncode == 1
    assert "invalid --workers 'many'" in done.stderr


def test_python39_run_creates_venv_and_runs_function_tests(workspace, fake_python39):
    done = workspace.invoke("--dry", "test", "--no-static", extra={"PATH": fake_python39["PATH"]})

    assert done.returncode == 0, done.stderr
    assert step_lines(done.stdout) == [
        ("pytest", f"{sys.executable} -m pytest -q -n auto"),
        ("venv39", f"{fake_python39['interpreter']} -m venv --clear .venv39"),
        ("pip39", ".venv39/bin/python -m pip install -q -r requirements-py39.txt"),
        ("pytest39", ".venv39/bin/python -m pytest -q -n auto -m function tests/function"),
    ]
    assert not (workspace.root / ".venv39").exists()


def test_missing_python39_fails_before_any_step(workspace):
    search_path = workspace.environment()["PATH"]
    if shutil.which("python3.9", path=search_path) or shutil.which("pyenv", path=search_path):
        pytest.skip("this machine has a Python 3.9 on the system PATH")

    done = workspace.invoke("test", "--no-static")

    assert done.returncode == 1
    assert "no Python 3.9 interpreter found" in done.stderr
    assert "pyenv install 3.9" in done.stderr
    assert "--no-py39" in done.stderr
    assert step_lines(done.stdout) == []


def test_failed_step_stops_the_suite(workspace):
    # The copy has no tests/ folder, so pytest collects nothing and exits with code 5.
    done = workspace.invoke("test", "--fast", "--workers", "0")

    assert done.returncode == 1
    assert "pytest failed with exit code 5" in done.stderr
    assert f"`{sys.executable} -m pytest -q -n 0`" in done.stderr


# The 3.9 venv refresh, in process -----------------------------------------------------------------


@pytest.fixture
def repository(tmp_path, monkeypatch):
    """Point the module at a folder with the requirements files and a Python 3.9 .venv39."""
    for name in deploy.PY39_REQUIREMENTS:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text((deploy.REPO_ROOT / name).read_text(encoding="utf-8"), encoding="utf-8")
    venv = tmp_path / ".venv39"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()
    monkeypatch.setattr(deploy, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(deploy, "VENV39_DIR", venv)
    monkeypatch.setattr(deploy, "find_python39", lambda: "/opt/python3.9")
    monkeypatch.setattr(deploy, "python_version", lambda interpreter: "3.9")
    return tmp_path


def test_current_venv_skips_install(repository):
    (repository / ".venv39" / ".requirements.sha256").write_text(deploy.requirements_digest() + "\n")

    steps = deploy.python39_steps()

    assert [step.name for step in steps] == ["pytest39"]


def test_changed_requirements_reinstall_and_record(repository):
    stamp = repository / ".venv39" / ".requirements.sha256"
    stamp.write_text("digest of older requirements\n")

    steps = deploy.python39_steps()
    steps[0].after()

    assert [step.name for step in steps] == ["pip39", "pytest39"]
    assert stamp.read_text().strip() == deploy.requirements_digest()


def test_venv_of_another_python_is_recreated(repository, monkeypatch):
    monkeypatch.setattr(deploy, "python_version", lambda interpreter: "3.11")

    steps = deploy.python39_steps()

    assert [step.name for step in steps] == ["venv39", "pip39", "pytest39"]
    assert steps[0].argv == ("/opt/python3.9", "-m", "venv", "--clear", ".venv39")
