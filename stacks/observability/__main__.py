"""Observability layer: the alarm topic, the alarms and the dashboard, built from upstream names."""

import sys
from pathlib import Path

# The real CLI runs this file with only its own folder on sys.path; `shared` is at the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pulumi  # noqa: E402
from observability_alarms import AlarmSources, ServiceAlarms  # noqa: E402
from observability_dashboard import DashboardSources, create_dashboard  # noqa: E402
from observability_topic import AlarmTopic  # noqa: E402

from shared import outputs  # noqa: E402
from shared.provider import make_provider  # noqa: E402
from shared.references import require, upstream_stack  # noqa: E402
from shared.settings import read_pulumi_settings  # noqa: E402
from shared.tags import standard_tags  # noqa: E402

LAYER = "observability"

settings = read_pulumi_settings(LAYER)
provider = make_provider(settings, LAYER)
tags = standard_tags(settings, LAYER)

foundation = upstream_stack(settings, "foundation")
compute = upstream_stack(settings, "compute")
edge = upstream_stack(settings, "edge")

rest_api_name = require(edge, outputs.REST_API_NAME)
stage_name = require(edge, outputs.STAGE_NAME)
function_name = require(compute, outputs.FUNCTION_NAME)
table_name = require(foundation, outputs.TABLE_NAME)
dead_letter_queue_name = require(foundation, outputs.DEAD_LETTER_QUEUE_NAME)

topic = AlarmTopic("alarm-topic", settings, provider=provider, tags=tags)
alarms = ServiceAlarms(
    "alarms",
    settings,
    AlarmSources(
        rest_api_name=rest_api_name,
        stage_name=stage_name,
        function_name=function_name,
        table_name=table_name,
        dead_letter_queue_name=dead_letter_queue_name,
    ),
    topic_arn=topic.topic.arn,
    provider=provider,
    tags=tags,
)
dashboard = create_dashboard(
    "dashboard",
    DashboardSources(
        environment=settings["environment"],
        rest_api_name=rest_api_name,
        stage_name=stage_name,
        function_name=function_name,
        table_name=table_name,
        dead_letter_queue_name=dead_letter_queue_name,
        access_log_group_name=require(edge, outputs.ACCESS_LOG_GROUP_NAME),
        function_log_group_name=require(compute, outputs.FUNCTION_LOG_GROUP_NAME),
    ),
    alarm_arns=[alarm.arn for alarm in alarms.alarms],
    provider=provider,
)

pulumi.export(outputs.ALARM_TOPIC_ARN, topic.topic.arn)
pulumi.export(outputs.DASHBOARD_NAME, dashboard.dashboard_name)
pulumi.export(outputs.ALARM_NAMES, [alarm.name for alarm in alarms.alarms])
