"""Each rule against a real mocked resource with one property broken: exactly that rule fails, naming the resource."""

import copy
import json

import pytest

from policy import rules
from tests.policy.helpers import failures, policy_document, props_of, stack_view, statement

TABLE = "updates"
QUEUE = "parked-updates"
PAGE_TOKEN_KEY = "parameters-page-token-key"
API_CONFIG = "parameters-api-config"
FUNCTION_ROLE = "function-execution-role"
FUNCTION_POLICY = "function-execution-policy"
FUNCTION = "api-function"
POST_METHOD = "api-post-track-method"
GET_INTEGRATION = "api-get-status-integration"
CLIENT_POLICY = "api-client-policy"
TOPIC = "alarm-topic-topic"


def resource(chain: dict, layer: str, name: str):
    return chain[layer].named(name)


def assert_only_rule_fails(rule_name: str, type_token: str, props: dict, name: str) -> list:
    """Assert that ``rule_name`` is the only rule ``props`` violates, with messages naming the resource."""
    found = failures(type_token, props, name)
    assert set(found) == {rule_name}, f"{name}: expected only {rule_name} to fail, got {found}"
    for message in found[rule_name]:
        assert repr(name) in message, f"{name}: message does not name the resource: {message}"
    return found[rule_name]


def assert_no_rule_fails(type_token: str, props: dict, name: str) -> None:
    found = failures(type_token, props, name)
    assert found == {}, f"{name}: expected no violation, got {found}"


def taggable_resources(chain: dict) -> list:
    return [resource for run in chain.values() for resource in run.resources if resource.type in rules.TAGGABLE_TYPES]


# Required tags ------------------------------------------------------------------------------------


def test_required_tags_missing_key_fails(chains):
    chain = chains["dev-all-options"]
    checked = taggable_resources(chain)

    for target in checked:
        props = props_of(target)
        del props["tags"]["CostCenter"]

        messages = assert_only_rule_fails("required-tags", target.type, props, target.name)

        assert "CostCenter" in messages[0], f"{target.name}: message does not name the missing tag: {messages[0]}"
    assert {target.type for target in checked} == rules.TAGGABLE_TYPES, "some taggable types were never broken"


def test_required_tags_empty_value_fails(dev_chain):
    table = resource(dev_chain, "foundation", TABLE)
    props = props_of(table)
    props["tags"]["Owner"] = " "

    messages = assert_only_rule_fails("required-tags", table.type, props, table.name)

    assert "Owner" in messages[0], f"{table.name}: message does not name the empty tag: {messages[0]}"


def test_required_tags_absent_tags_fail(dev_chain):
    function = resource(dev_chain, "compute", FUNCTION)
    props = props_of(function)
    del props["tags"]

    messages = assert_only_rule_fails("required-tags", function.type, props, function.name)

    for key in rules.REQUIRED_TAG_KEYS:
        assert key in messages[0], f"{function.name}: message does not name {key}: {messages[0]}"


def test_required_tags_unlisted_taggable_type_fails():
    # A type no stack uses yet is decided from pulumi_aws's input schema, so it is checked too.
    repository = "aws:ecr/repository:Repository"
    messages = assert_only_rule_fails("required-tags", repository, {"name": "tracking-images"}, "tracking-images")

    assert "Project" in messages[0], f"tracking-images: message does not name the missing tags: {messages[0]}"


def test_required_tags_untaggable_type_passes(dev_chain):
    method = resource(dev_chain, "edge", POST_METHOD)

    assert_no_rule_fails(method.type, props_of(method), method.name)


# API Gateway authorization ------------------------------------------------------------------------


@pytest.mark.parametrize("authorization", ["NONE", "CUSTOM", None])
def test_method_authorization_other_than_iam_fails(dev_chain, authorization):
    method = resource(dev_chain, "edge", POST_METHOD)
    props = props_of(method)
    props["authorization"] = authorization

    messages = assert_only_rule_fails("api-gateway-iam-auth", method.type, props, method.name)

    assert repr(authorization) in messages[0], f"{method.name}: message does not show the value: {messages[0]}"


def test_method_authorization_options_without_auth_passes(dev_chain):
    method = resource(dev_chain, "edge", POST_METHOD)
    props = props_of(method)
    props.update({"httpMethod": "OPTIONS", "authorization": "NONE"})

    assert_no_rule_fails(method.type, props, "api-options-track-method")


# Encryption and backups ---------------------------------------------------------------------------


@pytest.mark.parametrize("encryption", [{"enabled": False}, None])
def test_table_encryption_off_fails(dev_chain, encryption):
    table = resource(dev_chain, "foundation", TABLE)
    props = props_of(table)
    props["serverSideEncryption"] = encryption

    assert_only_rule_fails("dynamodb-encryption", table.type, props, table.name)


@pytest.mark.parametrize("recovery", [{"enabled": False}, None])
def test_table_point_in_time_recovery_off_fails(dev_chain, recovery):
    table = resource(dev_chain, "foundation", TABLE)
    props = props_of(table)
    props["pointInTimeRecovery"] = recovery

    assert_only_rule_fails("dynamodb-point-in-time-recovery", table.type, props, table.name)


def test_queue_encryption_off_fails(dev_chain):
    queue = resource(dev_chain, "foundation", QUEUE)
    props = props_of(queue)
    props["sqsManagedSseEnabled"] = False

    assert_only_rule_fails("sqs-encryption", queue.type, props, queue.name)


def test_queue_encryption_with_kms_key_passes(dev_chain):
    queue = resource(dev_chain, "foundation", QUEUE)
    props = props_of(queue)
    props.update({"sqsManagedSseEnabled": False, "kmsMasterKeyId": "alias/aws/sqs"})

    assert_no_rule_fails(queue.type, props, queue.name)


def test_topic_without_kms_key_fails(dev_chain):
    topic = resource(dev_chain, "observability", TOPIC)
    props = props_of(topic)
    del props["kmsMasterKeyId"]

    assert_only_rule_fails("sns-encryption", topic.type, props, topic.name)


def test_parameter_secret_as_plain_string_fails(dev_chain):
    parameter = resource(dev_chain, "foundation", PAGE_TOKEN_KEY)
    props = props_of(parameter)
    props["type"] = "String"

    messages = assert_only_rule_fails("ssm-secure-string", parameter.type, props, parameter.name)

    assert "'String'" in messages[0], f"{parameter.name}: message does not show the type: {messages[0]}"
    assert "offline-random" not in messages[0], f"{parameter.name}: message leaks the parameter's value"


@pytest.mark.parametrize("suffix", rules.SECRET_PARAMETER_SUFFIXES)
def test_parameter_auto_named_secret_as_plain_string_fails(dev_chain, suffix):
    # Without a name input the provider derives the name from the logical name, so that one counts.
    parameter = resource(dev_chain, "foundation", API_CONFIG)
    props = props_of(parameter)
    del props["name"]
    logical_name = f"carrier{suffix}"

    assert_only_rule_fails("ssm-secure-string", parameter.type, props, logical_name)


def test_parameter_plain_setting_as_string_passes(dev_chain):
    parameter = resource(dev_chain, "foundation", API_CONFIG)

    assert_no_rule_fails(parameter.type, props_of(parameter), parameter.name)


# IAM wildcards ------------------------------------------------------------------------------------


def broken_function_policy(dev_chain, change) -> tuple:
    """Return the function's inline policy with ``change(document)`` applied, as (type, props, name)."""
    policy = resource(dev_chain, "foundation", FUNCTION_POLICY)
    props = props_of(policy)
    document = policy_document(props)
    change(document)
    props["policy"] = json.dumps(document)
    return policy.type, props, policy.name


@pytest.mark.parametrize("action", ["dynamodb:*", "*", "DynamoDB:*"])
def test_iam_wildcard_action_fails(dev_chain, action):
    def change(document):
        statement(document, "TrackingTableItems")["Action"] = [action, "dynamodb:Query"]

    messages = assert_only_rule_fails("iam-no-wildcards", *broken_function_policy(dev_chain, change))

    assert any(action in message for message in messages), f"message does not name {action}: {messages}"


def test_iam_resource_wildcard_on_table_fails(dev_chain):
    def change(document):
        statement(document, "TrackingTableItems")["Resource"] = "*"

    messages = assert_only_rule_fails("iam-no-wildcards", *broken_function_policy(dev_chain, change))

    assert "TrackingTableItems" in messages[0], f"message does not name the statement: {messages}"
    assert "dynamodb:PutItem" in messages[0], f"message does not name the actions: {messages}"


def test_iam_resource_wildcard_mixed_into_tracing_statement_fails(dev_chain):
    def change(document):
        statement(document, "XRayTracing")["Action"].append("dynamodb:Scan")

    messages = assert_only_rule_fails("iam-no-wildcards", *broken_function_policy(dev_chain, change))

    # Only the added action is blamed, because the X-Ray actions may use "*".
    assert "allows dynamodb:Scan on the resource" in messages[0], f"message does not blame only the action: {messages}"


@pytest.mark.parametrize("element", ["NotAction", "NotResource"])
def test_iam_not_elements_fail(dev_chain, element):
    def change(document):
        target = statement(document, "PageTokenKeyParameter")
        key = "Action" if element == "NotAction" else "Resource"
        target[element] = target.pop(key)

    messages = assert_only_rule_fails("iam-no-wildcards", *broken_function_policy(dev_chain, change))

    assert any(element in message for message in messages), f"message does not name {element}: {messages}"


def test_iam_deny_with_wildcards_passes(dev_chain):
    def change(document):
        document["Statement"].append({"Sid": "DenyDeletes", "Effect": "Deny", "Action": "dynamodb:*", "Resource": "*"})

    assert_no_rule_fails(*broken_function_policy(dev_chain, change))


def test_iam_invalid_json_fails(dev_chain):
    policy = resource(dev_chain, "foundation", FUNCTION_POLICY)
    props = props_of(policy)
    props["policy"] = '{"Statement": ['

    messages = assert_only_rule_fails("iam-no-wildcards", policy.type, props, policy.name)

    assert "not valid JSON" in messages[0], f"{policy.name}: {messages}"


def test_iam_managed_policy_resource_wildcard_fails(dev_chain):
    policy = resource(dev_chain, "edge", CLIENT_POLICY)
    props = props_of(policy)
    document = policy_document(props)
    statement(document, "InvokeTrackingRoutes")["Resource"] = ["*"]
    props["policy"] = json.dumps(document)

    messages = assert_only_rule_fails("iam-no-wildcards", policy.type, props, policy.name)

    assert "execute-api:Invoke" in messages[0], f"{policy.name}: {messages}"


def test_iam_trust_policy_wildcard_action_fails(dev_chain):
    role = resource(dev_chain, "foundation", FUNCTION_ROLE)
    props = props_of(role)
    document = policy_document(props, "assumeRolePolicy")
    document["Statement"][0]["Action"] = ["sts:*"]
    props["assumeRolePolicy"] = json.dumps(document)

    messages = assert_only_rule_fails("iam-no-wildcards", role.type, props, role.name)

    assert "assumeRolePolicy" in messages[0], f"{role.name}: message does not name the document: {messages}"


def test_iam_role_inline_policy_wildcard_fails(dev_chain):
    role = resource(dev_chain, "foundation", FUNCTION_ROLE)
    props = props_of(role)
    inline = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    props["inlinePolicies"] = [{"name": "reports", "policy": json.dumps(inline)}]

    messages = assert_only_rule_fails("iam-no-wildcards", role.type, props, role.name)

    assert len(messages) == 2, f"{role.name}: expected the action and the resource reported, got {messages}"
    assert all("inline policy 'reports'" in message for message in messages), f"{role.name}: {messages}"


# Timeouts -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("timeout", [29, 30, 900])
def test_function_timeout_at_or_above_integration_timeout_fails(dev_chain, timeout):
    function = resource(dev_chain, "compute", FUNCTION)
    props = props_of(function)
    props["timeout"] = float(timeout)

    messages = assert_only_rule_fails("lambda-timeout-below-api-gateway", function.type, props, function.name)

    assert f"timeout {timeout} s" in messages[0], f"{function.name}: message does not show the timeout: {messages}"


@pytest.mark.parametrize("timeout", [28.0, None])
def test_function_timeout_below_integration_timeout_passes(dev_chain, timeout):
    # Without a timeout input Lambda uses 3 seconds.
    function = resource(dev_chain, "compute", FUNCTION)
    props = props_of(function)
    props["timeout"] = timeout

    assert_no_rule_fails(function.type, props, function.name)


def test_integration_timeout_above_limit_fails(dev_chain):
    integration = resource(dev_chain, "edge", GET_INTEGRATION)
    props = props_of(integration)
    props["timeoutMilliseconds"] = 30000.0

    assert_only_rule_fails("api-gateway-integration-timeout", integration.type, props, integration.name)


def test_integration_without_timeout_passes(dev_chain):
    integration = resource(dev_chain, "edge", GET_INTEGRATION)
    props = props_of(integration)
    del props["timeoutMilliseconds"]

    assert_no_rule_fails(integration.type, props, integration.name)


def all_layers_with(dev_chain, name: str, **changes) -> list:
    """Return every dev resource as a stack policy receives it, with ``changes`` applied to the outputs of ``name``."""
    resources = stack_view(*dev_chain.values())
    for index, candidate in enumerate(resources):
        if candidate.name == name:
            props = copy.deepcopy(dict(candidate.props))
            props.update(changes)
            resources[index] = candidate._replace(props=props)
    return resources


def test_stack_rule_function_timeout_at_limit_fails(dev_chain):
    resources = all_layers_with(dev_chain, FUNCTION, timeout=29.0)
    function_urn = dev_chain["compute"].named(FUNCTION).urn

    violations = rules.stack_violations(resources)

    assert {rule_name for rule_name, _ in violations} == {"lambda-timeout-below-integration"}, violations
    assert len(violations) == 2, f"expected one violation per integration, got {violations}"
    for _, violation in violations:
        assert violation.urn == function_urn, f"violation not attached to {FUNCTION}: {violation}"
        assert repr(FUNCTION) in violation.message, f"message does not name {FUNCTION}: {violation.message}"


def test_stack_rule_function_slower_than_short_integration_fails(dev_chain):
    # Each resource passes its own rules. Only the pair breaks the budget, and only a stack policy checks pairs.
    resources = all_layers_with(dev_chain, GET_INTEGRATION, timeoutMilliseconds=5000.0)
    integration = next(candidate for candidate in resources if candidate.name == GET_INTEGRATION)

    violations = rules.stack_violations(resources)

    assert failures(integration.type, dict(integration.props), integration.name) == {}, integration.name
    assert len(violations) == 1, f"expected one violation, got {violations}"
    message = violations[0][1].message
    assert repr(GET_INTEGRATION) in message, f"message does not name {GET_INTEGRATION}: {message}"
    assert "5000 ms" in message, f"message does not show the integration timeout: {message}"


# Property names -----------------------------------------------------------------------------------


def snake_case_keys(value, parent: str = ""):
    """Return ``value`` with schema property names in snake_case, leaving tag keys and other map keys alone."""
    if isinstance(value, dict) and parent not in ("tags", "variables"):
        return {rules.snake_case(key): snake_case_keys(item, key) for key, item in value.items()}
    if isinstance(value, list):
        return [snake_case_keys(item, parent) for item in value]
    return value


def test_rules_read_snake_case_props(dev_chain):
    table = resource(dev_chain, "foundation", TABLE)
    props = snake_case_keys(props_of(table))
    assert "point_in_time_recovery" in props, f"{table.name}: conversion left camelCase keys: {sorted(props)}"
    assert "CostCenter" in props["tags"], f"{table.name}: conversion renamed tag keys: {props['tags']}"

    assert_no_rule_fails(table.type, props, table.name)
    props["point_in_time_recovery"]["enabled"] = False
    assert_only_rule_fails("dynamodb-point-in-time-recovery", table.type, props, table.name)
