"""Compute layer: the tracking function and its log group, built from the foundation's outputs."""

import sys
from pathlib import Path

# The real CLI runs this file with only its own folder on sys.path; `shared` is at the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pulumi  # noqa: E402
import pulumi_aws as aws  # noqa: E402
from compute_function import FunctionInputs, TrackingFunction  # noqa: E402

from shared import outputs  # noqa: E402
from shared.provider import make_provider  # noqa: E402
from shared.references import require, upstream_stack  # noqa: E402
from shared.settings import read_pulumi_settings  # noqa: E402
from shared.tags import standard_tags  # noqa: E402

LAYER = "compute"

settings = read_pulumi_settings(LAYER)
provider = make_provider(settings, LAYER)
tags = standard_tags(settings, LAYER)

foundation = upstream_stack(settings, "foundation")


def read_parameter(output_name: str) -> pulumi.Output:
    """Read at deploy time the value of the String parameter whose name the foundation exports."""
    parameter = aws.ssm.get_parameter_output(
        name=require(foundation, output_name), opts=pulumi.InvokeOptions(provider=provider)
    )
    return parameter.value


function = TrackingFunction(
    "api",
    settings,
    FunctionInputs(
        role_arn=require(foundation, outputs.FUNCTION_ROLE_ARN),
        dead_letter_queue_arn=require(foundation, outputs.DEAD_LETTER_QUEUE_ARN),
        dead_letter_queue_url=require(foundation, outputs.DEAD_LETTER_QUEUE_URL),
        api_config=read_parameter(outputs.API_CONFIG_PARAMETER_NAME),
        feature_flags=read_parameter(outputs.FEATURE_FLAGS_PARAMETER_NAME),
        database_connection=read_parameter(outputs.DATABASE_CONNECTION_PARAMETER_NAME),
        page_token_key_parameter_name=require(foundation, outputs.PAGE_TOKEN_KEY_PARAMETER_NAME),
    ),
    provider=provider,
    tags=tags,
)

pulumi.export(outputs.FUNCTION_NAME, function.function.name)
pulumi.export(outputs.FUNCTION_ARN, function.function.arn)
pulumi.export(outputs.FUNCTION_INVOKE_ARN, function.function.invoke_arn)
pulumi.export(outputs.FUNCTION_LOG_GROUP_NAME, function.log_group.name)
