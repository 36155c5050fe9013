"""devkit.deploy's helpers in process: backend, credentials, emulator variables, summaries, settings."""

import pytest
from invoke import Exit

from devkit import deploy
from shared import outputs


@pytest.fixture
def state_dir(tmp_path, monkeypatch):
    target = tmp_path / ".pulumi-state"
    monkeypatch.setattr(deploy, "STATE_DIR", target)
    return target


def test_backend_defaults_to_file_backend_in_repository(state_dir):
    backend = deploy.resolve_backend({})

    assert backend.url == f"file://{state_dir.as_posix()}"
    assert backend.in_repository
    assert backend.self_managed
    assert state_dir.is_dir()


def test_backend_from_variable_is_used_as_given(state_dir):
    backend = deploy.resolve_backend({"PULUMI_BACKEND_URL": " s3://state-bucket/tracking "})

    assert backend.url == "s3://state-bucket/tracking"
    assert not backend.in_repository
    assert not state_dir.exists()


@pytest.mark.parametrize(
    ("url", "self_managed"),
    [
        ("file:///srv/state", True),
        ("s3://bucket/prefix", True),
        ("azblob://container", True),
        ("gs://bucket", True),
        ("https://api.pulumi.com", False),
    ],
)
def test_backend_kind(url, self_managed):
    assert deploy.Backend(url, in_repository=False).self_managed is self_managed


@pytest.mark.parametrize("value", ["true", "1", "yes"])
def test_backend_in_ci_needs_a_shared_url(state_dir, value):
    with pytest.raises(Exit) as raised:
        deploy.resolve_backend({"CI": value})

    assert "PULUMI_BACKEND_URL is not set" in raised.value.message
    assert not state_dir.exists()


def test_backend_with_ci_false_uses_the_default(state_dir):
    assert deploy.resolve_backend({"CI": "false"}).in_repository


def test_credentials_need_key_and_secret(tmp_path):
    home = {"HOME": str(tmp_path)}

    assert deploy.find_aws_credentials({**home, "AWS_ACCESS_KEY_ID": "AKID"}) is None
    assert deploy.find_aws_credentials({**home, "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s"})


@pytest.mark.parametrize(
    "variable",
    [
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    ],
)
def test_credentials_from_variable(tmp_path, variable):
    assert deploy.find_aws_credentials({"HOME": str(tmp_path), variable: "set"}) == variable


def test_credentials_from_named_credentials_file(tmp_path):
    credentials = tmp_path / "credentials"
    credentials.write_text("[default]\n", encoding="utf-8")

    found = deploy.find_aws_credentials({"HOME": str(tmp_path), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)})

    assert found == str(credentials)


def test_config_file_counts_only_with_credentials(tmp_path):
    (tmp_path / ".aws").mkdir()
    config = tmp_path / ".aws" / "config"

    config.write_text("[default]\nregion = us-west-2\n", encoding="utf-8")
    without = deploy.find_aws_credentials({"HOME": str(tmp_path)})
    config.write_text("[profile deploy]\nsso_session = company\n", encoding="utf-8")
    with_sso = deploy.find_aws_credentials({"HOME": str(tmp_path)})

    assert without is None
    assert with_sso == str(config)


def test_emulator_variables_replace_every_credential_source():
    given = {
        "PATH": "/usr/bin",
        "AWS_ACCESS_KEY_ID": "AKIDREAL",
        "AWS_SECRET_ACCESS_KEY": "real-secret",
        "AWS_PROFILE": "production",
        "AWS_SESSION_TOKEN": "token",
        "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token",
    }

    variables = deploy.emulator_variables(given)

    assert variables["AWS_ACCESS_KEY_ID"] == "testing"
    assert variables["AWS_SECRET_ACCESS_KEY"] == "testing"
    assert variables["AWS_EC2_METADATA_DISABLED"] == "true"
    assert variables["PATH"] == "/usr/bin"
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        assert name not in variables


@pytest.mark.parametrize("endpoint", ["localhost:4566", "ftp://127.0.0.1", ""])
def test_invalid_endpoint_is_rejected(endpoint):
    with pytest.raises(Exit):
        deploy.check_endpoint(endpoint)


def test_summary_columns_and_key_outputs():
    results = [
        deploy.LayerResult(
            "foundation",
            "ok",
            12.34,
            {outputs.TABLE_NAME: "updates", outputs.DEAD_LETTER_QUEUE_URL: "[secret]", outputs.TABLE_ARN: "arn"},
        ),
        deploy.LayerResult("compute", "failed", 3.0),
        deploy.LayerResult("edge"),
    ]

    lines = deploy.format_summary(results).splitlines()

    assert lines[1] == "summary:"
    assert lines[2].split() == ["layer", "result", "seconds", "key", "outputs"]
    assert lines[3].split() == ["foundation", "ok", "12.3", outputs.TABLE_NAME, "=", "updates"]
    assert lines[4].split() == [outputs.DEAD_LETTER_QUEUE_URL, "=", "[secret]"]
    assert lines[5].split() == ["compute", "failed", "3.0"]
    assert lines[6].split() == ["edge", "not", "run"]
    assert "arn" not in "\n".join(lines)


def test_summary_without_outputs_shows_notes():
    results = [deploy.LayerResult("edge", "skipped", note="no stack dev"), deploy.LayerResult("compute", "ok", 1.0)]

    lines = deploy.format_summary(results, show_outputs=False).splitlines()

    assert lines[2].split() == ["layer", "result", "seconds", "notes"]
    assert lines[3].split() == ["edge", "skipped", "no", "stack", "dev"]


def test_render_value_keeps_structures_on_one_line():
    assert deploy.render_value(["a", "b"]) == '["a","b"]'
    assert deploy.render_value({"b": 1, "a": 2}) == '{"a":2,"b":1}'
    assert deploy.render_value("[secret]") == "[secret]"


def test_offline_settings_convert_yaml_values(tmp_path, monkeypatch):
    folder = tmp_path / "compute"
    folder.mkdir()
    (folder / "Pulumi.dev.yaml").write_text(
        "config:\n"
        "  aws:region: us-west-2\n"
        "  tracking:memorySize: 512\n"
        "  tracking:deletionProtection: true\n"
        "  tracking:clientTrustedPrincipals: [arn:aws:iam::123456789012:root]\n"
        "  tracking:owner: team-a\n"
        "  tracking:pageTokenKey:\n"
        "    secure: v1:AAAA\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(deploy, "STACKS_DIR", tmp_path)

    config, skipped = deploy.offline_settings("compute", "dev")

    assert config == {
        "memorySize": "512",
        "deletionProtection": "true",
        "clientTrustedPrincipals": '["arn:aws:iam::123456789012:root"]',
        "owner": "team-a",
    }
    assert skipped == ["pageTokenKey"]


def test_offline_settings_keep_numbers_as_written(tmp_path, monkeypatch):
    # YAML 1.1 would read 2_5 as 25 and 0x3c as 60; the settings check the text, as the stacks do.
    folder = tmp_path / "compute"
    folder.mkdir()
    (folder / "Pulumi.dev.yaml").write_text(
        "config:\n  tracking:timeout: 2_5\n  tracking:parameterMaxAgeSeconds: 0x3c\n  tracking:memorySize: 0400\n"
        "  tracking:logLevel:\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(deploy, "STACKS_DIR", tmp_path)

    config, _ = deploy.offline_settings("compute", "dev")

    assert config == {"timeout": "2_5", "parameterMaxAgeSeconds": "0x3c", "memorySize": "0400"}


def test_organization_defaults_when_unset(tmp_path, monkeypatch):
    monkeypatch.setattr(deploy, "STACKS_DIR", tmp_path)

    assert deploy.organization("edge", "dev") == "organization"
