"""Offline tests of the foundation program: every resource, its key properties, policies and exports."""

import json

import pytest

from devkit import offline
from shared import definitions, naming, outputs, settings, tags

ACCOUNT = offline.ACCOUNT_ID
REGION = naming.REGION
CUSTOMER_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
PAGE_TOKEN_KEY = "given-page-token-key-0123456789abcdefghijklmnop"

TABLE = "aws:dynamodb/table:Table"
QUEUE = "aws:sqs/queue:Queue"
PARAMETER = "aws:ssm/parameter:Parameter"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ACCOUNT_SETTING = "aws:apigateway/account:Account"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
TAGGABLE = (TABLE, QUEUE, PARAMETER, ROLE)
ENVIRONMENTS = ("dev", "staging", "prod")


def _log_group_arn(environment: str) -> str:
    return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/logistics-tracking-{environment}-api"


def _expected_function_statements(environment: str) -> dict:
    """Return the function policy's statements as literals, so a change to the program shows up here."""
    prefix = f"logistics-tracking-{environment}"
    return {
        "TrackingTableItems": (
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
            [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{prefix}-updates"],
        ),
        "PageTokenKeyParameter": (
            ["ssm:GetParameter"],
            [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/logistics-tracking/{environment}/page-token-key"],
        ),
        "CreateLogStreams": (
            ["logs:CreateLogStream"],
            [_log_group_arn(environment), f"{_log_group_arn(environment)}:*"],
        ),
        "PutLogEvents": (["logs:PutLogEvents"], [f"{_log_group_arn(environment)}:log-stream:*"]),
        "ParkFailedUpdates": (["sqs:SendMessage"], [f"arn:aws:sqs:{REGION}:{ACCOUNT}:{prefix}-parked-updates"]),
        "XRayTracing": (["xray:PutTelemetryRecords", "xray:PutTraceSegments"], ["*"]),
    }


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


@pytest.fixture(scope="module")
def runs_by_environment(run_layer) -> dict:
    return {environment: run_layer("foundation", environment) for environment in ENVIRONMENTS}


# --- table ---


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_table_keys_and_billing_match_definitions(runs_by_environment, environment):
    table = runs_by_environment[environment].one(TABLE)

    assert table.inputs["name"] == f"logistics-tracking-{environment}-updates", table.name
    assert table.inputs["billingMode"] == "PAY_PER_REQUEST", table.name
    assert table.inputs["hashKey"] == "tracking_id", table.name
    assert table.inputs["rangeKey"] == "timestamp", table.name
    attributes = sorted((a["name"], a["type"]) for a in table.inputs["attributes"])
    assert attributes == [("timestamp", "S"), ("tracking_id", "S")], table.name
    assert "readCapacity" not in table.inputs, f"{table.name}: on-demand tables take no capacity"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_table_point_in_time_recovery_enabled(runs_by_environment, environment):
    table = runs_by_environment[environment].one(TABLE)

    assert table.inputs["pointInTimeRecovery"]["enabled"] is True, table.name


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_table_encryption_aws_managed_key_by_default(runs_by_environment, environment):
    table = runs_by_environment[environment].one(TABLE)

    # enabled=True without a key ARN is the AWS-managed key; enabled=False would be the AWS-owned key.
    assert table.inputs["serverSideEncryption"] == {"enabled": True}, table.name


def test_table_encryption_customer_key_configured(run_layer):
    table = run_layer("foundation", "prod", config={"tableKmsKeyArn": CUSTOMER_KEY_ARN}).one(TABLE)

    assert table.inputs["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": CUSTOMER_KEY_ARN}, table.name


@pytest.mark.parametrize(("environment", "expected"), [("dev", False), ("staging", False), ("prod", True)])
def test_deletion_protection_default_per_environment(runs_by_environment, environment, expected):
    table = runs_by_environment[environment].one(TABLE)

    assert table.inputs["deletionProtectionEnabled"] is expected, f"{table.name} in {environment}"


@pytest.mark.parametrize(("environment", "raw", "expected"), [("dev", "true", True), ("prod", "false", False)])
def test_deletion_protection_follows_setting(run_layer, environment, raw, expected):
    run = run_layer("foundation", environment, config={"deletionProtection": raw})
    table = run.one(TABLE)

    assert table.inputs["deletionProtectionEnabled"] is expected, f"{table.name} in {environment}"


def test_table_ttl_disabled_by_default(foundation_run):
    table = foundation_run.one(TABLE)

    assert table.inputs["ttl"] == {"enabled": False}, table.name


def test_item_retention_enables_ttl(run_layer, reveal):
    from tracking import store

    run = run_layer("foundation", config={"itemRetentionDays": "400"})
    table = run.one(TABLE)
    api_config = json.loads(reveal(run.named("parameters-api-config").inputs["value"])[1])

    assert table.inputs["ttl"] == {"enabled": True, "attributeName": store.EXPIRY_ATTRIBUTE}, table.name
    assert definitions.TABLE_EXPIRY_ATTRIBUTE == store.EXPIRY_ATTRIBUTE
    assert api_config["item_retention_days"] == 400


def test_api_config_without_item_retention(foundation_run, reveal):
    api_config = json.loads(reveal(foundation_run.named("parameters-api-config").inputs["value"])[1])

    assert "item_retention_days" not in api_config


@pytest.mark.parametrize("raw", ("0", "36501", "forever", "-5"))
def test_item_retention_out_of_range_rejected(run_layer, raw):
    with pytest.raises(settings.SettingError) as caught:
        run_layer("foundation", config={"itemRetentionDays": raw})

    assert "tracking:itemRetentionDays" in str(caught.value)
    assert "1-36500 days, or unset" in str(caught.value)


# --- dead letter queue ---


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_queue_retention_encryption_visibility(runs_by_environment, environment):
    queue = runs_by_environment[environment].one(QUEUE)

    assert queue.inputs["name"] == f"logistics-tracking-{environment}-parked-updates", queue.name
    assert queue.inputs["messageRetentionSeconds"] == 14 * 24 * 3600, queue.name
    assert queue.inputs["sqsManagedSseEnabled"] is True, queue.name
    assert queue.inputs["visibilityTimeoutSeconds"] == definitions.QUEUE_VISIBILITY_TIMEOUT_SECONDS, queue.name
    assert "kmsMasterKeyId" not in queue.inputs, f"{queue.name}: SQS-managed encryption takes no key"


# --- parameters ---


@pytest.mark.parametrize("environment", ("dev", "prod"))
def test_parameters_names_types_values(runs_by_environment, reveal, environment):
    run = runs_by_environment[environment]
    by_name = {p.inputs["name"]: p for p in run.of_type(PARAMETER)}
    plain = definitions.plain_parameter_values(f"logistics-tracking-{environment}-updates")

    assert sorted(by_name) == sorted(f"/logistics-tracking/{environment}/{s.key}" for s in definitions.PARAMETERS)
    for spec in definitions.PARAMETERS:
        parameter = by_name[f"/logistics-tracking/{environment}/{spec.key}"]
        assert parameter.inputs["type"] == spec.type, parameter.name
        assert parameter.inputs["description"] == spec.description, parameter.name
        if spec.type == "String":
            # The SDK sends every parameter value as a secret, String ones included.
            assert reveal(parameter.inputs["value"])[1] == plain[spec.key], parameter.name


def test_database_connection_names_table(foundation_run, reveal):
    parameter = foundation_run.named("parameters-database-connection")

    expected = "dynamodb://logistics-tracking-dev-updates?region=us-west-2"
    assert reveal(parameter.inputs["value"])[1] == expected, parameter.name


def test_page_token_key_from_secret_config(run_layer, reveal):
    run = run_layer("foundation", secrets={"pageTokenKey": PAGE_TOKEN_KEY})
    parameter = run.named("parameters-page-token-key")

    assert parameter.inputs["type"] == "SecureString", parameter.name
    assert reveal(parameter.inputs["value"]) == (True, PAGE_TOKEN_KEY), f"{parameter.name} must hold the secret"
    assert run.of_type(RANDOM_PASSWORD) == [], "no random key is generated when the secret is configured"


def test_page_token_key_generated_when_unset(foundation_run, reveal):
    generated = foundation_run.one(RANDOM_PASSWORD)
    parameter = foundation_run.named("parameters-page-token-key")

    assert generated.inputs["length"] == 64, generated.name
    assert generated.inputs["special"] is False, generated.name
    is_secret, value = reveal(parameter.inputs["value"])
    assert is_secret, f"{parameter.name}: the generated key must reach the parameter as a secret"
    assert value == generated.state["result"], parameter.name


@pytest.mark.parametrize("source", ("secret config", "random fallback"))
def test_page_token_key_absent_from_exports(run_layer, source):
    secrets = {"pageTokenKey": PAGE_TOKEN_KEY} if source == "secret config" else None
    run = run_layer("foundation", secrets=secrets)
    parameter = run.named("parameters-page-token-key")
    secret = PAGE_TOKEN_KEY if secrets else run.one(RANDOM_PASSWORD).state["result"]

    assert secret not in json.dumps(run.outputs), f"{source}: page-token key found in the exports"
    for resource in run.resources:
        if resource.urn == parameter.urn or resource.type == RANDOM_PASSWORD:
            continue
        assert secret not in json.dumps(resource.inputs, default=str), f"{source}: key reached {resource.name}"


def test_page_token_key_too_short_rejected(run_layer):
    short_key = "tiny-key-1"
    # Raised by the program itself, not wrapped in an engine error about some other resource.
    with pytest.raises(settings.SettingError) as caught:
        run_layer("foundation", secrets={"pageTokenKey": short_key})

    message = str(caught.value)
    assert "tracking:pageTokenKey" in message
    assert "at least 32 characters" in message
    assert "pulumi config set --secret tracking:pageTokenKey" in message
    assert short_key not in message, "the error must not print the secret"


def test_page_token_key_secret_setting():
    setting = settings.SECRET_BY_KEY["pageTokenKey"]

    assert setting.layer == "foundation"
    assert "pageTokenKey" not in settings.BY_KEY, "a secret setting must not be read with plain Config.get"


# --- function execution role ---


def test_function_role_trusts_lambda_only(foundation_run, policy_statements):
    role = foundation_run.named("function-execution-role")
    statements = list(policy_statements(role.inputs["assumeRolePolicy"]).values())

    assert role.inputs["name"] == "logistics-tracking-dev-api-function", role.name
    assert len(statements) == 1, role.name
    assert statements[0]["Action"] == ["sts:AssumeRole"], role.name
    assert statements[0]["Principal"] == {"Service": ["lambda.amazonaws.com"]}, role.name


@pytest.mark.parametrize("environment", ("dev", "prod"))
def test_function_policy_statements_exact(runs_by_environment, policy_statements, environment):
    policy = runs_by_environment[environment].named("function-execution-policy")
    statements = policy_statements(policy.inputs["policy"])
    expected = _expected_function_statements(environment)

    assert sorted(statements) == sorted(expected), policy.name
    for sid, (actions, resources) in expected.items():
        statement = statements[sid]
        assert statement["Effect"] == "Allow", f"{policy.name} {sid}"
        assert sorted(_as_list(statement["Action"])) == sorted(actions), f"{policy.name} {sid} actions"
        assert sorted(_as_list(statement["Resource"])) == sorted(resources), f"{policy.name} {sid} resources"
        assert "Condition" not in statement, f"{policy.name} {sid}"


@pytest.mark.parametrize("config", ({}, {"tableKmsKeyArn": CUSTOMER_KEY_ARN}), ids=("aws-key", "customer-key"))
def test_function_policy_no_wildcards(run_layer, policy_statements, config):
    policy = run_layer("foundation", config=config).named("function-execution-policy")

    for sid, statement in policy_statements(policy.inputs["policy"]).items():
        for action in _as_list(statement["Action"]):
            assert "*" not in action, f"{policy.name} {sid}: wildcard action {action}"
        if sid == "XRayTracing":
            continue
        for resource in _as_list(statement["Resource"]):
            assert resource != "*", f"{policy.name} {sid}: wildcard resource"
            assert f":{ACCOUNT}:" in resource, f"{policy.name} {sid}: {resource} is not in the account"


def test_function_policy_omits_create_log_group(foundation_run, policy_statements):
    policy = foundation_run.named("function-execution-policy")
    actions = [a for s in policy_statements(policy.inputs["policy"]).values() for a in _as_list(s["Action"])]

    assert "logs:CreateLogGroup" not in actions, f"{policy.name}: the compute stack creates the log group"


def test_function_policy_aws_key_no_kms(foundation_run, policy_statements):
    policy = foundation_run.named("function-execution-policy")
    actions = [a for s in policy_statements(policy.inputs["policy"]).values() for a in _as_list(s["Action"])]

    assert not [a for a in actions if a.startswith("kms:")], policy.name


def test_function_policy_customer_key_decrypt(run_layer, policy_statements):
    policy = run_layer("foundation", config={"tableKmsKeyArn": CUSTOMER_KEY_ARN}).named("function-execution-policy")
    statements = policy_statements(policy.inputs["policy"])
    key_statement = statements["TrackingTableKey"]

    assert key_statement["Action"] == ["kms:Decrypt"], policy.name
    assert key_statement["Resource"] == [CUSTOMER_KEY_ARN], policy.name
    assert key_statement["Condition"] == {"StringEquals": {"kms:ViaService": ["dynamodb.us-west-2.amazonaws.com"]}}, (
        policy.name
    )
    assert len(statements) == len(_expected_function_statements("dev")) + 1, policy.name


def test_function_role_may_send_to_queue(foundation_run, policy_statements):
    role = foundation_run.named("function-execution-role")
    policy = foundation_run.named("function-execution-policy")
    queue_arn = foundation_run.outputs[outputs.DEAD_LETTER_QUEUE_ARN]

    assert policy.inputs["role"] == role.state["name"], f"{policy.name} is attached to another role"
    assert foundation_run.outputs[outputs.FUNCTION_ROLE_ARN] == role.state["arn"], role.name
    allowed = [
        s
        for s in policy_statements(policy.inputs["policy"]).values()
        if "sqs:SendMessage" in _as_list(s["Action"]) and queue_arn in _as_list(s["Resource"])
    ]
    assert allowed, f"{role.name} may not send to {queue_arn}"


def test_function_policy_depends_on_resources(foundation_run):
    policy = foundation_run.named("function-execution-policy")

    for name in ("updates", "parked-updates", "parameters-page-token-key"):
        assert foundation_run.depends_on(policy, foundation_run.named(name)), f"{policy.name} -> {name}"


def test_policy_account_from_caller_identity(foundation_run):
    tokens = [token for token, _ in foundation_run.calls]

    assert "aws:index/getCallerIdentity:getCallerIdentity" in tokens


# --- API Gateway logging ---


def test_api_gateway_logging_role_and_account(foundation_run, policy_statements):
    role = foundation_run.named("api-gateway-logging-role")
    attachment = foundation_run.one(ATTACHMENT)
    account = foundation_run.one(ACCOUNT_SETTING)
    trust = list(policy_statements(role.inputs["assumeRolePolicy"]).values())

    assert trust[0]["Principal"] == {"Service": ["apigateway.amazonaws.com"]}, role.name
    assert trust[0]["Action"] == ["sts:AssumeRole"], role.name
    assert attachment.inputs["role"] == role.state["name"], attachment.name
    expected_policy = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
    assert attachment.inputs["policyArn"] == expected_policy, attachment.name
    assert account.inputs["cloudwatchRoleArn"] == role.state["arn"], account.name
    assert foundation_run.depends_on(account, attachment), f"{account.name} must wait for the policy"
    assert foundation_run.outputs[outputs.API_GATEWAY_CLOUDWATCH_ROLE_ARN] == role.state["arn"], role.name


def test_api_gateway_account_declared_once(foundation_run):
    assert len(foundation_run.of_type(ACCOUNT_SETTING)) == 1


# --- every resource ---


def test_resource_inventory_complete(foundation_run):
    counts: dict = {}
    for resource in foundation_run.resources:
        counts[resource.type] = counts.get(resource.type, 0) + 1

    assert counts == {
        TABLE: 1,
        QUEUE: 1,
        PARAMETER: 4,
        RANDOM_PASSWORD: 1,
        ROLE: 2,
        ROLE_POLICY: 1,
        ATTACHMENT: 1,
        ACCOUNT_SETTING: 1,
        "pulumi:providers:aws": 1,
        "logistics-tracking:foundation:Parameters": 1,
        "logistics-tracking:foundation:FunctionRole": 1,
        "logistics-tracking:foundation:ApiGatewayLogging": 1,
    }


@pytest.mark.parametrize("environment", ("dev", "prod"))
def test_taggable_resources_carry_standard_tags(runs_by_environment, environment):
    expected = tags.standard_tags(settings.read_settings("foundation", environment, {}), "foundation")

    for resource in runs_by_environment[environment].resources:
        if resource.type in TAGGABLE:
            assert resource.inputs.get("tags") == expected, resource.name


def test_aws_resources_use_layer_provider(foundation_run):
    for resource in foundation_run.resources:
        if resource.type.startswith("aws:"):
            assert "::aws-foundation::" in (resource.provider or ""), f"{resource.name}: {resource.provider}"


def test_provider_region_and_default_tags(foundation_run):
    provider = foundation_run.one("pulumi:providers:aws")

    assert provider.inputs["region"] == "us-west-2", provider.name
    assert "endpoints" not in provider.inputs, f"{provider.name}: no emulator endpoint by default"


def test_component_children_parented(foundation_run):
    components = {r.name: r for r in foundation_run.resources if r.type.startswith("logistics-tracking:")}

    for resource in foundation_run.resources:
        for name, component in components.items():
            if resource.name.startswith(f"{name}-"):
                assert resource.parent == component.urn, f"{resource.name} is not a child of {name}"


# --- exports ---


def test_exports_match_outputs_by_layer(foundation_run):
    assert sorted(foundation_run.outputs) == sorted(outputs.BY_LAYER["foundation"])


@pytest.mark.parametrize("environment", ("dev", "prod"))
def test_export_values_per_environment(runs_by_environment, environment):
    exported = runs_by_environment[environment].outputs
    prefix = f"logistics-tracking-{environment}"

    assert exported[outputs.TABLE_NAME] == f"{prefix}-updates"
    assert exported[outputs.TABLE_ARN] == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{prefix}-updates"
    assert exported[outputs.DEAD_LETTER_QUEUE_NAME] == f"{prefix}-parked-updates"
    assert exported[outputs.DEAD_LETTER_QUEUE_ARN] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:{prefix}-parked-updates"
    assert exported[outputs.DEAD_LETTER_QUEUE_URL].endswith(f"/{ACCOUNT}/{prefix}-parked-updates")
    assert exported[outputs.FUNCTION_ROLE_ARN] == f"arn:aws:iam::{ACCOUNT}:role/{prefix}-api-function"
    assert exported[outputs.API_CONFIG_PARAMETER_NAME] == f"/logistics-tracking/{environment}/api-config"
    assert exported[outputs.DATABASE_CONNECTION_PARAMETER_NAME] == (
        f"/logistics-tracking/{environment}/database-connection"
    )
    assert exported[outputs.FEATURE_FLAGS_PARAMETER_NAME] == f"/logistics-tracking/{environment}/feature-flags"
    assert exported[outputs.PAGE_TOKEN_KEY_PARAMETER_NAME] == f"/logistics-tracking/{environment}/page-token-key"


# --- invalid settings ---


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("tableKmsKeyArn", "alias/tracking", "a KMS key ARN in us-west-2"),
        ("tableKmsKeyArn", CUSTOMER_KEY_ARN.replace(REGION, "eu-west-1"), "a KMS key ARN in us-west-2"),
        ("endpoint", "http://", "an http(s) URL of an AWS emulator"),
        ("endpoint", "ftp://127.0.0.1:5000", "an http(s) URL of an AWS emulator"),
        ("endpoint", "127.0.0.1:5000", "an http(s) URL of an AWS emulator"),
        ("endpoint", "http://[::1", "an http(s) URL of an AWS emulator"),
        ("endpoint", "http://127.0.0.1:99999", "an http(s) URL of an AWS emulator"),
        ("itemRetentionDays", "1_000", "1-36500 days, or unset"),
        ("logRetentionDays", "\uff13\uff10", "retention values"),
        ("itemRetentionDays", "0", "1-36500 days, or unset"),
        ("deletionProtection", "maybe", "true or false"),
        ("logRetentionDays", "10", "retention values"),
    ],
)
def test_invalid_setting_error_message(run_layer, key, value, allowed):
    with pytest.raises(settings.SettingError) as caught:
        run_layer("foundation", config={key: value})

    message = str(caught.value)
    assert f"tracking:{key}" in message
    assert repr(value) in message
    assert allowed in message
    assert f"Fix: pulumi config set tracking:{key} <value> --stack dev" in message


@pytest.mark.parametrize(("key", "owner"), [("timeout", "compute"), ("alarmEmail", "observability")])
def test_setting_of_another_stack_rejected(run_layer, key, owner):
    with pytest.raises(settings.SettingError) as caught:
        run_layer("foundation", config={key: "25" if key == "timeout" else "oncall@example.com"})

    message = str(caught.value)
    assert f"tracking:{key} belongs to the {owner} stack" in message
    assert f"Fix: pulumi config rm tracking:{key} --stack dev in stacks/foundation" in message


def test_unknown_environment_rejected(run_layer):
    with pytest.raises(settings.SettingError) as caught:
        run_layer("foundation", "qa")

    message = str(caught.value)
    assert "stack name 'qa'" in message
    assert "dev, staging, prod" in message
    assert "Fix: pulumi stack select" in message
