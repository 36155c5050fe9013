"""Policy pack with the organization's rules, every one mandatory: `pulumi preview --policy-pack policy/`.

The rules themselves live in rules.py and need no policy engine, so the offline suite runs the same
functions against every stack's mocked resources. This file only wraps them into pulumi_policy
policies. The engine runs it through ``pulumi.policy``, which executes it with ``run_name="__main__"``.
Imported under any other name, it builds ``POLICIES`` and starts nothing.
"""

import sys
from pathlib import Path

# The engine runs this file by path, and rules.py is beside it.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import rules  # noqa: E402
from pulumi_policy import (  # noqa: E402
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

PACK_NAME = "logistics-tracking-rules"


def resource_validation(rule: rules.ResourceRule):
    """Return a ResourceValidation callback that reports each message of ``rule`` for one resource."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for message in rule.check(args.resource_type, args.props, args.name):
            report_violation(message, None)

    return validate


def stack_validation(rule: rules.StackRule):
    """Return a StackValidation callback that reports each violation of ``rule`` against its resource's URN."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [
            rules.StackResource(resource.resource_type, resource.name, resource.props, resource.urn)
            for resource in args.resources
        ]
        for violation in rule.check(resources):
            report_violation(violation.message, violation.urn or None)

    return validate


def build_policies() -> list:
    """Return one mandatory policy per rule of rules.py."""
    policies = [
        ResourceValidationPolicy(
            name=rule.name,
            description=rule.description,
            validate=resource_validation(rule),
            enforcement_level=EnforcementLevel.MANDATORY,
        )
        for rule in rules.RESOURCE_RULES
    ]
    policies += [
        StackValidationPolicy(
            name=rule.name,
            description=rule.description,
            validate=stack_validation(rule),
            enforcement_level=EnforcementLevel.MANDATORY,
        )
        for rule in rules.STACK_RULES
    ]
    return policies


POLICIES = build_policies()

if __name__ == "__main__":
    # PolicyPack serves the engine over gRPC on 127.0.0.1 and returns only when the engine stops it.
    PolicyPack(name=PACK_NAME, policies=POLICIES, enforcement_level=EnforcementLevel.MANDATORY)
