"""Every rule of the policy pack against every resource the four stacks declare, run offline."""

import pytest

from policy import rules
from shared import naming
from tests.policy.conftest import CHAINS
from tests.policy.helpers import aws_types_of, layer_violations, stack_view


@pytest.mark.parametrize("layer", naming.LAYERS)
@pytest.mark.parametrize("chain", sorted(CHAINS))
def test_stack_resources_have_no_violations(chains, chain, layer):
    run = chains[chain][layer]

    violations = layer_violations(run)

    assert run.resources, f"{chain}/{layer} declared no resources"
    assert violations == [], f"{chain}/{layer}:\n" + "\n".join(violations)


@pytest.mark.parametrize("chain", sorted(CHAINS))
def test_stack_rule_on_all_layers_has_no_violations(chains, chain):
    # One stack holding all four layers: the only view in which a function and its integrations meet.
    resources = stack_view(*chains[chain].values())

    violations = rules.stack_violations(resources)

    assert violations == [], "\n".join(violation.message for _, violation in violations)


def test_taggable_types_accept_tags_in_pulumi_aws():
    for type_token in sorted(rules.TAGGABLE_TYPES):
        assert rules.accepts_tags(type_token), (
            f"{type_token} is in TAGGABLE_TYPES but pulumi_aws gives it no tags input"
        )


def test_taggable_types_cover_every_stack_type(chains):
    declared = aws_types_of(chains)

    unlisted = sorted(type_token for type_token in declared if rules.accepts_tags(type_token))
    unlisted = [type_token for type_token in unlisted if type_token not in rules.TAGGABLE_TYPES]

    assert unlisted == [], f"the stacks declare taggable types missing from rules.TAGGABLE_TYPES: {unlisted}"


def test_taggable_types_all_declared_by_stacks(chains):
    # An entry no stack declares is dead weight and hides which types the list really covers.
    declared = aws_types_of(chains)

    unused = sorted(rules.TAGGABLE_TYPES - declared)

    assert unused == [], f"rules.TAGGABLE_TYPES lists types no stack declares: {unused}"


def test_accepts_tags_rejects_untaggable_and_unknown_types():
    for type_token in ("aws:apigateway/method:Method", "aws:iam/rolePolicy:RolePolicy", "aws:kms/alias:Alias"):
        assert not rules.accepts_tags(type_token), f"{type_token} has no tags input in pulumi_aws"
    assert not rules.accepts_tags("aws:notaservice/thing:Thing"), "a type pulumi_aws does not know counts as taggable"
