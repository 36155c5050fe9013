"""Fixtures for the task tests: a copy of the repository, the stand-in pulumi CLI, and a task runner.

Each test runs the real tasks (``python -m invoke ...``) as a subprocess inside its own copy of
the repository, so the default file backend and generated files land in a temporary folder.
The environment is built from scratch: no AWS credentials, passphrase or CLI leak in from the
machine unless a test requests them.
"""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest

from shared import naming

REPO_ROOT = Path(__file__).resolve().parents[2]
STANDIN_DIR = Path(__file__).resolve().parent / "bin"
VENV_BIN = Path(sys.executable).parent
COPIED = ("tasks.py", "devkit", "shared", "stacks", "lambda", "requirements-py39.txt")
TEST_PASSPHRASE = "task-tests-only"
GIVEN_KEY_ID = "AKIDTASKTESTS"


@dataclass
class Workspace:
    root: Path
    home: Path
    log: Path
    scenario_file: Path
    state_file: Path

    def scenario(self, **data) -> None:
        """Write the stand-in's scenario (see tests/tasks/bin/pulumi for the keys)."""
        self.scenario_file.write_text(json.dumps(data), encoding="utf-8")

    def environment(
        self,
        cli: bool = True,
        passphrase: bool = True,
        credentials: bool = True,
        extra: Optional[dict] = None,
    ) -> dict:
        path = [str(STANDIN_DIR)] if cli else []
        path += [str(VENV_BIN), "/usr/bin", "/bin"]
        env = {
            "PATH": os.pathsep.join(path),
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "PULUMI_STANDIN_LOG": str(self.log),
            "PULUMI_STANDIN_SCENARIO": str(self.scenario_file),
            "PULUMI_STANDIN_STATE": str(self.state_file),
        }
        if passphrase:
            env["PULUMI_CONFIG_PASSPHRASE"] = TEST_PASSPHRASE
        if credentials:
            env["AWS_ACCESS_KEY_ID"] = GIVEN_KEY_ID
            env["AWS_SECRET_ACCESS_KEY"] = "task-tests-secret"
        env.update(extra or {})
        return env

    def invoke(self, *args: str, **environment) -> subprocess.CompletedProcess:
        """Run ``python -m invoke <args>`` in the copy and return the finished process."""
        return subprocess.run(
            [sys.executable, "-m", "invoke", *args],
            cwd=self.root,
            env=self.environment(**environment),
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )

    def calls(self) -> list:
        """Return the stand-in's recorded calls, oldest first."""
        if not self.log.is_file():
            return []
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]

    def commands(self) -> list:
        """Return ``(folder relative to the copy, argv)`` of every recorded call."""
        return [(str(Path(call["cwd"]).relative_to(self.root)), call["argv"]) for call in self.calls()]


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    root = tmp_path / "repo"
    root.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", ".pulumi-state", "*.pyc")
    for name in COPIED:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=ignore)
        else:
            shutil.copy2(source, root / name)
    home = tmp_path / "home"
    home.mkdir()
    space = Workspace(root, home, tmp_path / "calls.jsonl", tmp_path / "scenario.json", tmp_path / "state.json")
    space.scenario()
    return space


def fq(layer: str, environment: str = "dev") -> str:
    """Return the fully qualified stack name of a layer in the self-managed backend."""
    return naming.stack_reference_name(naming.DEFAULT_ORGANIZATION, layer, environment)
