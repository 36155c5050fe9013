"""Edge layer: the REST API, its deployment and stage, and who may call it."""

import sys
from pathlib import Path

# The real CLI runs this file with only its own folder on sys.path; `shared` is at the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pulumi  # noqa: E402
from edge_access import ApiAccess  # noqa: E402
from edge_api import TrackingRestApi  # noqa: E402
from edge_stage import ApiStage  # noqa: E402

from shared import outputs  # noqa: E402
from shared.provider import make_provider  # noqa: E402
from shared.references import require, upstream_stack  # noqa: E402
from shared.settings import read_pulumi_settings  # noqa: E402
from shared.tags import standard_tags  # noqa: E402

LAYER = "edge"

settings = read_pulumi_settings(LAYER)
provider = make_provider(settings, LAYER)
tags = standard_tags(settings, LAYER)

foundation = upstream_stack(settings, "foundation")
compute = upstream_stack(settings, "compute")

api = TrackingRestApi(
    "api",
    settings,
    invoke_arn=require(compute, outputs.FUNCTION_INVOKE_ARN),
    provider=provider,
    tags=tags,
)
stage = ApiStage(
    "api",
    settings,
    rest_api=api.rest_api,
    deployment=api.deployment,
    logging_role_arn=require(foundation, outputs.API_GATEWAY_CLOUDWATCH_ROLE_ARN),
    provider=provider,
    tags=tags,
)
access = ApiAccess(
    "api",
    settings,
    route_arns=stage.route_arns,
    function_name=require(compute, outputs.FUNCTION_NAME),
    provider=provider,
    tags=tags,
)

pulumi.export(outputs.REST_API_ID, api.rest_api.id)
pulumi.export(outputs.REST_API_NAME, api.rest_api.name)
pulumi.export(outputs.STAGE_NAME, stage.stage.stage_name)
# Taken from the stage: a hand-built URL easily repeats or drops the stage name.
pulumi.export(outputs.INVOKE_URL, stage.stage.invoke_url)
pulumi.export(outputs.EXECUTION_ARN, api.rest_api.execution_arn)
pulumi.export(outputs.CLIENT_POLICY_ARN, access.client_policy.arn)
pulumi.export(outputs.ACCESS_LOG_GROUP_NAME, stage.access_log_group.name)
