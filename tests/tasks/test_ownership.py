""".github/CODEOWNERS matches shared/ownership.py and covers every stack that exists."""

import re

from shared import naming, ownership

from .conftest import REPO_ROOT

TEAM = re.compile(r"^@[A-Za-z0-9-]+/[a-z0-9][a-z0-9-]*$")


def test_codeowners_is_in_step_with_source():
    committed = (REPO_ROOT / ".github" / "CODEOWNERS").read_text(encoding="utf-8")

    assert committed == ownership.render_codeowners(), "run `invoke codeowners` and commit .github/CODEOWNERS"


def test_every_stack_folder_has_an_owner():
    assert ownership.unowned_stacks(REPO_ROOT / "stacks") == []


def test_stack_folders_are_the_layers():
    folders = sorted(path.parent.name for path in (REPO_ROOT / "stacks").glob("*/Pulumi.yaml"))

    assert folders == sorted(naming.LAYERS)


def test_lambda_and_shared_have_owners():
    assert "/lambda/" in ownership.OWNERS["lambda"][1]
    assert "/shared/" in ownership.OWNERS["shared"][1]


def test_each_layer_owns_its_stack_tests_and_workflow():
    for layer in naming.LAYERS:
        team, paths = ownership.OWNERS[layer]
        assert f"/stacks/{layer}/" in paths, layer
        assert f"/tests/stacks/test_{layer}.py" in paths, layer
        assert f"/.github/workflows/{layer}.yml" in paths, layer
        assert (REPO_ROOT / ".github" / "workflows" / f"{layer}.yml").is_file(), layer


def test_team_handles_are_valid():
    lines = [line for line in ownership.render_codeowners().splitlines() if line and not line.startswith("#")]

    for line in lines:
        pattern, *owners = line.split()
        assert owners, line
        for owner in owners:
            assert TEAM.match(owner), line
        assert pattern == "*" or pattern.startswith("/"), line


def test_catch_all_comes_first():
    rules = [line for line in ownership.render_codeowners().splitlines() if line and not line.startswith("#")]

    assert rules[0].split()[0] == "*"
    assert all(rule.split()[0] != "*" for rule in rules[1:])


def test_owned_folders_exist():
    for unit, (_, paths) in ownership.OWNERS.items():
        for path in paths:
            if path.endswith("/"):
                assert (REPO_ROOT / path.strip("/")).is_dir(), f"{unit}: {path}"


def test_codeowners_task_writes_and_checks(workspace):
    target = workspace.root / ".github" / "CODEOWNERS"

    stale = workspace.invoke("codeowners", "--check")
    written = workspace.invoke("codeowners")
    current = workspace.invoke("codeowners", "--check")

    assert stale.returncode == 1
    assert "Fix: run `invoke codeowners`" in stale.stderr
    assert written.returncode == 0, written.stderr
    assert target.read_text(encoding="utf-8") == ownership.render_codeowners()
    assert current.returncode == 0, current.stderr
    assert "up to date" in current.stdout
