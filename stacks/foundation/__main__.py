"""Foundation layer: tracking table, dead letter queue, parameters and IAM roles."""

import sys
from pathlib import Path

# The real CLI runs this file with only its own folder on sys.path; `shared` is at the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pulumi  # noqa: E402
import pulumi_aws as aws  # noqa: E402
from foundation_iam import ApiGatewayLogging, FunctionAccess, FunctionRole, log_group_arn  # noqa: E402
from foundation_parameters import TrackingParameters  # noqa: E402
from foundation_storage import create_dead_letter_queue, create_table  # noqa: E402

from shared import definitions, naming, outputs  # noqa: E402
from shared.provider import make_provider  # noqa: E402
from shared.settings import read_pulumi_secret, read_pulumi_settings  # noqa: E402
from shared.tags import standard_tags  # noqa: E402

LAYER = "foundation"

settings = read_pulumi_settings(LAYER)
environment = settings["environment"]
provider = make_provider(settings, LAYER)
tags = standard_tags(settings, LAYER)

table = create_table(settings, provider, tags)
dead_letter_queue = create_dead_letter_queue(settings, provider, tags)
parameters = TrackingParameters(
    "parameters",
    settings,
    table_name=table.name,
    page_token_key=read_pulumi_secret(LAYER, "pageTokenKey"),
    provider=provider,
    tags=tags,
)

caller = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(provider=provider))
function_role = FunctionRole(
    "function-execution",
    settings,
    FunctionAccess(
        table_arn=table.arn,
        dead_letter_queue_arn=dead_letter_queue.arn,
        page_token_key_parameter_arn=parameters.page_token_key.arn,
        log_group_arn=log_group_arn(caller.account_id, naming.function_log_group_name(environment)),
        table_key_arn=settings["tableKmsKeyArn"],
    ),
    provider=provider,
    tags=tags,
)
api_gateway_logging = ApiGatewayLogging("api-gateway-logging", settings, provider=provider, tags=tags)

names = parameters.names
pulumi.export(outputs.TABLE_NAME, table.name)
pulumi.export(outputs.TABLE_ARN, table.arn)
pulumi.export(outputs.DEAD_LETTER_QUEUE_NAME, dead_letter_queue.name)
pulumi.export(outputs.DEAD_LETTER_QUEUE_URL, dead_letter_queue.url)
pulumi.export(outputs.DEAD_LETTER_QUEUE_ARN, dead_letter_queue.arn)
pulumi.export(outputs.FUNCTION_ROLE_ARN, function_role.arn)
pulumi.export(outputs.API_CONFIG_PARAMETER_NAME, names[definitions.API_CONFIG_PARAMETER.key])
pulumi.export(outputs.DATABASE_CONNECTION_PARAMETER_NAME, names[definitions.DATABASE_CONNECTION_PARAMETER.key])
pulumi.export(outputs.FEATURE_FLAGS_PARAMETER_NAME, names[definitions.FEATURE_FLAGS_PARAMETER.key])
# Only the name: the value is a secret the function decrypts at run time.
pulumi.export(outputs.PAGE_TOKEN_KEY_PARAMETER_NAME, names[definitions.PAGE_TOKEN_KEY_PARAMETER.key])
pulumi.export(outputs.API_GATEWAY_CLOUDWATCH_ROLE_ARN, api_gateway_logging.role_arn)
