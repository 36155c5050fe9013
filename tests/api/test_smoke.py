"""The smoke checks: they pass against a healthy local API and fail, naming the check, against a broken one."""

import os
import socket

import pytest
from invoke import Exit

import devkit.local
from devkit import smoke
from devkit.deploy import StackOutputs
from shared import definitions, outputs
from shared.contract import function_contract as contract
from tests.tasks.conftest import fq, workspace  # noqa: F401 - workspace is a fixture used by name

# Variables the AWS credential chain reads before the shared files and instance metadata.
CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
)
CHECK_NAMES = ["create", "duplicate", "status", "not-found", "invalid-body", "unsigned"]


@pytest.fixture
def fresh_api():
    """A local API of its own, for a test that breaks it."""
    api = devkit.local.start(port=0)
    yield api
    api.stop()


def _local_credentials(api) -> smoke.Credentials:
    return smoke.Credentials(api.credentials.access_key_id, api.credentials.secret_access_key)


def _run_failing(api_url: str, credentials: smoke.Credentials):
    lines = []
    with pytest.raises(Exit) as raised:
        smoke.run_smoke(api_url, credentials, out=lines.append)
    return raised.value, lines


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_smoke_passes_against_local_api(local_api):
    lines = []

    results = smoke.run_smoke(local_api.base_url, _local_credentials(local_api), out=lines.append)

    assert [result.name for result in results] == CHECK_NAMES
    for result in results:
        assert result.passed, f"{result.name}: expected {result.expected}, got {result.actual}"
    assert lines[0] == f"smoke checks against {local_api.base_url}"
    assert lines[-1] == "all 6 smoke checks passed"


def test_smoke_prints_each_check_with_latency(local_api):
    lines = []

    smoke.run_smoke(local_api.base_url, _local_credentials(local_api), out=lines.append)

    check_lines = lines[1:-1]
    assert len(check_lines) == len(CHECK_NAMES)
    for name, line in zip(CHECK_NAMES, check_lines):
        assert line.startswith(f"PASS  {name} "), line
        assert " ms  got " in line, line


def test_smoke_signs_with_chain_credentials(local_api):
    credentials = smoke.aws_credentials()

    assert credentials.access_key_id == local_api.credentials.access_key_id
    assert credentials.session_token == "testing"
    results = smoke.run_smoke(local_api.base_url, credentials, out=lambda line: None)
    assert all(result.passed for result in results)


def test_smoke_uses_unique_tracking_ids(local_api):
    with local_api.client() as client:
        first = smoke.run_checks(client)
        second = smoke.run_checks(client)

    assert first[0].passed, first[0].actual
    assert second[0].passed, "a second run's update was not new: tracking ids repeat"


def test_smoke_fails_when_writes_fail(fresh_api, monkeypatch):
    # The function reads its table from this variable at its first request, so the table is missing.
    connection = definitions.database_connection("no-such-table")
    monkeypatch.setitem(fresh_api.emulator.function_environment, contract.ENV_DATABASE_CONNECTION, connection)

    error, lines = _run_failing(fresh_api.base_url, _local_credentials(fresh_api))

    assert error.code == 1
    assert error.message.startswith("smoke check create failed: expected 201 created, got 202"), error.message
    assert any(line.startswith("FAIL  create ") for line in lines), lines
    assert any(line.startswith("PASS  unsigned ") for line in lines), lines


def test_smoke_fails_when_emulator_stopped(fresh_api):
    fresh_api.emulator.stop()

    error, lines = _run_failing(fresh_api.base_url, _local_credentials(fresh_api))

    assert error.message.startswith("smoke check create failed: expected 201 created, got 503"), error.message
    assert len([line for line in lines if line.startswith("FAIL ")]) >= 3, lines


def test_smoke_fails_when_api_unreachable():
    url = f"http://127.0.0.1:{_free_port()}/dev"

    error, lines = _run_failing(url, smoke.Credentials("local-access-key", "local-secret-key"))

    assert error.message.startswith("smoke check create failed: expected 201 created, got no response"), error.message
    assert "6 of 6 checks failed" in error.message
    assert "Fix: check the URL" in error.message


def test_smoke_fails_with_wrong_credentials(local_api):
    error, _ = _run_failing(local_api.base_url, smoke.Credentials("AKIDWRONG", "wrong-secret"))

    assert error.message.startswith("smoke check create failed: expected 201 created, got 403"), error.message
    assert "allows execute-api:Invoke" in error.message


def test_aws_credentials_missing_raises_with_fix(monkeypatch, tmp_path):
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    with pytest.raises(Exit) as raised:
        smoke.aws_credentials()

    assert raised.value.message.startswith("no AWS credentials found")
    assert "Fix: run `aws configure`" in raised.value.message


def test_local_url_without_credentials_never_asks_instance_metadata(monkeypatch, tmp_path):
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_EC2_METADATA_DISABLED", raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))

    with pytest.raises(Exit) as raised:
        smoke.aws_credentials("http://127.0.0.1:8080/dev")

    # The chain is set not to query an instance metadata address, which a loopback target never needs.
    assert os.environ["AWS_EC2_METADATA_DISABLED"] == "true"
    assert "to sign requests to the local API" in raised.value.message
    assert "AWS_ACCESS_KEY_ID=local-access-key" in raised.value.message


@pytest.mark.parametrize("url", ["ftp://example.invalid/dev", "127.0.0.1:8000/dev", "https:///dev"])
def test_check_url_rejects_invalid(url):
    with pytest.raises(Exit, match="invalid --url"):
        smoke.check_url(url)


def test_invoke_url_read_from_edge_outputs():
    edge = StackOutputs("dev", {outputs.INVOKE_URL: "https://abc.example.invalid/dev"})

    assert smoke.invoke_url(edge, "dev") == "https://abc.example.invalid/dev"


def test_invoke_url_missing_output_raises_with_fix():
    with pytest.raises(Exit) as raised:
        smoke.invoke_url(StackOutputs("dev", {}), "dev")

    assert f"exports no {outputs.INVOKE_URL}" in raised.value.message
    assert "invoke deploy --layer edge --env dev" in raised.value.message


def test_invoke_url_unreadable_stack_raises_with_fix():
    with pytest.raises(Exit) as raised:
        smoke.invoke_url(StackOutputs("dev", None, "no stack named 'dev' found"), "dev")

    assert "no stack named 'dev' found" in raised.value.message
    assert "or pass --url" in raised.value.message


def _signing_environment(api) -> dict:
    return {
        "AWS_ACCESS_KEY_ID": api.credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": api.credentials.secret_access_key,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def test_smoke_task_reads_invoke_url_from_edge_stack(workspace, local_api):  # noqa: F811
    workspace.scenario(stacks={fq("edge"): {"outputs": {outputs.INVOKE_URL: local_api.base_url}}})

    done = workspace.invoke("smoke", "--env", "dev", extra=_signing_environment(local_api))

    assert done.returncode == 0, done.stderr
    assert f"smoke checks against {local_api.base_url}" in done.stdout
    assert done.stdout.count("PASS  ") == len(CHECK_NAMES), done.stdout
    assert ["stack", "output", "--json", "--stack", "dev"] in [argv for _, argv in workspace.commands()]


def test_smoke_task_exits_nonzero_naming_failed_check(workspace, local_api):  # noqa: F811
    environment = {**_signing_environment(local_api), "AWS_SECRET_ACCESS_KEY": "not-the-local-secret"}

    done = workspace.invoke("smoke", "--url", local_api.base_url, extra=environment)

    assert done.returncode == 1, done.stdout
    assert "smoke check create failed" in done.stderr
    assert "FAIL  create " in done.stdout
    assert workspace.calls() == [], "--url must not read stack outputs"


def test_smoke_task_without_credentials_exits_with_fix(workspace, local_api):  # noqa: F811
    # Instance metadata is the chain's last source. It is disabled, so the lookup never leaves this machine.
    environment = {"AWS_EC2_METADATA_DISABLED": "true"}

    done = workspace.invoke("smoke", "--url", local_api.base_url, credentials=False, extra=environment)

    assert done.returncode == 1
    assert "no AWS credentials found to sign requests to the local API" in done.stderr
    assert "Fix: export the pair it was started with" in done.stderr
