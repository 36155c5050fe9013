"""The environment's Parameter Store hierarchy: plain settings and the page-token signing key."""

from typing import Optional

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from shared import definitions, naming
from shared.provider import resource_options

COMPONENT_TYPE = f"{naming.PROJECT}:foundation:Parameters"
GENERATED_KEY_LENGTH = 64


class TrackingParameters(pulumi.ComponentResource):
    """One SSM parameter per ``definitions.PARAMETERS`` entry, named ``/<project>/<env>/<key>``.

    The page-token key comes from secret config or, when that is unset, from a random
    password. Either way it is a Pulumi secret, so the state stores it encrypted, and it is
    never among this component's outputs.
    """

    def __init__(
        self,
        name: str,
        settings: dict,
        table_name: pulumi.Input[str],
        page_token_key: Optional[pulumi.Output],
        provider: aws.Provider,
        tags: dict,
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        environment = settings["environment"]

        if page_token_key is None:
            generated = random.RandomPassword(
                f"{name}-page-token-key-generated",
                length=GENERATED_KEY_LENGTH,
                special=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            page_token_key = pulumi.Output.secret(generated.result)

        retention_days = settings["itemRetentionDays"]
        plain_values = pulumi.Output.from_input(table_name).apply(
            lambda table: definitions.plain_parameter_values(table, item_retention_days=retention_days)
        )
        secret_values = {definitions.PAGE_TOKEN_KEY_PARAMETER.key: page_token_key}

        self.parameters = {}
        for spec in definitions.PARAMETERS:
            self.parameters[spec.key] = aws.ssm.Parameter(
                f"{name}-{spec.key}",
                name=naming.parameter_name(environment, spec.key),
                type=spec.type,
                value=_parameter_value(spec, plain_values, secret_values),
                description=spec.description,
                tags=tags,
                opts=resource_options(provider, parent=self),
            )

        self.names = {key: parameter.name for key, parameter in self.parameters.items()}
        self.register_outputs({"names": self.names})

    @property
    def page_token_key(self) -> aws.ssm.Parameter:
        return self.parameters[definitions.PAGE_TOKEN_KEY_PARAMETER.key]


def _parameter_value(spec: definitions.ParameterSpec, plain_values: pulumi.Output, secret_values: dict):
    if spec.type == "String":
        return plain_values[spec.key]
    if spec.key not in secret_values:
        raise ValueError(f"SecureString parameter {spec.key!r} has no value source. Fix: add one in {__name__}")
    return secret_values[spec.key]
