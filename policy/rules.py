"""The organization's rules for AWS resources, as plain functions that the policy pack and the tests share.

A resource rule takes ``(type_token, props, name)``: the Pulumi type token, the resource's input
properties and its logical name. It returns one message per violation, each naming the resource
and the fix, and an empty list for a compliant resource or a type the rule does not check. A stack
rule takes a list of ``StackResource`` (with the resources' outputs as props, as the engine sends
them to stack policies) and returns ``StackViolation``s, each with the URN of the resource to fix.

Property names: pulumi_policy 1.21.0 passes the properties on exactly as the engine sends them
(``deserialize_properties(json_format.MessageToDict(request.properties))`` renames nothing), so the
properties of pulumi-aws resources arrive in camelCase (``pointInTimeRecovery``). Every rule reads
properties through ``lookup``, which takes the camelCase name and also accepts the snake_case
spelling, so a policy SDK that renamed keys would need no change here. Keys inside a map property
(tag keys, environment variables) are never renamed.

In the engine, ``props`` is pulumi_policy's proxy, and reading a value that is unknown during preview
raises its ``UnknownValueError``. pulumi_policy then reports an advisory "can't run policy during
preview" diagnostic in place of a result, so an unknown value never passes as compliant.

This module needs only the standard library. ``accepts_tags`` imports pulumi_aws, and only for an
AWS type outside ``TAGGABLE_TYPES``.
"""

import functools
import importlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Callable, List, NamedTuple, Optional, Tuple

# Every taggable resource carries these tags, so cost and ownership reports can group by them.
REQUIRED_TAG_KEYS = ("Project", "Environment", "Layer", "Owner", "CostCenter", "ManagedBy")

# API Gateway ends a REST API integration call after 29 seconds, its default maximum integration timeout.
API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS = 29
API_GATEWAY_INTEGRATION_TIMEOUT_MS = API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS * 1000
# Lambda's timeout when a function sets none, in seconds.
LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3

IAM_AUTHORIZATION = "AWS_IAM"
# CORS preflight requests carry no SigV4 signature, so an OPTIONS method cannot require IAM auth.
UNSIGNED_HTTP_METHODS = frozenset({"OPTIONS"})

# A parameter whose name ends like this contains a secret and must be a SecureString.
SECRET_PARAMETER_SUFFIXES = ("-key", "-token", "-secret", "-password")
SECURE_STRING = "SecureString"

# X-Ray has no resource-level permissions for these actions, so AWS accepts only the resource "*".
RESOURCE_WILDCARD_ACTIONS = frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords"})

TABLE = "aws:dynamodb/table:Table"
QUEUE = "aws:sqs/queue:Queue"
TOPIC = "aws:sns/topic:Topic"
PARAMETER = "aws:ssm/parameter:Parameter"
METHOD = "aws:apigateway/method:Method"
INTEGRATION = "aws:apigateway/integration:Integration"
FUNCTION = "aws:lambda/function:Function"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"

# Types of the four stacks that accept a `tags` input in pulumi-aws 7.51.1. The tests check each
# entry against pulumi_aws and check that every taggable type the stacks declare is listed, so the
# list can neither hold a wrong entry nor lose one that a stack uses. Other AWS types are decided by
# ``accepts_tags``.
TAGGABLE_TYPES = frozenset(
    {
        "aws:apigateway/restApi:RestApi",
        "aws:apigateway/stage:Stage",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "aws:dynamodb/table:Table",
        "aws:iam/policy:Policy",
        "aws:iam/role:Role",
        "aws:kms/key:Key",
        "aws:lambda/function:Function",
        "aws:sns/topic:Topic",
        "aws:sqs/queue:Queue",
        "aws:ssm/parameter:Parameter",
    }
)

# IAM policy documents of each type, by property name. A role's inline policies are read separately.
_POLICY_DOCUMENT_PROPERTIES = {
    ROLE: ("assumeRolePolicy",),
    ROLE_POLICY: ("policy",),
    MANAGED_POLICY: ("policy",),
    USER_POLICY: ("policy",),
    GROUP_POLICY: ("policy",),
}

_CAPITAL = re.compile(r"(?<!^)(?=[A-Z])")
# The function ARN inside an API Gateway Lambda integration URI:
# arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations
_FUNCTION_IN_URI = re.compile(r"/functions/(arn:[^/]+)/invocations$")


class StackResource(NamedTuple):
    """One resource as a stack rule receives it, with the resource's outputs as ``props``."""

    type: str
    name: str
    props: Mapping
    urn: str = ""


class StackViolation(NamedTuple):
    message: str
    urn: str


class ResourceRule(NamedTuple):
    name: str
    description: str
    check: Callable[[str, Mapping, str], List[str]]


class StackRule(NamedTuple):
    name: str
    description: str
    check: Callable[[List[StackResource]], List[StackViolation]]


def snake_case(name: str) -> str:
    """Return the snake_case spelling of a camelCase property name (``kmsMasterKeyId`` -> ``kms_master_key_id``)."""
    return _CAPITAL.sub("_", name).lower()


def lookup(props: Any, *path: str, default: Any = None) -> Any:
    """Return the property at ``path`` (camelCase names, outermost first), or ``default`` when it is absent or null.

    Each name is tried as given and then in snake_case, the one place where the rules handle both spellings.
    """
    value = props
    for key in path:
        if not isinstance(value, Mapping):
            return default
        if key in value:
            value = value[key]
        elif snake_case(key) in value:
            value = value[snake_case(key)]
        else:
            return default
    return default if value is None else value


def _strings(value: Any) -> List[str]:
    """Return a string or a sequence of strings as a list, because IAM allows either form for Action and Resource."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return [str(item) for item in value]
    return [str(value)]


def _subject(type_token: str, name: str) -> str:
    return f"{type_token} {name!r}"


def _seconds(value: float) -> str:
    return f"{value:g}"


@functools.cache
def accepts_tags(type_token: str) -> bool:
    """Return whether pulumi_aws's arguments class for a resource type has a ``tags`` input.

    The type token is resolved through the resource modules that pulumi_aws registers with the
    Pulumi SDK, the table the SDK uses to turn resource references back into resources. A token
    that pulumi_aws does not know (a type newer than the installed pulumi-aws) counts as not taggable.
    NOTE: ``mod_info`` is an attribute of pulumi_aws's generated module class, not a documented API.
    If a pulumi-aws upgrade drops it, every type outside TAGGABLE_TYPES counts as not taggable, and
    the tests of TAGGABLE_TYPES against pulumi_aws fail.
    """
    import pulumi_aws  # noqa: F401 - importing it registers every resource module of the provider
    from pulumi.runtime.rpc import get_resource_module

    package, module_name, _ = type_token.split(":", 2)
    module = get_resource_module(package, module_name, "")
    module_info = getattr(module, "mod_info", None) or {}
    class_name = module_info.get("classes", {}).get(type_token)
    if class_name is None:
        return False
    arguments_class = getattr(importlib.import_module(module_info["fqn"]), f"{class_name}Args", None)
    return isinstance(getattr(arguments_class, "tags", None), property)


def is_taggable(type_token: str) -> bool:
    """Return whether a resource type accepts a ``tags`` input."""
    if type_token in TAGGABLE_TYPES:
        return True
    return type_token.startswith("aws:") and type_token.count(":") == 2 and accepts_tags(type_token)


# Resource rules ----------------------------------------------------------------------------------


def check_required_tags(type_token: str, props: Mapping, name: str) -> List[str]:
    """Require every key of ``REQUIRED_TAG_KEYS`` with a non-empty value on a taggable resource.

    Only the resource's own ``tags`` count. The provider's default tags are not merged in, so
    every taggable resource states its tags, whichever provider it is created with.
    """
    if not is_taggable(type_token):
        return []
    tags = lookup(props, "tags", default={})
    present = set()
    if isinstance(tags, Mapping):
        present = {key for key in tags if isinstance(tags[key], str) and tags[key].strip()}
    missing = [key for key in REQUIRED_TAG_KEYS if key not in present]
    if not missing:
        return []
    return [
        f"{_subject(type_token, name)} is missing the required tags {', '.join(missing)} (or their values are "
        f"empty). Fix: pass tags with all of {', '.join(REQUIRED_TAG_KEYS)}, as shared.tags.standard_tags returns them."
    ]


def check_method_authorization(type_token: str, props: Mapping, name: str) -> List[str]:
    """Require AWS_IAM authorization on every API Gateway method except OPTIONS."""
    if type_token != METHOD:
        return []
    http_method = str(lookup(props, "httpMethod", default="")).upper()
    if http_method in UNSIGNED_HTTP_METHODS:
        return []
    authorization = lookup(props, "authorization")
    if authorization == IAM_AUTHORIZATION:
        return []
    return [
        f"{_subject(type_token, name)} ({http_method or 'no HTTP method'}) has authorization {authorization!r}, "
        f"so callers need no SigV4 signature. Fix: set authorization={IAM_AUTHORIZATION!r}."
    ]


def check_table_encryption(type_token: str, props: Mapping, name: str) -> List[str]:
    """Require server-side encryption with a KMS key the account can see (AWS-managed or customer-managed)."""
    if type_token != TABLE or lookup(props, "serverSideEncryption", "enabled") is True:
        return []
    return [
        f"{_subject(type_token, name)} does not enable server-side encryption, so DynamoDB uses an AWS-owned key "
        "that the account can neither see nor audit. Fix: server_side_encryption=TableServerSideEncryptionArgs"
        "(enabled=True), optionally with kms_key_arn."
    ]


def check_table_point_in_time_recovery(type_token: str, props: Mapping, name: str) -> List[str]:
    """Require point-in-time recovery on every DynamoDB table."""
    if type_token != TABLE or lookup(props, "pointInTimeRecovery", "enabled") is True:
        return []
    return [
        f"{_subject(type_token, name)} has point-in-time recovery off, so a bad write or delete cannot be rolled "
        "back. Fix: point_in_time_recovery=TablePointInTimeRecoveryArgs(enabled=True)."
    ]


def check_queue_encryption(type_token: str, props: Mapping, name: str) -> List[str]:
    """Require SQS-managed encryption or a KMS key on every queue."""
    if type_token != QUEUE:
        return []
    if lookup(props, "sqsManagedSseEnabled") is True or lookup(props, "kmsMasterKeyId"):
        return []
    return [
        f"{_subject(type_token, name)} is not encrypted at rest. "
        "Fix: set sqs_managed_sse_enabled=True, or kms_master_key_id to a KMS key."
    ]


def check_topic_encryption(type_token: str, props: Mapping, name: str) -> List[str]:
    """Require a KMS key on every SNS topic."""
    if type_token != TOPIC or lookup(props, "kmsMasterKeyId"):
        return []
    return [
        f"{_subject(type_token, name)} has no kms_master_key_id, so its messages are stored unencrypted. "
        "Fix: set kms_master_key_id to a KMS key whose policy lets the publishers (CloudWatch for alarms) use it."
    ]


def check_parameter_type(type_token: str, props: Mapping, name: str) -> List[str]:
    """Require the SecureString type on a parameter whose name marks it as a secret.

    Both the parameter name and the logical name are checked, so an auto-named parameter is covered too.
    """
    if type_token != PARAMETER:
        return []
    names = [str(candidate) for candidate in (lookup(props, "name"), name) if candidate]
    secret_names = [candidate for candidate in names if candidate.lower().endswith(SECRET_PARAMETER_SUFFIXES)]
    parameter_type = lookup(props, "type")
    if not secret_names or parameter_type == SECURE_STRING:
        return []
    return [
        f"{_subject(type_token, name)} is named {secret_names[0]!r}, a secret by its suffix "
        f"({', '.join(SECRET_PARAMETER_SUFFIXES)}), but has type {parameter_type!r}, which stores the value in plain "
        f"text. Fix: type={SECURE_STRING!r}."
    ]


def check_iam_wildcards(type_token: str, props: Mapping, name: str) -> List[str]:
    """Forbid wildcard actions, the resource "*" outside X-Ray, NotAction and NotResource in IAM policies.

    Checked documents: inline role, user and group policies, managed policies, and a role's trust
    policy and inline policies. Wildcards are checked in Allow statements only, because a Deny
    statement with a wildcard narrows access. NotAction and NotResource are rejected in every statement.
    """
    problems = []
    for location, document in _policy_documents(type_token, props):
        for problem in _document_problems(document):
            problems.append(f"{_subject(type_token, name)}, {location}: {problem}")
    return problems


def check_function_timeout(type_token: str, props: Mapping, name: str) -> List[str]:
    """Require a Lambda timeout below API Gateway's integration timeout."""
    if type_token != FUNCTION:
        return []
    timeout = lookup(props, "timeout", default=LAMBDA_DEFAULT_TIMEOUT_SECONDS)
    if timeout < API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS:
        return []
    return [
        f"{_subject(type_token, name)} has timeout {_seconds(timeout)} s, but API Gateway ends the integration call "
        f"after {API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS} s, so the caller gets a 504 while the function still runs. "
        f"Fix: set timeout to at most {API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS - 1} seconds."
    ]


def check_integration_timeout(type_token: str, props: Mapping, name: str) -> List[str]:
    """Require an integration timeout, when set, within API Gateway's limit."""
    if type_token != INTEGRATION:
        return []
    timeout_ms = lookup(props, "timeoutMilliseconds")
    if timeout_ms is None or timeout_ms <= API_GATEWAY_INTEGRATION_TIMEOUT_MS:
        return []
    return [
        f"{_subject(type_token, name)} has timeout_milliseconds {_seconds(timeout_ms)}, above API Gateway's "
        f"{API_GATEWAY_INTEGRATION_TIMEOUT_MS} ms. Fix: set timeout_milliseconds to at most "
        f"{API_GATEWAY_INTEGRATION_TIMEOUT_MS}."
    ]


def _policy_documents(type_token: str, props: Mapping) -> List[Tuple[str, Any]]:
    documents = []
    for property_name in _POLICY_DOCUMENT_PROPERTIES.get(type_token, ()):
        document = lookup(props, property_name)
        if document is not None:
            documents.append((property_name, document))
    if type_token == ROLE:
        inline_policies = lookup(props, "inlinePolicies", default=[])
        for index, inline in enumerate(inline_policies if isinstance(inline_policies, Sequence) else []):
            document = lookup(inline, "policy")
            if document is not None:
                label = lookup(inline, "name", default=str(index))
                documents.append((f"inline policy {label!r}", document))
    return documents


def _document_problems(document: Any) -> List[str]:
    if isinstance(document, str):
        if not document.strip():
            return []
        try:
            document = json.loads(document)
        except ValueError as exc:
            return [f"the policy is not valid JSON ({exc}). Fix: build it with aws.iam.get_policy_document_output."]
    if not isinstance(document, Mapping):
        return [f"the policy is a {type(document).__name__}, not a JSON object."]
    statements = document.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    problems = []
    for index, statement in enumerate(statements):
        if isinstance(statement, Mapping):
            problems.extend(_statement_problems(statement, index))
    return problems


def _is_wildcard_action(action: str) -> bool:
    return action == "*" or action.split(":", 1)[-1] == "*"


def _statement_problems(statement: Mapping, index: int) -> List[str]:
    label = f"statement {statement['Sid']!r}" if statement.get("Sid") else f"statement #{index}"
    problems = []
    for element in ("NotAction", "NotResource"):
        if element in statement:
            listed = element[len("Not") :]
            problems.append(
                f"{label} uses {element}, which applies to everything it does not list. "
                f"Fix: list the exact {listed.lower()}s in {listed}."
            )
    # IAM requires Effect, so a statement without one is invalid. It is checked as Allow, the unsafe reading.
    if statement.get("Effect", "Allow") != "Allow":
        return problems

    actions = _strings(statement.get("Action"))
    wildcards = [action for action in actions if _is_wildcard_action(action)]
    if wildcards:
        problems.append(
            f"{label} allows the wildcard action(s) {', '.join(wildcards)}. Fix: list the exact actions the code calls."
        )
    if "*" in _strings(statement.get("Resource")):
        allowed = {action.lower() for action in RESOURCE_WILDCARD_ACTIONS}
        others = [action for action in actions if action.lower() not in allowed]
        if others:
            problems.append(
                f'{label} allows {", ".join(others)} on the resource "*". Fix: name the exact resource ARNs; '
                f'only {" and ".join(sorted(RESOURCE_WILDCARD_ACTIONS))} may use "*".'
            )
    return problems


# Stack rules -------------------------------------------------------------------------------------


def _invoked_function(uri: str, functions: List[StackResource]) -> Optional[StackResource]:
    match = _FUNCTION_IN_URI.search(uri)
    for function in functions:
        if lookup(function.props, "invokeArn") == uri:
            return function
        arn = lookup(function.props, "arn")
        # A qualified ARN (alias or version) ends in ":<qualifier>" after the function's ARN.
        if match and arn and (match.group(1) == arn or match.group(1).startswith(f"{arn}:")):
            return function
    return None


def check_function_timeouts_against_integrations(resources: List[StackResource]) -> List[StackViolation]:
    """Require each function's timeout below the timeout of every API Gateway integration that invokes it.

    This needs the function and the integration in one stack. When they are in separate stacks (compute
    and edge here), the resource rules still hold each one to API Gateway's 29 s.
    """
    functions = [resource for resource in resources if resource.type == FUNCTION]
    violations = []
    for integration in resources:
        if integration.type != INTEGRATION:
            continue
        uri = lookup(integration.props, "uri")
        function = _invoked_function(uri, functions) if isinstance(uri, str) else None
        if function is None:
            continue
        integration_ms = lookup(integration.props, "timeoutMilliseconds", default=API_GATEWAY_INTEGRATION_TIMEOUT_MS)
        limit_ms = min(integration_ms, API_GATEWAY_INTEGRATION_TIMEOUT_MS)
        timeout = lookup(function.props, "timeout", default=LAMBDA_DEFAULT_TIMEOUT_SECONDS)
        if timeout * 1000 < limit_ms:
            continue
        message = (
            f"{_subject(function.type, function.name)} has timeout {_seconds(timeout)} s, but "
            f"{_subject(integration.type, integration.name)} that invokes it ends the call after "
            f"{_seconds(limit_ms)} ms. Fix: set the function's timeout below {_seconds(limit_ms / 1000)} s, "
            "or raise the integration's timeout_milliseconds."
        )
        violations.append(StackViolation(message, function.urn))
    return violations


RESOURCE_RULES = (
    ResourceRule(
        "required-tags",
        f"Every taggable AWS resource carries the tags {', '.join(REQUIRED_TAG_KEYS)}.",
        check_required_tags,
    ),
    ResourceRule(
        "api-gateway-iam-auth",
        "Every API Gateway method except OPTIONS requires AWS_IAM (SigV4) authorization.",
        check_method_authorization,
    ),
    ResourceRule(
        "dynamodb-encryption",
        "DynamoDB tables enable server-side encryption with a KMS key the account can audit.",
        check_table_encryption,
    ),
    ResourceRule(
        "dynamodb-point-in-time-recovery",
        "DynamoDB tables have point-in-time recovery enabled.",
        check_table_point_in_time_recovery,
    ),
    ResourceRule(
        "sqs-encryption",
        "SQS queues are encrypted with SQS-managed keys or a KMS key.",
        check_queue_encryption,
    ),
    ResourceRule(
        "sns-encryption",
        "SNS topics are encrypted with a KMS key.",
        check_topic_encryption,
    ),
    ResourceRule(
        "ssm-secure-string",
        f"SSM parameters named like secrets ({', '.join(SECRET_PARAMETER_SUFFIXES)}) are SecureString.",
        check_parameter_type,
    ),
    ResourceRule(
        "iam-no-wildcards",
        'IAM policies use no wildcard actions, no resource "*" outside X-Ray, no NotAction and no NotResource.',
        check_iam_wildcards,
    ),
    ResourceRule(
        "lambda-timeout-below-api-gateway",
        f"Lambda functions time out before API Gateway's {API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS} s integration "
        "timeout.",
        check_function_timeout,
    ),
    ResourceRule(
        "api-gateway-integration-timeout",
        f"API Gateway integrations set timeout_milliseconds to at most {API_GATEWAY_INTEGRATION_TIMEOUT_MS}.",
        check_integration_timeout,
    ),
)

STACK_RULES = (
    StackRule(
        "lambda-timeout-below-integration",
        "Each Lambda function times out before the API Gateway integrations that invoke it.",
        check_function_timeouts_against_integrations,
    ),
)


def resource_violations(type_token: str, props: Mapping, name: str) -> List[Tuple[str, str]]:
    """Run every resource rule and return ``(rule name, message)`` for each violation."""
    return [(rule.name, message) for rule in RESOURCE_RULES for message in rule.check(type_token, props, name)]


def stack_violations(resources: List[StackResource]) -> List[Tuple[str, StackViolation]]:
    """Run every stack rule and return ``(rule name, violation)`` for each violation."""
    return [(rule.name, violation) for rule in STACK_RULES for violation in rule.check(resources)]
