"""The policy pack as the engine runs it: the policies __main__.py builds, their callbacks, and the gRPC server.

``PolicyPack(...)`` starts the analyzer's gRPC server and blocks until it is stopped, so it cannot be
built in the test process. The tests instead load __main__.py under another name, which builds
``POLICIES`` and starts nothing, and call the callbacks with pulumi_policy's argument objects built by
hand. They also run the whole pack in a subprocess that serves on 127.0.0.1 and call it as the engine does.
"""

import re
import runpy
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import serialize_properties
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from policy import rules
from shared import settings, tags
from tests.policy.helpers import engine_props, props_of

REPO_ROOT = Path(__file__).resolve().parents[2]
POLICY_DIR = REPO_ROOT / "policy"
PACK_START_TIMEOUT_SECONDS = 60
RPC_TIMEOUT_SECONDS = 30

RULE_NAMES = [rule.name for rule in rules.RESOURCE_RULES] + [rule.name for rule in rules.STACK_RULES]


@pytest.fixture(scope="module")
def policies() -> dict:
    """Return the policies __main__.py builds, keyed by name, loaded without starting the pack."""
    path_before = list(sys.path)
    try:
        namespace = runpy.run_path(str(POLICY_DIR / "__main__.py"), run_name="policy_pack_under_test")
    finally:
        sys.path[:] = path_before
    return {policy.name: policy for policy in namespace["POLICIES"]}


def options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def validate_resource(policy, type_token: str, props: dict, name: str) -> list:
    """Call a resource policy as the engine does and return the ``(message, urn)`` pairs it reports."""
    reported = []
    urn = f"urn:pulumi:dev::policy-test::{type_token}::{name}"
    args = ResourceValidationArgs(type_token, unknown_checking_proxy(props), urn, name, options(), None)
    policy.validate(args, lambda message, urn=None: reported.append((message, urn)))
    return reported


def test_policy_pack_builds_one_policy_per_rule(policies):
    assert sorted(policies) == sorted(RULE_NAMES), f"policies {sorted(policies)} do not match rules {RULE_NAMES}"


def test_policy_pack_policies_are_mandatory(policies):
    for name, policy in policies.items():
        assert policy.enforcement_level == EnforcementLevel.MANDATORY, f"{name} is {policy.enforcement_level}"


def test_policy_pack_policy_kinds(policies):
    for rule in rules.RESOURCE_RULES:
        assert isinstance(policies[rule.name], ResourceValidationPolicy), f"{rule.name} is not a resource policy"
    for rule in rules.STACK_RULES:
        assert isinstance(policies[rule.name], StackValidationPolicy), f"{rule.name} is not a stack policy"


def test_resource_policy_reports_violation(policies, dev_chain):
    table = dev_chain["foundation"].named("updates")
    props = props_of(table)
    props["pointInTimeRecovery"] = {"enabled": False}

    reported = validate_resource(policies["dynamodb-point-in-time-recovery"], table.type, props, table.name)

    assert len(reported) == 1, f"{table.name}: expected one violation, got {reported}"
    assert "'updates'" in reported[0][0], f"{table.name}: message does not name the resource: {reported}"


def test_resource_policies_pass_compliant_resources(policies, dev_chain):
    for run in dev_chain.values():
        for resource in run.resources:
            for name, policy in policies.items():
                if isinstance(policy, ResourceValidationPolicy):
                    reported = validate_resource(policy, resource.type, props_of(resource), resource.name)
                    assert reported == [], f"{name} on {resource.name}: {reported}"


def test_resource_policy_unknown_value_is_not_compliant(policies, dev_chain):
    # During preview the engine turns this error into "can't run policy during preview".
    method = dev_chain["edge"].named("api-post-track-method")
    props = props_of(method)
    props["authorization"] = UNKNOWN_STRING_VALUE

    with pytest.raises(UnknownValueError):
        validate_resource(policies["api-gateway-iam-auth"], method.type, props, method.name)


def test_stack_policy_reports_violation_on_function_urn(policies, dev_chain):
    resources = []
    for run in dev_chain.values():
        for resource in run.resources:
            props = engine_props(resource.state)
            if resource.name == "api-function":
                props["timeout"] = 29.0
            proxied = unknown_checking_proxy(props)
            resources.append(
                PolicyResource(resource.type, proxied, resource.urn, resource.name, options(), None, None, [], {})
            )
    reported = []

    policies["lambda-timeout-below-integration"].validate(
        StackValidationArgs(resources), lambda message, urn=None: reported.append((message, urn))
    )

    function_urn = dev_chain["compute"].named("api-function").urn
    assert len(reported) == 2, f"expected one violation per integration, got {reported}"
    assert {urn for _, urn in reported} == {function_urn}, f"violations not attached to api-function: {reported}"


# The pack served over gRPC ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def analyzer():
    """Start the policy pack through pulumi.policy's entry point and return a gRPC stub connected to it.

    ``pulumi.policy`` runs the pack's folder with ``run_name="__main__"``, so ``PolicyPack`` starts its
    server on 127.0.0.1 and prints the port. The first argument (the engine's address) is only parsed.
    """
    command = [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(POLICY_DIR)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603
    channel = None
    try:
        port = process.stdout.readline().strip()
        if not port.isdigit():
            process.kill()
            _, errors = process.communicate(timeout=PACK_START_TIMEOUT_SECONDS)
            pytest.fail(f"the policy pack printed {port!r} instead of its port. stderr:\n{errors}")
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=PACK_START_TIMEOUT_SECONDS)
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        if channel is not None:
            channel.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()


def struct(props: dict) -> struct_pb2.Struct:
    """Return recorded properties in the engine's wire form: assets and secrets as signature objects."""
    message = struct_pb2.Struct()
    json_format.ParseDict(serialize_properties(props), message)
    return message


def analyze(analyzer, resource, inputs: dict) -> list:
    request = analyzer_pb2.AnalyzeRequest(
        type=resource.type, properties=struct(inputs), urn=resource.urn, name=resource.name
    )
    return list(analyzer.Analyze(request, timeout=RPC_TIMEOUT_SECONDS).diagnostics)


def test_policy_pack_serves_every_policy_as_mandatory(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=RPC_TIMEOUT_SECONDS)

    served = {policy.name: policy.enforcementLevel for policy in info.policies}

    assert info.name == "logistics-tracking-rules", f"unexpected pack name {info.name}"
    assert sorted(served) == sorted(RULE_NAMES), f"served {sorted(served)}, expected {RULE_NAMES}"
    for name, level in served.items():
        assert level == analyzer_pb2.MANDATORY, f"{name} is served with enforcement level {level}"


def test_policy_pack_passes_every_stack_resource(analyzer, dev_chain):
    for run in dev_chain.values():
        for resource in run.resources:
            # The raw recorded inputs: camelCase keys and wire-form secrets, exactly what the engine sends.
            diagnostics = analyze(analyzer, resource, resource.inputs)

            assert diagnostics == [], f"{resource.name}: {[d.message for d in diagnostics]}"


def test_policy_pack_reports_broken_resource(analyzer, dev_chain):
    table = dev_chain["foundation"].named("updates")
    inputs = dict(table.inputs, pointInTimeRecovery={"enabled": False})

    diagnostics = analyze(analyzer, table, inputs)

    assert [d.policyName for d in diagnostics] == ["dynamodb-point-in-time-recovery"], diagnostics
    assert diagnostics[0].enforcementLevel == analyzer_pb2.MANDATORY, diagnostics
    assert "'updates'" in diagnostics[0].message, diagnostics


def test_policy_pack_stack_analysis_blames_function(analyzer, dev_chain):
    function_urn = dev_chain["compute"].named("api-function").urn
    resources = []
    for run in dev_chain.values():
        for resource in run.resources:
            outputs = dict(resource.state, timeout=29.0) if resource.urn == function_urn else resource.state
            resources.append(
                analyzer_pb2.AnalyzerResource(
                    type=resource.type, properties=struct(outputs), urn=resource.urn, name=resource.name
                )
            )

    response = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources), timeout=RPC_TIMEOUT_SECONDS)

    blamed = {(d.policyName, d.urn) for d in response.diagnostics}
    assert blamed == {("lambda-timeout-below-integration", function_urn)}, response.diagnostics


# The pack's files ---------------------------------------------------------------------------------


def pins(path: Path) -> dict:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line.strip())
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def test_policy_requirements_pin_root_versions():
    pack, root = pins(POLICY_DIR / "requirements.txt"), pins(REPO_ROOT / "requirements.txt")

    for package in ("pulumi-policy", "pulumi-aws"):
        assert package in pack, f"policy/requirements.txt does not pin {package}"
    for package, version in pack.items():
        assert root.get(package) == version, f"policy pins {package}=={version}, the root {root.get(package)}"


def test_policy_project_file_runs_python_in_repository_venv():
    project = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text(encoding="utf-8"))

    assert project["runtime"]["name"] == "python", project
    virtualenv = (POLICY_DIR / project["runtime"]["options"]["virtualenv"]).resolve()
    assert virtualenv == (REPO_ROOT / ".venv").resolve(), f"the pack runs in {virtualenv}"


def test_rules_import_without_policy_engine():
    # None in sys.modules makes any import of that package fail.
    script = (
        "import sys\n"
        "for blocked in ('pulumi', 'pulumi_policy', 'pulumi_aws', 'grpc'):\n"
        "    sys.modules[blocked] = None\n"
        "from policy import rules\n"
        "print(rules.check_table_point_in_time_recovery(rules.TABLE, {'tags': {}}, 'updates'))\n"
    )

    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False
    )

    assert done.returncode == 0, done.stderr
    assert "'updates'" in done.stdout, done.stdout


def test_rule_constants_match_shared():
    # The pack states the organization's rules on its own, so a change in shared/ cannot relax them silently.
    assert rules.REQUIRED_TAG_KEYS == tags.TAG_KEYS, "shared.tags.TAG_KEYS and the required tags differ"
    standard = tags.standard_tags({"environment": "dev", "owner": "team", "costCenter": "logistics"}, "edge")
    assert sorted(standard) == sorted(rules.REQUIRED_TAG_KEYS), f"standard_tags gives {sorted(standard)}"
    assert rules.API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS == settings.API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS
