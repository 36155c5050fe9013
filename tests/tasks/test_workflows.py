"""The GitHub Actions workflows: schema, path filters, commands, permissions and credentials."""

import inspect
import re
import shlex
import subprocess
import sys

import pytest
import yaml
from invoke import Collection

import tasks
from shared import naming

from .conftest import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
STACK_WORKFLOWS = {layer: WORKFLOWS / f"{layer}.yml" for layer in naming.LAYERS}
REUSABLE = {
    "preview": "./.github/workflows/preview-layer.yml",
    "deploy": "./.github/workflows/deploy-layer.yml",
}
SHARED_PATHS = ("shared/**", "requirements*.txt")


def load(path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def triggers(workflow: dict) -> dict:
    # YAML 1.1, which PyYAML reads, turns the bare key `on` into True.
    return workflow.get("on", workflow.get(True))


def run_commands(workflow: dict) -> list:
    """Return every `run:` script of a workflow."""
    return [step["run"] for job in workflow["jobs"].values() for step in job.get("steps", []) if "run" in step]


def invoke_calls(script: str) -> list:
    """Return ``(task, flags)`` for every `invoke <task> ...` command in a script."""
    calls = []
    for line in script.splitlines():
        words = shlex.split(line.split("|")[0], comments=True) if "invoke" in line else []
        while "invoke" in words:
            words = words[words.index("invoke") + 1 :]
            if words:
                task, rest = words[0], words[1:]
                flags = [word.split("=")[0][2:] for word in rest if word.startswith("--")]
                calls.append((task, flags))
    return calls


def task_options() -> dict:
    """Return each task's name mapped to the long flags it accepts."""
    collection = Collection.from_module(tasks)
    found = {}
    for name in collection.task_names:
        parameters = list(inspect.signature(collection[name].body).parameters.values())[1:]
        flags = set()
        for parameter in parameters:
            flag = parameter.name.replace("_", "-")
            flags.add(flag)
            # invoke adds --no-<flag> to a boolean option that defaults to True.
            if parameter.default is True:
                flags.add(f"no-{flag}")
        found[name] = flags
    return found


def all_workflows() -> list:
    return sorted(WORKFLOWS.glob("*.yml"))


def test_workflows_match_the_github_schema():
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, all_workflows()),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr


def test_one_workflow_per_stack_and_the_function():
    names = {path.stem for path in all_workflows()}

    assert set(naming.LAYERS) | {"function"} <= names


@pytest.mark.parametrize("layer", naming.LAYERS)
def test_stack_workflow_paths_cover_its_stack(layer):
    workflow = load(STACK_WORKFLOWS[layer])

    for event in ("pull_request", "push"):
        paths = triggers(workflow)[event]["paths"]
        assert f"stacks/{layer}/**" in paths, event
        for shared in SHARED_PATHS:
            assert shared in paths, event
        assert f".github/workflows/{layer}.yml" in paths, event
        assert ("lambda/**" in paths) == (layer == "compute"), event
        others = [other for other in naming.LAYERS if other != layer]
        assert not [path for path in paths if any(f"stacks/{other}" in path for other in others)], event
    assert triggers(workflow)["push"]["branches"] == ["main"]


@pytest.mark.parametrize("layer", naming.LAYERS)
def test_stack_workflow_commands_serve_its_stack(layer):
    workflow = load(STACK_WORKFLOWS[layer])
    scripts = "\n".join(run_commands(workflow))

    assert f"python -m pytest -q tests/stacks/test_{layer}.py" in scripts
    assert f"ruff check stacks/{layer}" in scripts
    assert re.findall(r"test_(\w+)\.py", scripts) == [layer, layer]
    assert set(re.findall(r"--layer (\w+)", scripts)) == {layer}
    assert set(re.findall(r"(?<![\w/])stacks/(\w+)", scripts)) == {layer}


@pytest.mark.parametrize("layer", naming.LAYERS)
def test_stack_workflow_previews_pull_requests_and_deploys_main(layer):
    jobs = load(STACK_WORKFLOWS[layer])["jobs"]

    assert jobs["preview"]["uses"] == REUSABLE["preview"]
    assert jobs["preview"]["with"] == {"layer": layer}
    assert jobs["preview"]["if"] == "github.event_name == 'pull_request'"
    assert jobs["preview"]["permissions"]["pull-requests"] == "write"
    previous = "test"
    for environment in naming.ENVIRONMENTS:
        job = jobs[f"deploy-{environment}"]
        assert job["uses"] == REUSABLE["deploy"], environment
        assert job["with"] == {"layer": layer, "environment": environment}
        assert job["needs"] == previous, environment
        assert "github.ref == 'refs/heads/main'" in job["if"], environment
        assert "github.event_name != 'pull_request'" in job["if"], environment
        assert job["permissions"]["id-token"] == "write", environment
        previous = f"deploy-{environment}"


def test_reusable_workflows_run_the_invoke_tasks():
    preview = load(WORKFLOWS / "preview-layer.yml")
    deploy = load(WORKFLOWS / "deploy-layer.yml")

    assert ("preview", ["layer", "env"]) in invoke_calls("\n".join(run_commands(preview)))
    assert ("deploy", ["layer", "env", "yes"]) in invoke_calls("\n".join(run_commands(deploy)))
    assert deploy["jobs"]["deploy"]["environment"] == "${{ inputs.environment }}"
    assert "environment" not in preview["jobs"]["preview"]
    assert preview["jobs"]["preview"]["strategy"]["matrix"]["environment"] == list(naming.ENVIRONMENTS)


def test_preview_result_is_posted_to_the_pull_request():
    steps = load(WORKFLOWS / "preview-layer.yml")["jobs"]["preview"]["steps"]
    post = next(step for step in steps if step.get("name") == "Post the preview to the pull request")

    assert post["if"].startswith("always()")
    assert "gh api" in post["run"]
    assert "issues/${PR_NUMBER}/comments" in post["run"]
    assert post["env"]["GH_TOKEN"] == "${{ github.token }}"


@pytest.mark.parametrize("name", ["preview-layer", "deploy-layer"])
def test_aws_access_uses_the_oidc_role(name):
    workflow = load(WORKFLOWS / f"{name}.yml")
    (job,) = workflow["jobs"].values()
    steps = [
        step for step in job["steps"] if str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials")
    ]

    assert len(steps) == 1
    assert re.fullmatch(r"\$\{\{ vars\.AWS_\w+_ROLE_ARN \}\}", steps[0]["with"]["role-to-assume"])
    assert steps[0]["with"]["aws-region"] == naming.REGION
    assert job["permissions"]["id-token"] == "write"


def test_no_workflow_holds_long_lived_aws_keys():
    for path in all_workflows():
        text = path.read_text(encoding="utf-8")
        assert "aws-access-key-id" not in text, path.name
        assert "aws-secret-access-key" not in text, path.name
        assert "AWS_ACCESS_KEY_ID" not in text, path.name
        assert "AWS_SECRET_ACCESS_KEY" not in text, path.name


def test_invoke_calls_name_real_tasks():
    options = task_options()
    calls = [
        (path.name, call)
        for path in all_workflows()
        for script in run_commands(load(path))
        for call in invoke_calls(script)
    ]

    assert calls, "no workflow calls invoke"
    for workflow_name, (task, flags) in calls:
        assert task in options, f"{workflow_name}: invoke {task} is not a task"
        for flag in flags:
            assert flag in options[task], f"{workflow_name}: invoke {task} has no --{flag}"


def test_pulumi_cli_version_matches_the_sdk():
    sdk = next(
        line.split("==")[1].strip()
        for line in (REPO_ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.startswith("pulumi==")
    )
    for name in ("preview-layer", "deploy-layer"):
        (job,) = load(WORKFLOWS / f"{name}.yml")["jobs"].values()
        installs = [step for step in job["steps"] if str(step.get("uses", "")).startswith("pulumi/actions")]
        assert [step["with"]["pulumi-version"] for step in installs] == [sdk], name


def test_function_workflow_python_matrix():
    workflow = load(WORKFLOWS / "function.yml")
    include = workflow["jobs"]["test"]["strategy"]["matrix"]["include"]
    versions = {entry["python"]: entry["requirements"] for entry in include}

    assert versions["3.9"] == "requirements-py39.txt"
    assert any(tuple(map(int, version.split("."))) >= (3, 12) for version in versions)
    assert "python -m pytest -q -m function tests/function" in run_commands(workflow)
    for event in ("pull_request", "push"):
        paths = triggers(workflow)[event]["paths"]
        assert "lambda/**" in paths
        assert "tests/function/**" in paths
        for shared in SHARED_PATHS:
            assert shared in paths


def test_every_workflow_starts_with_read_only_contents():
    for path in all_workflows():
        assert load(path)["permissions"] == {"contents": "read"}, path.name


def test_deploys_are_never_cancelled_midway():
    job = load(WORKFLOWS / "deploy-layer.yml")["jobs"]["deploy"]

    assert job["concurrency"]["cancel-in-progress"] is False
    assert "${{ inputs.layer }}" in job["concurrency"]["group"]
    assert "${{ inputs.environment }}" in job["concurrency"]["group"]
