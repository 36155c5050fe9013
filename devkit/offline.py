"""Run a stack's real Pulumi program under the SDK's mock engine, with no CLI and no cloud.

The tests, ``invoke preview --offline`` and the benchmarks use this to see every
resource a program declares, with the inputs it would send to AWS, and its exports.
Mocked resources return their inputs plus the computed attributes that the
programs read (ARNs, URLs, ids), shaped like the real provider's.
"""

import json
import runpy
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.sync_await import _sync_await

from shared import definitions, naming
from shared.settings import NAMESPACE, config_for_layer

REPO_ROOT = Path(__file__).resolve().parent.parent
STACKS_DIR = REPO_ROOT / "stacks"

ACCOUNT_ID = "123456789012"
REGION = naming.REGION


@dataclass
class MockResource:
    type: str
    name: str
    inputs: dict
    state: dict
    provider: Optional[str] = None
    urn: Optional[str] = None
    parent: Optional[str] = None
    # URNs of the resources this one waits for (``depends_on`` and input dependencies).
    dependencies: list = field(default_factory=list)
    options: dict = field(default_factory=dict)


@dataclass
class ProgramRun:
    layer: str
    environment: str
    resources: list = field(default_factory=list)
    outputs: dict = field(default_factory=dict)
    calls: list = field(default_factory=list)

    def of_type(self, type_token: str) -> list:
        """Return the resources of one type, such as ``aws:dynamodb/table:Table``."""
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str) -> MockResource:
        found = self.of_type(type_token)
        if len(found) != 1:
            raise AssertionError(f"expected one {type_token}, found {[r.name for r in found]}")
        return found[0]

    def by_urn(self, urn: str) -> MockResource:
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise AssertionError(f"no resource with URN {urn}")

    def depends_on(self, resource: MockResource, other: MockResource) -> bool:
        """Return whether ``resource`` waits for ``other``, directly or through other resources."""
        seen, pending = set(), list(resource.dependencies)
        while pending:
            urn = pending.pop()
            if urn == other.urn:
                return True
            if urn in seen:
                continue
            seen.add(urn)
            pending.extend(next((r.dependencies for r in self.resources if r.urn == urn), []))
        return False

    def named(self, name: str) -> MockResource:
        for resource in self.resources:
            if resource.name == name:
                return resource
        raise AssertionError(f"no resource named {name!r}; have {[r.name for r in self.resources]}")


def _statement_json(statement: dict) -> dict:
    """Turn one ``get_policy_document`` statement (camelCase inputs) into IAM JSON."""
    document: dict[str, Any] = {"Effect": statement.get("effect", "Allow")}
    if statement.get("sid"):
        document["Sid"] = statement["sid"]
    for source, target in (("actions", "Action"), ("notActions", "NotAction"),
                           ("resources", "Resource"), ("notResources", "NotResource")):
        if statement.get(source):
            document[target] = statement[source]
    for principal_key, target in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
        if statement.get(principal_key):
            merged: dict = {}
            for principal in statement[principal_key]:
                merged.setdefault(principal["type"], []).extend(principal["identifiers"])
            document[target] = merged
    if statement.get("conditions"):
        conditions: dict = {}
        for condition in statement["conditions"]:
            conditions.setdefault(condition["test"], {})[condition["variable"]] = condition["values"]
        document["Condition"] = conditions
    return document


class RecordingMocks(pulumi_mocks.Mocks):
    """Mocks that record every resource and invoke and fabricate provider-shaped attributes."""

    def __init__(self, run: ProgramRun, upstream: dict, parameters: dict):
        self.run = run
        self.upstream = upstream
        self.parameters = parameters

    def call(self, args: pulumi_mocks.MockCallArgs):
        self.run.calls.append((args.token, dict(args.args)))
        token = args.token
        if token == "aws:iam/getPolicyDocument:getPolicyDocument":
            statements = [_statement_json(s) for s in args.args.get("statements", [])]
            document = {"Version": "2012-10-17", "Statement": statements}
            return {"json": json.dumps(document, indent=2), "minifiedJson": json.dumps(document)}, []
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            arn = f"arn:aws:iam::{ACCOUNT_ID}:user/offline"
            return {"accountId": ACCOUNT_ID, "arn": arn, "userId": "OFFLINE", "id": ACCOUNT_ID}, []
        if token == "aws:index/getRegion:getRegion":
            return {"name": REGION, "region": REGION, "id": REGION, "endpoint": f"ec2.{REGION}.amazonaws.com"}, []
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        if token == "aws:ssm/getParameter:getParameter":
            name = args.args["name"]
            if name not in self.parameters:
                raise KeyError(f"no mocked parameter {name}")
            return {"name": name, "value": self.parameters[name], "insecureValue": self.parameters[name],
                    "type": "String", "arn": _ssm_arn(name), "version": 1, "id": name}, []
        return {}, []

    def new_resource(self, args: pulumi_mocks.MockResourceArgs):
        if args.typ == "pulumi:pulumi:StackReference":
            stack = args.resource_id or args.name
            if stack not in self.upstream:
                raise KeyError(f"stack {stack} has no recorded outputs; have {sorted(self.upstream)}")
            return stack, {"name": stack, "outputs": self.upstream[stack]}
        state = dict(args.inputs)
        state.update(_computed(args.typ, args.name, args.inputs))
        resource_id = state.pop("__id", f"{args.name}-id")
        self.run.resources.append(MockResource(args.typ, args.name, dict(args.inputs), state, args.provider))
        return resource_id, state


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """Mock monitor that also records each resource's URN, parent, dependencies and options."""

    def __init__(self, mocks: RecordingMocks):
        super().__init__(mocks)
        self.run = mocks.run
        self._lock = threading.Lock()

    def RegisterResource(self, request):  # noqa: N802 - the gRPC method name
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        with self._lock:
            for resource in reversed(self.run.resources):
                if resource.type == request.type and resource.name == request.name and resource.urn is None:
                    resource.urn = response.urn
                    resource.parent = request.parent or None
                    resource.dependencies = sorted(set(request.dependencies))
                    resource.options = {
                        "protect": request.protect,
                        "deleteBeforeReplace": request.deleteBeforeReplace,
                        "replaceOnChanges": list(request.replaceOnChanges),
                        "ignoreChanges": list(request.ignoreChanges),
                    }
                    break
        return response


def _ssm_arn(name: str) -> str:
    return f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:parameter{name}"


def _computed(type_token: str, logical: str, inputs: dict) -> dict:  # noqa: C901 - one branch per resource type
    """Return the attributes AWS would compute for a resource, keyed like the provider's outputs."""
    name = inputs.get("name") or logical
    arn_prefix = f"{REGION}:{ACCOUNT_ID}"
    if type_token == "aws:dynamodb/table:Table":
        return {"name": name, "arn": f"arn:aws:dynamodb:{arn_prefix}:table/{name}", "__id": name}
    if type_token == "aws:sqs/queue:Queue":
        return {"name": name, "arn": f"arn:aws:sqs:{arn_prefix}:{name}",
                "url": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{name}",
                "__id": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{name}"}
    if type_token in ("aws:iam/role:Role", "aws:iam/policy:Policy"):
        kind = type_token.split(":")[-1].lower()
        return {"name": name, "arn": f"arn:aws:iam::{ACCOUNT_ID}:{kind}/{name}", "__id": name}
    if type_token == "aws:ssm/parameter:Parameter":
        return {"arn": _ssm_arn(name), "__id": name}
    if type_token == "aws:cloudwatch/logGroup:LogGroup":
        return {"name": name, "arn": f"arn:aws:logs:{arn_prefix}:log-group:{name}", "__id": name}
    if type_token == "aws:lambda/function:Function":
        arn = f"arn:aws:lambda:{arn_prefix}:function:{name}"
        invoke = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations"
        return {"name": name, "arn": arn, "invokeArn": invoke, "qualifiedArn": f"{arn}:$LATEST", "__id": name}
    if type_token == "aws:apigateway/restApi:RestApi":
        api_id = "a1b2c3d4e5"
        return {"name": name, "arn": f"arn:aws:apigateway:{REGION}::/restapis/{api_id}",
                "executionArn": f"arn:aws:execute-api:{arn_prefix}:{api_id}",
                "rootResourceId": "r00t1d", "__id": api_id}
    if type_token == "aws:apigateway/resource:Resource":
        return {"path": "/" + inputs.get("pathPart", ""), "__id": f"{logical}-id"}
    if type_token == "aws:apigateway/stage:Stage":
        api_id = inputs.get("restApi", "a1b2c3d4e5")
        stage = inputs.get("stageName", "dev")
        return {"invokeUrl": f"https://{api_id}.execute-api.{REGION}.amazonaws.com/{stage}",
                "executionArn": f"arn:aws:execute-api:{arn_prefix}:{api_id}/{stage}",
                "arn": f"arn:aws:apigateway:{REGION}::/restapis/{api_id}/stages/{stage}"}
    if type_token == "aws:sns/topic:Topic":
        return {"name": name, "arn": f"arn:aws:sns:{arn_prefix}:{name}", "__id": f"arn:aws:sns:{arn_prefix}:{name}"}
    if type_token == "aws:cloudwatch/metricAlarm:MetricAlarm":
        return {"name": name, "arn": f"arn:aws:cloudwatch:{arn_prefix}:alarm:{name}", "__id": name}
    if type_token == "aws:cloudwatch/dashboard:Dashboard":
        return {"dashboardName": inputs.get("dashboardName", name), "__id": inputs.get("dashboardName", name)}
    if type_token == "aws:kms/key:Key":
        return {"arn": f"arn:aws:kms:{arn_prefix}:key/00000000-0000-0000-0000-000000000000",
                "keyId": "00000000-0000-0000-0000-000000000000"}
    if type_token == "random:index/randomPassword:RandomPassword":
        return {"result": "offline-random-" + "x" * 40}
    if type_token.startswith("pulumi:providers:"):
        return {}
    return {"arn": f"arn:aws:mock:{arn_prefix}:{logical}", "name": name}


def default_parameters(environment: str) -> dict:
    """Return the String parameter values foundation stores, keyed by full parameter name."""
    values = definitions.plain_parameter_values(definitions.table_name(environment))
    return {naming.parameter_name(environment, key): value for key, value in values.items()}


def run_program(
    layer: str,
    environment: str = "dev",
    config: Optional[dict] = None,
    upstream: Optional[dict] = None,
    preview: bool = False,
    secrets: Optional[dict] = None,
) -> ProgramRun:
    """Run ``stacks/<layer>/__main__.py`` under the mock engine and return what it declared.

    ``config`` maps setting keys (without the ``tracking:`` namespace) to raw strings;
    ``upstream`` maps fully qualified stack names to their outputs, as a StackReference
    would return them; ``secrets`` are settings passed as Pulumi secrets.
    """
    run = ProgramRun(layer, environment)
    mocks = RecordingMocks(run, upstream or {}, default_parameters(environment))

    all_config = {"aws:region": REGION}
    for key, value in (config or {}).items():
        all_config[f"{NAMESPACE}:{key}"] = value
    for key, value in (secrets or {}).items():
        all_config[f"{NAMESPACE}:{key}"] = value
    secret_keys = [f"{NAMESPACE}:{key}" for key in (secrets or {})]
    pulumi.runtime.set_all_config(all_config, secret_keys)

    # A fresh root stack per run, or the exports of two programs in one process merge.
    pulumi_settings.set_root_resource(None)
    pulumi.runtime.set_mocks(
        mocks,
        project=naming.project_name(layer),
        stack=environment,
        preview=preview,
        monitor=RecordingMonitor(mocks),
    )

    program_dir = STACKS_DIR / layer
    modules_before = set(sys.modules)
    sys.path.insert(0, str(program_dir))
    collected: dict = {}

    def program():
        runpy.run_path(str(program_dir / "__main__.py"), run_name="__main__")
        stack = pulumi_settings.get_root_resource()
        return pulumi.Output.from_input(dict(stack.outputs)).apply(collected.update).future()

    try:
        pulumi_settings.SETTINGS.rpc_manager.clear()
        pulumi_settings.SETTINGS.outputs.clear()
        _sync_await(pulumi.runtime.stack.run_pulumi_func(lambda: _sync_await(program())))
    finally:
        sys.path.remove(str(program_dir))
        for module in set(sys.modules) - modules_before:
            origin = getattr(sys.modules[module], "__file__", None) or ""
            if origin.startswith(str(program_dir)):
                del sys.modules[module]

    run.outputs = collected
    return run


def run_chain(environment: str = "dev", config: Optional[dict] = None, secrets: Optional[dict] = None) -> dict:
    """Run all four programs in deploy order, each reading the real exports of the ones before.

    Returns the ``ProgramRun`` of each layer keyed by layer name.
    """
    organization = (config or {}).get("organization", naming.DEFAULT_ORGANIZATION)
    upstream: dict = {}
    runs = {}
    for layer in naming.LAYERS:
        run = run_program(
            layer,
            environment,
            config=config_for_layer(config, layer),
            upstream=upstream,
            secrets=config_for_layer(secrets, layer),
        )
        runs[layer] = run
        upstream[naming.stack_reference_name(organization, layer, environment)] = run.outputs
    return runs
