"""The deploy tasks against the stand-in pulumi CLI: commands, order, stacks, backend and failures."""

import json
import os

import pytest

from shared import naming, outputs

from .conftest import GIVEN_KEY_ID, fq

SELECT = ["stack", "select", "--create", "--secrets-provider", "passphrase", "--stack"]


def project(layer: str) -> str:
    return naming.project_name(layer)


def full_outputs(layer: str) -> dict:
    return {name: f"{layer}-{name}" for name in outputs.BY_LAYER[layer]}


def deployed(*layers: str, environment: str = "dev") -> dict:
    """Return scenario stacks for layers that are deployed with every output they export."""
    return {fq(layer, environment): {"outputs": full_outputs(layer)} for layer in layers}


def exports_everything() -> dict:
    return {project(layer): {"outputs": full_outputs(layer)} for layer in naming.LAYERS}


# deploy-all ---------------------------------------------------------------------------------------


def test_deploy_all_runs_layers_in_order(workspace):
    workspace.scenario(exports=exports_everything())

    done = workspace.invoke("deploy-all", "--env", "dev", "--yes")

    assert done.returncode == 0, done.stderr
    expected = []
    for layer in naming.LAYERS:
        expected += [
            (f"stacks/{layer}", SELECT + ["dev"]),
            (f"stacks/{layer}", ["up", "--yes", "--stack", "dev"]),
            (f"stacks/{layer}", ["stack", "output", "--json", "--stack", "dev"]),
        ]
    assert workspace.commands() == expected


def test_deploy_all_prints_progress_per_layer(workspace):
    done = workspace.invoke("deploy-all", "--yes")

    for index, layer in enumerate(naming.LAYERS, start=1):
        assert f"[{index}/4] {layer}: pulumi up --yes --stack dev" in done.stdout


def test_deploy_all_stack_names_follow_env(workspace):
    done = workspace.invoke("deploy-all", "--env", "staging", "--yes")

    assert done.returncode == 0, done.stderr
    stacks = {argv[argv.index("--stack") + 1] for _, argv in workspace.commands()}
    assert stacks == {"staging"}


def test_deploy_all_defaults_to_dev(workspace):
    workspace.invoke("deploy-all", "--yes")

    stacks = {argv[argv.index("--stack") + 1] for _, argv in workspace.commands()}
    assert stacks == {"dev"}


def test_deploy_all_uses_file_backend_in_repository(workspace):
    state_dir = workspace.root / ".pulumi-state"
    assert not state_dir.exists()

    done = workspace.invoke("deploy-all", "--yes")

    assert done.returncode == 0, done.stderr
    assert state_dir.is_dir()
    for call in workspace.calls():
        assert call["env"]["PULUMI_BACKEND_URL"] == f"file://{state_dir.as_posix()}"
        assert call["env"]["PULUMI_CONFIG_PASSPHRASE"] is True
        assert call["env"]["PULUMI_SKIP_UPDATE_CHECK"] == "true"


def test_deploy_all_summary_lists_every_layer(workspace):
    workspace.scenario(exports=exports_everything())

    done = workspace.invoke("deploy-all", "--yes")

    summary = done.stdout.split("summary:", 1)[1]
    for layer in naming.LAYERS:
        row = next(line for line in summary.splitlines() if line.strip().startswith(layer))
        cells = row.split()
        assert cells[1] == "ok", row
        assert float(cells[2]) >= 0, row
    assert f"{outputs.TABLE_NAME} = foundation-{outputs.TABLE_NAME}" in summary
    assert f"{outputs.INVOKE_URL} = edge-{outputs.INVOKE_URL}" in summary


def test_deploy_all_summary_masks_secrets(workspace):
    exports = exports_everything()
    exports[project("foundation")]["outputs"][outputs.TABLE_NAME] = "plain-value-never-shown"
    exports[project("foundation")]["secrets"] = [outputs.TABLE_NAME]
    workspace.scenario(exports=exports)

    done = workspace.invoke("deploy-all", "--yes")

    assert f"{outputs.TABLE_NAME} = [secret]" in done.stdout
    assert "plain-value-never-shown" not in done.stdout + done.stderr
    assert all("--show-secrets" not in argv for _, argv in workspace.commands())


def test_deploy_all_stops_at_first_failure(workspace):
    failure = {
        "command": ["up"],
        "project": project("compute"),
        "exit": 1,
        "stderr": "error: update failed\n",
    }
    workspace.scenario(exports=exports_everything(), failures=[failure])

    done = workspace.invoke("deploy-all", "--yes")

    assert done.returncode == 1
    folders = {folder for folder, _ in workspace.commands()}
    assert folders == {"stacks/foundation", "stacks/compute"}
    assert workspace.commands()[-1] == ("stacks/compute", ["up", "--yes", "--stack", "dev"])
    assert "compute failed: `pulumi up --yes --stack dev` in stacks/compute exited with code 1" in done.stderr
    assert "invoke deploy --layer compute --env dev" in done.stderr
    assert "invoke deploy-all --env dev" in done.stderr


def test_deploy_all_failure_summary_marks_later_layers(workspace):
    failure = {"command": ["up"], "project": project("compute"), "exit": 2}
    workspace.scenario(failures=[failure])

    done = workspace.invoke("deploy-all", "--yes")

    summary = done.stdout.split("summary:", 1)[1]
    results = {line.split()[0]: line.split()[1] for line in summary.splitlines()[2:] if line.strip()}
    assert results["foundation"] == "ok"
    assert results["compute"] == "failed"
    assert results["edge"] == "not"  # "not run"
    assert results["observability"] == "not"


def test_deploy_all_stops_when_stack_select_fails(workspace):
    failure = {"command": ["stack", "select"], "project": project("foundation"), "exit": 255}
    workspace.scenario(failures=[failure])

    done = workspace.invoke("deploy-all", "--yes")

    assert done.returncode == 1
    assert workspace.commands() == [("stacks/foundation", SELECT + ["dev"])]
    assert "foundation failed: `pulumi stack select --create" in done.stderr


def test_deploy_all_without_yes_needs_terminal(workspace):
    done = workspace.invoke("deploy-all")

    assert done.returncode == 1
    assert "standard input is not a terminal" in done.stderr
    assert "--yes" in done.stderr
    assert workspace.calls() == []


def test_deploy_all_rejects_unknown_env(workspace):
    done = workspace.invoke("deploy-all", "--env", "qa", "--yes")

    assert done.returncode == 1
    assert "invalid environment 'qa'" in done.stderr
    assert "dev, staging, prod" in done.stderr
    assert workspace.calls() == []


# backend and passphrase ---------------------------------------------------------------------------


def test_backend_url_from_environment_wins(workspace, tmp_path):
    backend = f"file://{(tmp_path / 'elsewhere').as_posix()}"

    done = workspace.invoke("deploy-all", "--yes", extra={"PULUMI_BACKEND_URL": backend})

    assert done.returncode == 0, done.stderr
    assert {call["env"]["PULUMI_BACKEND_URL"] for call in workspace.calls()} == {backend}
    assert not (workspace.root / ".pulumi-state").exists()


def test_cloud_backend_needs_no_passphrase(workspace):
    cloud = {"PULUMI_BACKEND_URL": "https://api.pulumi.com"}

    done = workspace.invoke("deploy-all", "--yes", passphrase=False, extra=cloud)

    assert done.returncode == 0, done.stderr
    selects = [argv for _, argv in workspace.commands() if argv[:2] == ["stack", "select"]]
    assert selects == [["stack", "select", "--create", "--stack", "dev"]] * 4


def test_missing_passphrase_stops_before_pulumi(workspace):
    done = workspace.invoke("deploy-all", "--yes", passphrase=False)

    assert done.returncode == 1
    assert "PULUMI_CONFIG_PASSPHRASE" in done.stderr
    assert "PULUMI_CONFIG_PASSPHRASE_FILE" in done.stderr
    assert "export PULUMI_CONFIG_PASSPHRASE=" in done.stderr
    assert workspace.calls() == []


def test_passphrase_file_is_accepted(workspace, tmp_path):
    passphrase_file = tmp_path / "passphrase"
    passphrase_file.write_text("from-a-file\n", encoding="utf-8")

    extra = {"PULUMI_CONFIG_PASSPHRASE_FILE": str(passphrase_file)}
    done = workspace.invoke("deploy-all", "--yes", passphrase=False, extra=extra)

    assert done.returncode == 0, done.stderr
    assert {call["env"]["PULUMI_CONFIG_PASSPHRASE_FILE"] for call in workspace.calls()} == {str(passphrase_file)}


def test_missing_passphrase_file_is_rejected(workspace, tmp_path):
    extra = {"PULUMI_CONFIG_PASSPHRASE_FILE": str(tmp_path / "absent")}

    done = workspace.invoke("deploy-all", "--yes", passphrase=False, extra=extra)

    assert done.returncode == 1
    assert "is not a file" in done.stderr
    assert workspace.calls() == []


def test_ci_without_backend_url_is_rejected(workspace):
    done = workspace.invoke("deploy-all", "--yes", extra={"CI": "true"})

    assert done.returncode == 1
    assert "PULUMI_BACKEND_URL is not set" in done.stderr
    assert workspace.calls() == []


# CLI and credentials ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "task",
    [
        ["deploy-all", "--yes"],
        ["deploy", "--layer", "compute", "--yes"],
        ["destroy-all", "--yes"],
        ["outputs"],
        ["preview"],
    ],
)
def test_missing_cli_names_install_fix(workspace, task):
    done = workspace.invoke(*task, cli=False)

    assert done.returncode == 1
    assert "the pulumi CLI was not found on PATH" in done.stderr
    assert "https://www.pulumi.com/docs/install/" in done.stderr


def test_missing_cli_preview_suggests_offline(workspace):
    done = workspace.invoke("preview", cli=False)

    assert "--offline" in done.stderr


def test_missing_credentials_names_fix(workspace):
    done = workspace.invoke("deploy-all", "--yes", credentials=False)

    assert done.returncode == 1
    assert "no AWS credentials found" in done.stderr
    assert "aws configure" in done.stderr
    assert "--endpoint" in done.stderr
    assert workspace.calls() == []


def test_credentials_file_counts_as_credentials(workspace):
    aws_dir = workspace.home / ".aws"
    aws_dir.mkdir()
    (aws_dir / "credentials").write_text("[default]\naws_access_key_id = AKIDFILE\n", encoding="utf-8")

    done = workspace.invoke("deploy-all", "--yes", credentials=False)

    assert done.returncode == 0, done.stderr


def test_profile_counts_as_credentials(workspace):
    done = workspace.invoke("deploy-all", "--yes", credentials=False, extra={"AWS_PROFILE": "deployer"})

    assert done.returncode == 0, done.stderr
    assert {call["env"]["AWS_PROFILE"] for call in workspace.calls()} == {"deployer"}


def test_outputs_needs_no_aws_credentials(workspace):
    done = workspace.invoke("outputs", credentials=False)

    assert done.returncode == 0, done.stderr


# --endpoint ---------------------------------------------------------------------------------------


def test_endpoint_sets_config_in_every_layer(workspace):
    endpoint = "http://127.0.0.1:4566"

    done = workspace.invoke("deploy-all", "--yes", "--endpoint", endpoint, credentials=False)

    assert done.returncode == 0, done.stderr
    for layer in naming.LAYERS:
        in_layer = [argv for folder, argv in workspace.commands() if folder == f"stacks/{layer}"]
        assert in_layer[:3] == [
            SELECT + ["dev"],
            ["config", "set", "tracking:endpoint", endpoint, "--stack", "dev"],
            ["up", "--yes", "--stack", "dev"],
        ]
    assert "Pulumi.dev.yaml" in done.stdout


def test_endpoint_uses_fake_credentials(workspace):
    given = {"AWS_PROFILE": "real-account", "AWS_SESSION_TOKEN": "real-token"}

    done = workspace.invoke("deploy-all", "--yes", "--endpoint", "http://127.0.0.1:4566", extra=given)

    assert done.returncode == 0, done.stderr
    for call in workspace.calls():
        assert call["env"]["AWS_ACCESS_KEY_ID"] == "testing"
        assert call["env"]["AWS_ACCESS_KEY_ID"] != GIVEN_KEY_ID
        assert call["env"]["AWS_PROFILE"] is None
        assert call["env"]["AWS_SESSION_TOKEN"] is False
        assert call["env"]["AWS_EC2_METADATA_DISABLED"] == "true"


def test_endpoint_rejects_invalid_url(workspace):
    done = workspace.invoke("deploy-all", "--yes", "--endpoint", "127.0.0.1:4566")

    assert done.returncode == 1
    assert "invalid --endpoint '127.0.0.1:4566'" in done.stderr
    assert workspace.calls() == []


def test_configured_endpoint_needs_no_credentials(workspace):
    for layer in naming.LAYERS:
        config_file = workspace.root / "stacks" / layer / "Pulumi.dev.yaml"
        text = config_file.read_text(encoding="utf-8")
        config_file.write_text(text + "  tracking:endpoint: http://127.0.0.1:4566\n", encoding="utf-8")

    done = workspace.invoke("deploy-all", "--yes", credentials=False)

    assert done.returncode == 0, done.stderr
    assert all(argv[:2] != ["config", "set"] for _, argv in workspace.commands())
    assert {call["env"]["AWS_ACCESS_KEY_ID"] for call in workspace.calls()} == {"testing"}


# deploy --layer -----------------------------------------------------------------------------------


def upstream_queries(layer: str, environment: str = "dev") -> list:
    return [
        (f"stacks/{upstream}", ["stack", "output", "--json", "--stack", fq(upstream, environment)])
        for upstream in outputs.REQUIRED_UPSTREAM[layer]
    ]


@pytest.mark.parametrize("layer", naming.LAYERS)
def test_deploy_layer_checks_upstream_then_deploys(workspace, layer):
    upstream = tuple(outputs.REQUIRED_UPSTREAM[layer])
    workspace.scenario(stacks=deployed(*upstream), exports=exports_everything())

    done = workspace.invoke("deploy", "--layer", layer, "--env", "dev", "--yes")

    assert done.returncode == 0, done.stderr
    assert workspace.commands() == upstream_queries(layer) + [
        (f"stacks/{layer}", SELECT + ["dev"]),
        (f"stacks/{layer}", ["up", "--yes", "--stack", "dev"]),
        (f"stacks/{layer}", ["stack", "output", "--json", "--stack", "dev"]),
    ]
    assert f"[1/1] {layer}: pulumi up --yes --stack dev" in done.stdout


def test_deploy_layer_missing_output_names_stack_and_fix(workspace):
    stacks = deployed("foundation")
    needed = outputs.REQUIRED_UPSTREAM["compute"]["foundation"]
    removed = needed[0]
    del stacks[fq("foundation")]["outputs"][removed]
    workspace.scenario(stacks=stacks)

    done = workspace.invoke("deploy", "--layer", "compute", "--yes")

    assert done.returncode == 1
    assert f"upstream stack {fq('foundation')} is missing output(s) {removed}" in done.stderr
    assert "Fix: invoke deploy --layer foundation --env dev" in done.stderr
    assert all(argv[0] != "up" for _, argv in workspace.commands())
    assert workspace.commands() == upstream_queries("compute")


def test_deploy_layer_missing_upstream_stack_names_it(workspace):
    workspace.scenario(stacks=deployed("foundation"))

    done = workspace.invoke("deploy", "--layer", "edge", "--env", "dev", "--yes")

    assert done.returncode == 1
    assert f"upstream stack {fq('compute')} was not found" in done.stderr
    assert "Fix: invoke deploy --layer compute --env dev" in done.stderr
    assert "is missing output" not in done.stderr
    assert all(argv[0] != "up" for _, argv in workspace.commands())


def test_deploy_layer_reports_every_missing_upstream(workspace):
    done = workspace.invoke("deploy", "--layer", "observability", "--env", "staging", "--yes")

    assert done.returncode == 1
    for upstream in outputs.REQUIRED_UPSTREAM["observability"]:
        assert f"upstream stack {fq(upstream, 'staging')} was not found" in done.stderr
        assert f"Fix: invoke deploy --layer {upstream} --env staging" in done.stderr


def test_deploy_layer_secret_upstream_output_counts(workspace):
    stacks = deployed("foundation")
    stacks[fq("foundation")]["secrets"] = list(outputs.REQUIRED_UPSTREAM["compute"]["foundation"])
    workspace.scenario(stacks=stacks)

    done = workspace.invoke("deploy", "--layer", "compute", "--yes")

    assert done.returncode == 0, done.stderr


def test_deploy_layer_reads_upstream_in_its_organization(workspace):
    config_file = workspace.root / "stacks" / "compute" / "Pulumi.dev.yaml"
    text = config_file.read_text(encoding="utf-8")
    config_file.write_text(text + "  tracking:organization: acme\n", encoding="utf-8")

    workspace.invoke("deploy", "--layer", "compute", "--yes")

    folder, argv = workspace.commands()[0]
    assert folder == "stacks/foundation"
    assert argv == ["stack", "output", "--json", "--stack", "acme/logistics-tracking-foundation/dev"]


def test_deploy_layer_failure_names_targeted_fix(workspace):
    failure = {"command": ["up"], "project": project("foundation"), "exit": 1}
    workspace.scenario(failures=[failure])

    done = workspace.invoke("deploy", "--layer", "foundation", "--yes")

    assert done.returncode == 1
    assert "rerun `invoke deploy --layer foundation --env dev`" in done.stderr


def test_deploy_requires_a_layer(workspace):
    done = workspace.invoke("deploy", "--env", "dev", "--yes")

    assert done.returncode == 1
    assert "--layer is required: one of foundation, compute, edge, observability" in done.stderr
    assert workspace.calls() == []


def test_deploy_rejects_unknown_layer(workspace):
    done = workspace.invoke("deploy", "--layer", "database", "--yes")

    assert done.returncode == 1
    assert "layer 'database' is invalid" in done.stderr


def test_deploy_layer_with_endpoint_sets_only_that_layer(workspace):
    workspace.scenario(stacks=deployed("foundation"))

    done = workspace.invoke("deploy", "--layer", "compute", "--endpoint", "http://127.0.0.1:4566", "--yes")

    assert done.returncode == 0, done.stderr
    config_calls = [(folder, argv) for folder, argv in workspace.commands() if argv[:2] == ["config", "set"]]
    assert config_calls == [
        ("stacks/compute", ["config", "set", "tracking:endpoint", "http://127.0.0.1:4566", "--stack", "dev"])
    ]


# destroy-all --------------------------------------------------------------------------------------


def test_destroy_all_runs_in_reverse_order(workspace):
    workspace.scenario(stacks=deployed(*naming.LAYERS))

    done = workspace.invoke("destroy-all", "--env", "dev", "--yes")

    assert done.returncode == 0, done.stderr
    expected = []
    for layer in reversed(naming.LAYERS):
        expected += [
            (f"stacks/{layer}", ["stack", "ls", "--json"]),
            (f"stacks/{layer}", ["destroy", "--yes", "--stack", "dev"]),
        ]
    assert workspace.commands() == expected


def test_destroy_all_skips_missing_stacks(workspace):
    workspace.scenario(stacks=deployed("foundation", "compute"))

    done = workspace.invoke("destroy-all", "--yes")

    assert done.returncode == 0, done.stderr
    destroyed = [folder for folder, argv in workspace.commands() if argv[0] == "destroy"]
    assert destroyed == ["stacks/compute", "stacks/foundation"]
    assert "skipped" in done.stdout


def test_destroy_all_skips_other_environments(workspace):
    workspace.scenario(stacks=deployed(*naming.LAYERS, environment="staging"))

    done = workspace.invoke("destroy-all", "--env", "dev", "--yes")

    assert done.returncode == 0, done.stderr
    assert all(argv[0] != "destroy" for _, argv in workspace.commands())


def test_destroy_all_refuses_prod(workspace):
    workspace.scenario(stacks=deployed(*naming.LAYERS, environment="prod"))

    done = workspace.invoke("destroy-all", "--env", "prod", "--yes")

    assert done.returncode == 1
    assert "--yes-destroy-prod" in done.stderr
    assert "invoke destroy-all --env prod --yes-destroy-prod" in done.stderr
    assert workspace.calls() == []


def test_destroy_all_prod_with_flag(workspace):
    workspace.scenario(stacks=deployed(*naming.LAYERS, environment="prod"))

    done = workspace.invoke("destroy-all", "--env", "prod", "--yes", "--yes-destroy-prod")

    assert done.returncode == 0, done.stderr
    destroyed = [folder for folder, argv in workspace.commands() if argv[0] == "destroy"]
    assert destroyed == [f"stacks/{layer}" for layer in reversed(naming.LAYERS)]
    assert all(argv[-1] == "prod" for _, argv in workspace.commands() if argv[0] == "destroy")


def test_destroy_all_stops_at_first_failure(workspace):
    failure = {"command": ["destroy"], "project": project("edge"), "exit": 1, "stderr": "error: in use\n"}
    workspace.scenario(stacks=deployed(*naming.LAYERS), failures=[failure])

    done = workspace.invoke("destroy-all", "--yes")

    assert done.returncode == 1
    destroyed = [folder for folder, argv in workspace.commands() if argv[0] == "destroy"]
    assert destroyed == ["stacks/observability", "stacks/edge"]
    assert "edge failed: `pulumi destroy --yes --stack dev` in stacks/edge" in done.stderr
    assert "compute, foundation are still deployed" in done.stderr


def test_destroy_all_without_yes_needs_terminal(workspace):
    done = workspace.invoke("destroy-all")

    assert done.returncode == 1
    assert "--yes" in done.stderr
    assert workspace.calls() == []


# outputs ------------------------------------------------------------------------------------------


def test_outputs_prints_each_layer_with_secrets_masked(workspace):
    stacks = deployed("foundation", "compute")
    stacks[fq("compute")]["outputs"][outputs.FUNCTION_NAME] = "hidden-function-name"
    stacks[fq("compute")]["secrets"] = [outputs.FUNCTION_NAME]
    workspace.scenario(stacks=stacks)

    done = workspace.invoke("outputs", "--env", "dev")

    assert done.returncode == 0, done.stderr
    assert workspace.commands() == [
        (f"stacks/{layer}", ["stack", "output", "--json", "--stack", "dev"]) for layer in naming.LAYERS
    ]
    for name in outputs.BY_LAYER["foundation"]:
        assert f"foundation-{name}" in done.stdout
    assert "hidden-function-name" not in done.stdout
    assert "[secret]" in done.stdout
    assert "edge (stack dev of logistics-tracking-edge):\n    not deployed: error: no stack named" in done.stdout


def test_outputs_renders_structured_values_on_one_line(workspace):
    stacks = deployed("observability")
    stacks[fq("observability")]["outputs"][outputs.ALARM_NAMES] = ["five-xx", "latency"]
    workspace.scenario(stacks=stacks)

    done = workspace.invoke("outputs")

    assert json.dumps(["five-xx", "latency"], separators=(",", ":")) in done.stdout


# preview with the CLI -----------------------------------------------------------------------------


def test_preview_runs_every_layer_in_order(workspace):
    done = workspace.invoke("preview", "--env", "dev")

    assert done.returncode == 0, done.stderr
    expected = []
    for layer in naming.LAYERS:
        expected += [
            (f"stacks/{layer}", SELECT + ["dev"]),
            (f"stacks/{layer}", ["preview", "--stack", "dev"]),
        ]
    assert workspace.commands() == expected


def test_preview_single_layer(workspace):
    done = workspace.invoke("preview", "--layer", "edge", "--env", "prod")

    assert done.returncode == 0, done.stderr
    assert workspace.commands() == [
        ("stacks/edge", SELECT + ["prod"]),
        ("stacks/edge", ["preview", "--stack", "prod"]),
    ]


def test_preview_adds_policy_pack_when_folder_exists(workspace):
    (workspace.root / "policy").mkdir()

    done = workspace.invoke("preview", "--layer", "compute")

    assert done.returncode == 0, done.stderr
    previews = [argv for _, argv in workspace.commands() if argv[0] == "preview"]
    assert previews == [["preview", "--stack", "dev", "--policy-pack", os.path.join("..", "..", "policy")]]


def test_preview_without_policy_folder_has_no_policy_pack(workspace):
    workspace.invoke("preview", "--layer", "compute")

    assert all("--policy-pack" not in argv for _, argv in workspace.commands())


def test_preview_continues_after_a_failed_layer(workspace):
    failure = {"command": ["preview"], "project": project("compute"), "exit": 1}
    workspace.scenario(failures=[failure])

    done = workspace.invoke("preview")

    assert done.returncode == 1
    previewed = [folder for folder, argv in workspace.commands() if argv[0] == "preview"]
    assert previewed == [f"stacks/{layer}" for layer in naming.LAYERS]
    assert "preview failed for compute" in done.stderr


def test_preview_needs_credentials(workspace):
    done = workspace.invoke("preview", credentials=False)

    assert done.returncode == 1
    assert "no AWS credentials found" in done.stderr
    assert "--endpoint" not in done.stderr
