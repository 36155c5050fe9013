"""Offline tests of the compute program: log group, function, code package, settings and upstream reads."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from devkit import offline
from shared import definitions, naming, outputs, settings, tags
from shared.references import MissingUpstreamOutput

REPO_ROOT = Path(__file__).resolve().parents[2]
LAMBDA_DIR = REPO_ROOT / "lambda"
ACCOUNT = offline.ACCOUNT_ID
REGION = naming.REGION
PAGE_TOKEN_KEY = "given-page-token-key-0123456789abcdefghijklmnop"

FUNCTION = "aws:lambda/function:Function"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
GET_PARAMETER = "aws:ssm/getParameter:getParameter"
FOUNDATION_STACK = "organization/logistics-tracking-foundation/dev"
LAYER_PREFIX = f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3"


def _load_compute_function_module():
    """Import the compute program's helper module by path, as the program itself does."""
    path = REPO_ROOT / "stacks" / "compute" / "compute_function.py"
    spec = importlib.util.spec_from_file_location("compute_function_under_test", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


compute_function = _load_compute_function_module()


def _package_files_on_disk() -> list:
    """Return the archive paths the package must contain, computed here independently of the program."""
    package = LAMBDA_DIR / "tracking"
    found = []
    for path in package.rglob("*"):
        relative = path.relative_to(package)
        if not path.is_file() or path.suffix == ".pyc":
            continue
        if any(part == "__pycache__" or part.startswith(".") for part in relative.parts):
            continue
        found.append(f"tracking/{relative.as_posix()}")
    return sorted(found)


# --- log group ---


def test_shortest_timeout_fits_write_reserve():
    """A timeout below the function's write reserve would park every update without trying the table."""
    from tracking import service

    shortest_ms = settings.MIN_FUNCTION_TIMEOUT_SECONDS * 1000
    assert not settings.BY_KEY["timeout"].check(settings.MIN_FUNCTION_TIMEOUT_SECONDS - 1)
    assert settings.BY_KEY["timeout"].check(settings.MIN_FUNCTION_TIMEOUT_SECONDS)
    assert shortest_ms > service.WRITE_RESERVE_MS
    assert settings.BY_KEY["timeout"].default * 1000 > service.WRITE_RESERVE_MS


@pytest.mark.parametrize("environment", ("dev", "prod"))
def test_log_group_name_and_default_retention(run_layer, environment):
    log_group = run_layer("compute", environment).one(LOG_GROUP)

    assert log_group.inputs["name"] == f"/aws/lambda/logistics-tracking-{environment}-api", log_group.name
    assert log_group.inputs["retentionInDays"] == 30, log_group.name


def test_log_group_retention_follows_setting(run_layer):
    log_group = run_layer("compute", config={"logRetentionDays": "90"}).one(LOG_GROUP)

    assert log_group.inputs["retentionInDays"] == 90, log_group.name


def test_log_group_matches_function_name(compute_run):
    log_group = compute_run.one(LOG_GROUP)
    function = compute_run.one(FUNCTION)

    # Lambda writes to /aws/lambda/<function name>; any other name leaves the group unused.
    assert log_group.inputs["name"] == f"/aws/lambda/{function.inputs['name']}", log_group.name


def test_function_depends_on_log_group(compute_run):
    function = compute_run.one(FUNCTION)
    log_group = compute_run.one(LOG_GROUP)

    assert compute_run.depends_on(function, log_group), f"{function.name} must be created after {log_group.name}"


# --- function ---


@pytest.mark.parametrize("environment", ("dev", "prod"))
def test_function_core_properties(run_layer, upstream_outputs, environment):
    function = run_layer("compute", environment).one(FUNCTION)
    foundation = upstream_outputs("compute", environment)[f"organization/logistics-tracking-foundation/{environment}"]

    assert function.inputs["name"] == f"logistics-tracking-{environment}-api", function.name
    assert function.inputs["handler"] == "tracking.app.handler", function.name
    assert function.inputs["runtime"] == "python3.9", function.name
    assert function.inputs["architectures"] == ["x86_64"], function.name
    assert function.inputs["memorySize"] == 256, function.name
    assert function.inputs["timeout"] == 25, function.name
    assert function.inputs["role"] == foundation[outputs.FUNCTION_ROLE_ARN], function.name
    assert function.inputs["tracingConfig"] == {"mode": "Active"}, function.name
    assert function.inputs["deadLetterConfig"] == {"targetArn": foundation[outputs.DEAD_LETTER_QUEUE_ARN]}, (
        function.name
    )
    assert function.inputs["layers"] == [f"{LAYER_PREFIX}-python39-x86_64:27"], function.name


def test_memory_and_timeout_follow_settings(run_layer):
    function = run_layer("compute", config={"memorySize": "512", "timeout": "28"}).one(FUNCTION)

    assert function.inputs["memorySize"] == 512, function.name
    assert function.inputs["timeout"] == 28, function.name


@pytest.mark.parametrize("environment", ("dev", "prod"))
def test_environment_variables_exact(run_layer, upstream_outputs, environment):
    function = run_layer("compute", environment).one(FUNCTION)
    foundation = upstream_outputs("compute", environment)[f"organization/logistics-tracking-foundation/{environment}"]
    plain = definitions.plain_parameter_values(f"logistics-tracking-{environment}-updates")

    assert function.inputs["environment"]["variables"] == {
        "TRACKING_ENVIRONMENT": environment,
        "TRACKING_DEAD_LETTER_QUEUE_URL": foundation[outputs.DEAD_LETTER_QUEUE_URL],
        "TRACKING_API_CONFIG": plain["api-config"],
        "TRACKING_FEATURE_FLAGS": plain["feature-flags"],
        "TRACKING_DATABASE_CONNECTION": plain["database-connection"],
        "TRACKING_PAGE_TOKEN_KEY_PARAMETER": f"/logistics-tracking/{environment}/page-token-key",
        "TRACKING_PARAMETER_MAX_AGE_SECONDS": "300",
        "POWERTOOLS_SERVICE_NAME": "tracking-api",
        "POWERTOOLS_METRICS_NAMESPACE": "LogisticsTracking",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }, function.name


def test_environment_follows_settings(run_layer):
    config = {"logLevel": "DEBUG", "parameterMaxAgeSeconds": "60"}
    variables = run_layer("compute", config=config).one(FUNCTION).inputs["environment"]["variables"]

    assert variables["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    assert variables["TRACKING_PARAMETER_MAX_AGE_SECONDS"] == "60"


def test_environment_covers_function_contract(compute_run):
    contract_module = compute_function.ENV
    variables = compute_run.one(FUNCTION).inputs["environment"]["variables"]
    contract_names = {getattr(contract_module, name) for name in dir(contract_module) if name.startswith("ENV_")}

    unset = sorted(contract_names - set(variables))
    assert not unset, f"variables the function reads but the stack does not set: {unset}"


def test_string_parameters_read_at_deploy_time(compute_run):
    names = sorted(args["name"] for token, args in compute_run.calls if token == GET_PARAMETER)

    assert names == sorted(
        [
            "/logistics-tracking/dev/api-config",
            "/logistics-tracking/dev/database-connection",
            "/logistics-tracking/dev/feature-flags",
        ]
    ), "the page-token key must be read by the function at run time, never at deploy time"


def test_page_token_key_absent_from_compute(run_layer, upstream_outputs):
    # The key is set in the foundation stack, the only one whose settings hold it.
    run = run_layer("compute", upstream=upstream_outputs("compute", secrets={"pageTokenKey": PAGE_TOKEN_KEY}))

    assert PAGE_TOKEN_KEY not in json.dumps(run.outputs), "page-token key found in the compute exports"
    for resource in run.resources:
        assert PAGE_TOKEN_KEY not in json.dumps(resource.inputs, default=str), f"key reached {resource.name}"


def test_reserved_concurrency_absent_by_default(compute_run):
    function = compute_run.one(FUNCTION)

    assert "reservedConcurrentExecutions" not in function.inputs, f"{function.name}: unset by default"


def test_reserved_concurrency_present_when_set(run_layer):
    function = run_layer("compute", config={"reservedConcurrency": "5"}).one(FUNCTION)

    assert function.inputs["reservedConcurrentExecutions"] == 5, function.name


@pytest.mark.parametrize(
    ("runtime", "architecture", "layer"),
    [
        ("python3.9", "arm64", f"{LAYER_PREFIX}-python39-arm64:27"),
        ("python3.12", "x86_64", f"{LAYER_PREFIX}-python312-x86_64:27"),
        ("python3.13", "arm64", f"{LAYER_PREFIX}-python313-arm64:27"),
    ],
)
def test_runtime_change_moves_layer(run_layer, runtime, architecture, layer):
    function = run_layer("compute", config={"runtime": runtime, "architecture": architecture}).one(FUNCTION)

    assert function.inputs["runtime"] == runtime, function.name
    assert function.inputs["architectures"] == [architecture], function.name
    assert function.inputs["layers"] == [layer], function.name


# --- code package ---


def test_code_archive_matches_package(compute_run):
    code = compute_run.one(FUNCTION).inputs["code"]
    archived = sorted(code.assets)

    assert archived == _package_files_on_disk()
    assert "tracking/app.py" in archived, "the handler module is missing from the archive"
    assert "tracking/contract.py" in archived
    for schema in sorted((LAMBDA_DIR / "tracking" / "schemas").glob("*.json")):
        assert f"tracking/schemas/{schema.name}" in archived, schema.name
    for name, asset in code.assets.items():
        assert Path(asset.path) == LAMBDA_DIR / name, name


def test_package_skips_bytecode_and_hidden(tmp_path):
    package = tmp_path / "tracking"
    (package / "schemas").mkdir(parents=True)
    (package / "__pycache__").mkdir()
    (package / "app.py").write_text("def handler(event, context):\n    return {}\n")
    (package / "schemas" / "track_request.json").write_text("{}")
    (package / "__pycache__" / "app.cpython-39.pyc").write_bytes(b"\0")
    (package / "stale.pyc").write_bytes(b"\0")
    (package / ".app.py.swp").write_bytes(b"\0")

    files = compute_function.package_files(tmp_path)

    assert sorted(files) == ["tracking/app.py", "tracking/schemas/track_request.json"]


def test_package_missing_handler_fails(tmp_path):
    (tmp_path / "tracking").mkdir()
    (tmp_path / "tracking" / "contract.py").write_text("")

    with pytest.raises(FileNotFoundError) as caught:
        compute_function.package_files(tmp_path)

    assert "tracking/app.py" in str(caught.value)
    assert "tracking.app.handler" in str(caught.value)


# --- every resource and the exports ---


def test_resource_inventory_complete(compute_run):
    types = sorted(resource.type for resource in compute_run.resources)

    assert types == sorted([FUNCTION, LOG_GROUP, "pulumi:providers:aws", "logistics-tracking:compute:TrackingFunction"])


@pytest.mark.parametrize("environment", ("dev", "prod"))
def test_taggable_resources_carry_standard_tags(run_layer, environment):
    expected = tags.standard_tags(settings.read_settings("compute", environment, {}), "compute")

    for resource in run_layer("compute", environment).resources:
        if resource.type in (FUNCTION, LOG_GROUP):
            assert resource.inputs.get("tags") == expected, resource.name


def test_aws_resources_use_layer_provider(compute_run):
    for resource in compute_run.resources:
        if resource.type.startswith("aws:"):
            assert "::aws-compute::" in (resource.provider or ""), f"{resource.name}: {resource.provider}"


def test_component_children_parented(compute_run):
    component = compute_run.named("api")

    for resource in (compute_run.one(FUNCTION), compute_run.one(LOG_GROUP)):
        assert resource.parent == component.urn, f"{resource.name} is not a child of {component.name}"


def test_exports_match_outputs_by_layer(compute_run):
    assert sorted(compute_run.outputs) == sorted(outputs.BY_LAYER["compute"])


def test_export_values(compute_run):
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:logistics-tracking-dev-api"

    assert compute_run.outputs[outputs.FUNCTION_NAME] == "logistics-tracking-dev-api"
    assert compute_run.outputs[outputs.FUNCTION_ARN] == arn
    assert compute_run.outputs[outputs.FUNCTION_INVOKE_ARN] == (
        f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations"
    )
    assert compute_run.outputs[outputs.FUNCTION_LOG_GROUP_NAME] == "/aws/lambda/logistics-tracking-dev-api"


# --- upstream ---


@pytest.mark.parametrize("output_name", outputs.REQUIRED_UPSTREAM["compute"]["foundation"])
def test_missing_foundation_output_named(run_layer, upstream_outputs, error_chain, output_name):
    upstream = upstream_outputs("compute")
    del upstream[FOUNDATION_STACK][output_name]

    with pytest.raises(Exception) as caught:  # noqa: B017 - the engine wraps the KeyError
        run_layer("compute", upstream=upstream)

    missing = [e for e in error_chain(caught.value) if isinstance(e, MissingUpstreamOutput)]
    assert missing, f"expected MissingUpstreamOutput for {output_name} in {error_chain(caught.value)}"
    assert output_name in str(missing[0])
    assert FOUNDATION_STACK in str(missing[0])
    assert "invoke deploy --layer foundation --env dev" in str(missing[0])


def test_reference_uses_organization_setting(run_layer, upstream_outputs):
    config = {"organization": "acme"}
    upstream = upstream_outputs("compute", config=config)

    assert list(upstream) == ["acme/logistics-tracking-foundation/dev"]
    function = run_layer("compute", config=config, upstream=upstream).one(FUNCTION)
    assert function.inputs["name"] == "logistics-tracking-dev-api", function.name


def test_reference_wrong_organization_fails(run_layer, upstream_outputs):
    upstream = upstream_outputs("compute")

    with pytest.raises(Exception) as caught:  # noqa: B017 - the engine wraps the KeyError
        run_layer("compute", config={"organization": "acme"}, upstream=upstream)

    assert "acme/logistics-tracking-foundation/dev" in str(caught.value)


# --- invalid settings ---


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("runtime", "python3.8", "python3.9, python3.10, python3.11, python3.12, python3.13"),
        ("architecture", "mips", "x86_64 or arm64"),
        ("timeout", "29", "20-28 seconds"),
        ("timeout", "0", "20-28 seconds"),
        ("timeout", "19", "20-28 seconds"),
        ("memorySize", "64", "128-10240 MB"),
        ("memorySize", "lots", "128-10240 MB"),
        ("reservedConcurrency", "0", "1-1000, or unset"),
        ("logLevel", "TRACE", "DEBUG, INFO, WARNING or ERROR"),
        ("parameterMaxAgeSeconds", "-1", "0-3600 seconds"),
    ],
)
def test_invalid_setting_error_message(run_layer, key, value, allowed):
    with pytest.raises(settings.SettingError) as caught:
        run_layer("compute", config={key: value})

    message = str(caught.value)
    assert f"tracking:{key}" in message
    assert repr(value) in message
    assert allowed in message
    assert f"Fix: pulumi config set tracking:{key} <value> --stack dev" in message


def test_unknown_environment_rejected(run_layer):
    with pytest.raises(settings.SettingError) as caught:
        run_layer("compute", "qa", upstream={})

    message = str(caught.value)
    assert "stack name 'qa'" in message
    assert "dev, staging, prod" in message
    assert "Fix: pulumi stack select" in message


def test_unpublished_layer_pair_rejected():
    with pytest.raises(settings.SettingError) as caught:
        settings.check_powertools_layer("python3.14", "arm64", "dev")

    message = str(caught.value)
    assert "tracking:runtime = 'python3.14'" in message
    assert "tracking:architecture = 'arm64'" in message
    assert "python3.13/arm64" in message
    assert "Fix: pulumi config set tracking:runtime <runtime> --stack dev" in message


def test_allowed_pairs_have_layer():
    for runtime in settings.LAYER_RUNTIMES:
        for architecture in settings.ARCHITECTURES:
            assert (runtime, architecture) in settings.POWERTOOLS_LAYER_TARGETS, f"{runtime}/{architecture}"
