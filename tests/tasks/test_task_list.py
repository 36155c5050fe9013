"""Every task shows a one-line summary in `invoke --list`, and every option has help text."""

import inspect
import re
import subprocess
import sys

import pytest
from invoke import Collection, Exit

import tasks
from devkit import deploy

from .conftest import REPO_ROOT

EXPECTED_TASKS = {
    "bench",
    "codeowners",
    "cost",
    "dashboard-picture",
    "deploy",
    "deploy-all",
    "destroy-all",
    "docs",
    "local",
    "openapi",
    "outputs",
    "preview",
    "redrive",
    "smoke",
    "test",
}
# An option line of `invoke --help <task>`: its flags, then (after two or more spaces) its help.
OPTION_LINE = re.compile(r"^  (-\S.*?)(?:\s{2,}(\S.*))?$")


def invoke(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "invoke", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def collection() -> Collection:
    return Collection.from_module(tasks)


def task_names() -> list:
    return sorted(collection().task_names)


def test_every_expected_task_exists():
    assert set(task_names()) == EXPECTED_TASKS


def test_list_shows_every_task_with_its_summary():
    listing = invoke("--list")
    # Long summaries wrap onto indented lines; joining the words makes each one searchable.
    flat = " ".join(listing.split())

    for name in task_names():
        summary = inspect.getdoc(collection()[name]).splitlines()[0]
        assert re.search(rf"^  {re.escape(name)}\s+\S", listing, re.MULTILINE), f"{name} has no summary in --list"
        assert f"{name} {summary}" in flat, f"--list shows another summary for {name}"


@pytest.mark.parametrize("name", sorted(EXPECTED_TASKS))
def test_docstring_summary_is_one_line(name):
    lines = inspect.getdoc(collection()[name]).splitlines()

    assert lines[0].endswith("."), f"{name}: {lines[0]!r}"
    assert len(lines) == 1 or lines[1] == "", f"{name}: the summary runs onto a second line"


@pytest.mark.parametrize("name", sorted(EXPECTED_TASKS))
def test_every_option_has_help(name):
    text = invoke("--help", name)
    options = text.split("Options:", 1)[1]

    flags = []
    for line in options.splitlines():
        match = OPTION_LINE.match(line)
        if match:
            assert match.group(2), f"{name}: option {match.group(1)} has no help"
            flags.append(match.group(1).replace("[no-]", ""))
    parameters = list(inspect.signature(collection()[name].body).parameters)[1:]
    for parameter in parameters:
        flag = "--" + parameter.replace("_", "-")
        assert any(re.search(rf"{flag}\b", spec) for spec in flags), f"{name}: {flag} missing from --help"


@pytest.mark.parametrize("name", sorted(EXPECTED_TASKS))
def test_task_takes_typed_context(name):
    signature = inspect.signature(collection()[name].body)
    first = next(iter(signature.parameters.values()))

    assert first.name == "c"
    assert first.annotation.__name__ == "Context"


def test_env_option_defaults_to_dev():
    for name in task_names():
        parameters = inspect.signature(collection()[name].body).parameters
        if "env" in parameters:
            assert parameters["env"].default == "dev", name


def test_validate_environment_rejects_unknown():
    with pytest.raises(Exit) as raised:
        deploy.validate_environment("qa")

    assert "allowed are dev, staging, prod" in raised.value.message
