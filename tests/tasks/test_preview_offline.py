"""`invoke preview --offline`: the programs run under the mock engine, with no CLI on PATH.

The copy's stack programs are replaced by small ones with known resources, so these tests
check the task rather than the real programs (tests/stacks covers those).
"""

import shutil
import textwrap

import pytest

from shared import naming

PROGRAMS = {
    "foundation": """
        import pulumi
        import pulumi_aws as aws

        queue = aws.sqs.Queue("dead-letters")
        table = aws.dynamodb.Table(
            "updates",
            hash_key="id",
            attributes=[aws.dynamodb.TableAttributeArgs(name="id", type="S")],
        )
        pulumi.export("tableName", table.name)
        pulumi.export("deadLetterQueueName", queue.name)
    """,
    "compute": """
        import pulumi
        import pulumi_aws as aws

        stack = pulumi.get_stack()
        config = pulumi.Config("tracking")
        foundation = pulumi.StackReference(
            "foundation", stack_name=f"organization/logistics-tracking-foundation/{stack}"
        )
        table = foundation.require_output("tableName")
        retention = int(config.get("logRetentionDays") or 30)
        logs = aws.cloudwatch.LogGroup(
            "function-logs", name=table.apply(lambda name: f"/aws/lambda/{name}"), retention_in_days=retention
        )
        pulumi.export("functionLogGroupName", logs.name)
        pulumi.export("retention", retention)
    """,
    "edge": """
        import pulumi
        import pulumi_aws as aws

        compute = pulumi.StackReference(
            "compute", stack_name=f"organization/logistics-tracking-compute/{pulumi.get_stack()}"
        )
        api = aws.apigateway.RestApi("api", description=compute.require_output("functionLogGroupName"))
        pulumi.export("restApiId", api.id)
    """,
    "observability": """
        import pulumi
        import pulumi_aws as aws

        topic = aws.sns.Topic("alarms")
        pulumi.export("alarmTopicArn", topic.arn)
    """,
}


@pytest.fixture
def programs(workspace):
    """Replace each stack program in the copy with a known one and return the workspace."""
    for layer, source in PROGRAMS.items():
        folder = workspace.root / "stacks" / layer
        for entry in folder.glob("*.py"):
            entry.unlink()
        shutil.rmtree(folder / "__pycache__", ignore_errors=True)
        (folder / "__main__.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return workspace


def layer_section(stdout: str, layer: str) -> str:
    """Return the lines the task printed for one layer."""
    start = next(index for index, line in enumerate(stdout.splitlines()) if f"] {layer}: offline run" in line)
    lines = stdout.splitlines()[start + 1 :]
    end = next((index for index, line in enumerate(lines) if line.startswith("[")), len(lines))
    return "\n".join(lines[:end])


def test_offline_preview_prints_resources_per_layer(programs):
    done = programs.invoke("preview", "--offline", cli=False, passphrase=False, credentials=False)

    assert done.returncode == 0, done.stderr
    foundation = layer_section(done.stdout, "foundation")
    assert "aws:sqs/queue:Queue" in foundation
    assert "dead-letters" in foundation
    assert "aws:dynamodb/table:Table" in foundation
    assert "foundation: 2 resources, outputs: deadLetterQueueName, tableName" in foundation
    assert "compute: 1 resources" in layer_section(done.stdout, "compute")
    assert "aws:apigateway/restApi:RestApi" in layer_section(done.stdout, "edge")
    assert "aws:sns/topic:Topic" in layer_section(done.stdout, "observability")
    for index, layer in enumerate(naming.LAYERS, start=1):
        assert f"[{index}/4] {layer}: offline run of stacks/{layer}/__main__.py" in done.stdout


def test_offline_preview_calls_no_cli(programs):
    done = programs.invoke("preview", "--offline", cli=True, passphrase=False, credentials=False)

    assert done.returncode == 0, done.stderr
    assert programs.calls() == []
    assert not (programs.root / ".pulumi-state").exists()


def test_offline_preview_one_layer_reads_upstream_exports(programs):
    done = programs.invoke("preview", "--offline", "--layer", "edge", cli=False)

    assert done.returncode == 0, done.stderr
    assert "[1/1] edge: offline run" in done.stdout
    assert "foundation: offline run" not in done.stdout
    assert "aws:apigateway/restApi:RestApi" in done.stdout
    assert "aws:sqs/queue:Queue" not in done.stdout


def test_offline_preview_reads_stack_config(programs):
    config_file = programs.root / "stacks" / "compute" / "Pulumi.staging.yaml"
    text = config_file.read_text(encoding="utf-8")
    config_file.write_text(text + "  tracking:logRetentionDays: 90\n", encoding="utf-8")

    done = programs.invoke("preview", "--offline", "--layer", "compute", "--env", "staging", cli=False)

    assert done.returncode == 0, done.stderr
    assert "outputs: functionLogGroupName, retention" in done.stdout


def test_offline_preview_skips_secure_settings(programs):
    config_file = programs.root / "stacks" / "compute" / "Pulumi.dev.yaml"
    text = config_file.read_text(encoding="utf-8")
    config_file.write_text(text + "  tracking:apiKey:\n    secure: v1:AAAA\n", encoding="utf-8")

    done = programs.invoke("preview", "--offline", "--layer", "compute", cli=False)

    assert done.returncode == 0, done.stderr
    assert "secret settings left unset offline: apiKey" in done.stdout


def test_offline_preview_reports_a_failing_program(programs):
    broken = programs.root / "stacks" / "foundation" / "__main__.py"
    broken.write_text("raise RuntimeError('foundation program is broken')\n", encoding="utf-8")

    done = programs.invoke("preview", "--offline", cli=False)

    assert done.returncode == 1
    assert "offline preview failed for foundation, compute, edge, observability" in done.stderr
    assert "foundation: RuntimeError: foundation program is broken" in done.stderr
    assert "compute: not run, because upstream foundation did not complete" in done.stderr
    assert "failed: not run" in layer_section(done.stdout, "observability")
    assert "Traceback" not in done.stderr


def test_offline_preview_runs_layers_whose_upstream_succeeded(programs):
    broken = programs.root / "stacks" / "edge" / "__main__.py"
    broken.write_text("raise RuntimeError('edge program is broken')\n", encoding="utf-8")

    done = programs.invoke("preview", "--offline", cli=False)

    assert done.returncode == 1
    assert "offline preview failed for edge, observability" in done.stderr
    assert "compute: 1 resources" in layer_section(done.stdout, "compute")


def test_offline_preview_reports_a_missing_program(programs):
    (programs.root / "stacks" / "observability" / "__main__.py").unlink()

    done = programs.invoke("preview", "--offline", "--layer", "observability", cli=False)

    assert done.returncode == 1
    assert "stacks/observability/__main__.py does not exist" in done.stderr
