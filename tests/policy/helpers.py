"""Helpers that hand mocked resources to the policy rules the way the policy engine hands them over."""

import copy
import json
from typing import Dict, List

from pulumi.runtime import rpc

from devkit.offline import MockResource, ProgramRun
from policy import rules


def engine_props(value):
    """Return recorded mock inputs or state as a policy receives them: camelCase keys, secrets unwrapped.

    The mock engine records secrets in their wire form, ``{<signature key>: <secret signature>, "value": ...}``,
    and pulumi_policy's ``deserialize_properties`` unwraps them before it calls a policy.
    """
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return engine_props(value["value"])
        return {key: engine_props(item) for key, item in value.items()}
    if isinstance(value, list):
        return [engine_props(item) for item in value]
    return value


def props_of(resource: MockResource) -> dict:
    """Return a deep copy of a resource's inputs as a policy receives them, safe to break in a test."""
    return copy.deepcopy(engine_props(resource.inputs))


def failures(type_token: str, props: dict, name: str) -> Dict[str, List[str]]:
    """Return every resource rule that ``props`` violates, mapped to its messages."""
    found: Dict[str, List[str]] = {}
    for rule_name, message in rules.resource_violations(type_token, props, name):
        found.setdefault(rule_name, []).append(message)
    return found


def layer_violations(run: ProgramRun) -> List[str]:
    """Return every resource and stack rule violation of one program run, each prefixed with its rule."""
    found = [
        f"{rule_name}: {message}"
        for resource in run.resources
        for rule_name, message in rules.resource_violations(resource.type, engine_props(resource.inputs), resource.name)
    ]
    found += [f"{rule_name}: {violation.message}" for rule_name, violation in rules.stack_violations(stack_view(run))]
    return found


def stack_view(*runs: ProgramRun) -> List[rules.StackResource]:
    """Return the resources of one or more runs as a stack rule receives them: outputs as props, with URNs."""
    return [
        rules.StackResource(resource.type, resource.name, engine_props(resource.state), resource.urn or "")
        for run in runs
        for resource in run.resources
    ]


def aws_types_of(chains: dict) -> set:
    """Return the AWS type tokens that any run of any chain declares."""
    return {
        resource.type
        for runs in chains.values()
        for run in runs.values()
        for resource in run.resources
        if resource.type.startswith("aws:")
    }


def policy_document(props: dict, key: str = "policy") -> dict:
    return json.loads(props[key])


def statement(document: dict, sid: str) -> dict:
    """Return the statement of a parsed policy document with the given Sid."""
    for candidate in document["Statement"]:
        if candidate.get("Sid") == sid:
            return candidate
    raise AssertionError(f"no statement {sid!r} in {json.dumps(document)}")
