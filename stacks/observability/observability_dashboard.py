"""The service dashboard: API, function, table, dead letter queue, business metrics, alarms and logs.

The body is built with ``pulumi.Output.json_dumps``, because the names in it are Outputs of
the upstream stacks.
"""

from dataclasses import dataclass
from typing import List, Optional

import pulumi
import pulumi_aws as aws

from shared import metrics, naming
from shared.provider import resource_options

DASHBOARD_PERIOD_SECONDS = 300
GRID_WIDTH = 24
WIDGET_WIDTH = 12
WIDGET_HEIGHT = 6

API = "AWS/ApiGateway"
LAMBDA = "AWS/Lambda"
DYNAMODB = "AWS/DynamoDB"
SQS = "AWS/SQS"


@dataclass(frozen=True)
class DashboardSources:
    """Names of the resources the dashboard shows, read from the upstream stacks' outputs."""

    environment: str
    rest_api_name: pulumi.Input[str]
    stage_name: pulumi.Input[str]
    function_name: pulumi.Input[str]
    table_name: pulumi.Input[str]
    dead_letter_queue_name: pulumi.Input[str]
    access_log_group_name: pulumi.Input[str]
    function_log_group_name: pulumi.Input[str]


def _metric(namespace: str, name: str, dimensions: dict, **options) -> list:
    """Return one row of a metric widget: namespace, name, dimension pairs, then rendering options."""
    row: list = [namespace, name]
    for key, value in dimensions.items():
        row.extend([key, value])
    if options:
        row.append(options)
    return row


def _metric_widget(title: str, rows: list, stat: str = "Sum", width: int = WIDGET_WIDTH) -> dict:
    return {
        "type": "metric",
        "width": width,
        "height": WIDGET_HEIGHT,
        "properties": {
            "title": title,
            "region": naming.REGION,
            "view": "timeSeries",
            "stacked": False,
            "period": DASHBOARD_PERIOD_SECONDS,
            "stat": stat,
            "metrics": rows,
        },
    }


def _log_widget(title: str, log_group_name: pulumi.Input[str], query: str) -> dict:
    return {
        "type": "log",
        "width": WIDGET_WIDTH,
        "height": WIDGET_HEIGHT,
        "properties": {
            "title": title,
            "region": naming.REGION,
            "view": "table",
            "query": pulumi.Output.concat("SOURCE '", log_group_name, "' | ", query),
        },
    }


def _api_widgets(sources: DashboardSources) -> List[dict]:
    dimensions = {"ApiName": sources.rest_api_name, "Stage": sources.stage_name}
    return [
        _metric_widget(
            "API requests and errors",
            [
                _metric(API, "Count", dimensions, label="Requests"),
                _metric(API, "4XXError", dimensions, label="4XX"),
                _metric(API, "5XXError", dimensions, label="5XX"),
            ],
        ),
        _metric_widget(
            "API latency (ms)",
            [
                _metric(API, "Latency", dimensions, stat="p50", label="Latency p50"),
                _metric(API, "Latency", dimensions, stat="p90", label="Latency p90"),
                _metric(API, "Latency", dimensions, stat="p99", label="Latency p99"),
                _metric(API, "IntegrationLatency", dimensions, stat="p50", label="Integration latency p50"),
                _metric(API, "IntegrationLatency", dimensions, stat="p99", label="Integration latency p99"),
            ],
            stat="p99",
        ),
    ]


def _function_widgets(sources: DashboardSources) -> List[dict]:
    dimensions = {"FunctionName": sources.function_name}
    return [
        _metric_widget(
            "Function invocations, errors and throttles",
            [
                _metric(LAMBDA, "Invocations", dimensions),
                _metric(LAMBDA, "Errors", dimensions),
                _metric(LAMBDA, "Throttles", dimensions),
            ],
        ),
        _metric_widget(
            "Function duration (ms) and concurrency",
            [
                _metric(LAMBDA, "Duration", dimensions, stat="p50", label="Duration p50"),
                _metric(LAMBDA, "Duration", dimensions, stat="p99", label="Duration p99"),
                _metric(LAMBDA, "Duration", dimensions, stat="Maximum", label="Duration max"),
                _metric(
                    LAMBDA,
                    "ConcurrentExecutions",
                    dimensions,
                    stat="Maximum",
                    label="Concurrent executions",
                    yAxis="right",
                ),
            ],
            stat="p99",
        ),
    ]


def _table_widgets(sources: DashboardSources) -> List[dict]:
    table = {"TableName": sources.table_name}
    latency, throttles = [], []
    for operation in metrics.TABLE_OPERATIONS:
        per_operation = {**table, "Operation": operation}
        latency.append(_metric(DYNAMODB, "SuccessfulRequestLatency", per_operation, label=f"{operation} latency"))
        throttles.append(_metric(DYNAMODB, "ThrottledRequests", per_operation, label=f"{operation} throttled"))
        throttles.append(_metric(DYNAMODB, "SystemErrors", per_operation, label=f"{operation} system errors"))
    throttles.append(_metric(DYNAMODB, "ReadThrottleEvents", table, label="Read throttle events"))
    throttles.append(_metric(DYNAMODB, "WriteThrottleEvents", table, label="Write throttle events"))
    return [
        _metric_widget("Table latency (ms, average)", latency, stat="Average"),
        _metric_widget("Table throttles and errors", throttles),
        _metric_widget(
            "Table consumed capacity",
            [
                _metric(DYNAMODB, "ConsumedReadCapacityUnits", table, label="Read capacity units"),
                _metric(DYNAMODB, "ConsumedWriteCapacityUnits", table, label="Write capacity units"),
            ],
        ),
    ]


def _queue_widget(sources: DashboardSources) -> dict:
    queue = {"QueueName": sources.dead_letter_queue_name}
    return _metric_widget(
        "Dead letter queue: parked updates",
        [
            _metric(SQS, "ApproximateNumberOfMessagesVisible", queue, label="Parked updates"),
            _metric(SQS, "ApproximateAgeOfOldestMessage", queue, label="Age of oldest (s)", yAxis="right"),
        ],
        stat="Maximum",
    )


def _business_widgets(sources: DashboardSources) -> List[dict]:
    dimensions = metrics.dimensions(sources.environment)
    updates = [
        metrics.UPDATES_CREATED,
        metrics.UPDATES_DUPLICATE,
        metrics.UPDATES_QUEUED,
        metrics.UPDATES_REJECTED,
        metrics.PARKING_FAILED,
    ]
    lookups = [metrics.STATUS_LOOKUPS, metrics.STATUS_NOT_FOUND]
    return [
        _metric_widget("Tracking updates", [_metric(metrics.NAMESPACE, name, dimensions) for name in updates]),
        _metric_widget("Status lookups", [_metric(metrics.NAMESPACE, name, dimensions) for name in lookups]),
    ]


def _log_widgets(sources: DashboardSources) -> List[dict]:
    return [
        _log_widget(
            "Recent API errors (access log)",
            sources.access_log_group_name,
            "fields @timestamp, status, method, resource_path, error_type, error_message, caller_arn, request_id"
            " | filter status like /^[45]/ | sort @timestamp desc | limit 50",
        ),
        _log_widget(
            "Recent function errors",
            sources.function_log_group_name,
            "fields @timestamp, level, message, function_request_id"
            ' | filter level in ["ERROR", "CRITICAL"] | sort @timestamp desc | limit 50',
        ),
    ]


def _place(widgets: List[dict]) -> List[dict]:
    """Give each widget its x and y, filling rows of the 24-column grid from left to right."""
    x = y = row_height = 0
    for widget in widgets:
        if x + widget["width"] > GRID_WIDTH:
            x, y, row_height = 0, y + row_height, 0
        widget["x"], widget["y"] = x, y
        x += widget["width"]
        row_height = max(row_height, widget["height"])
    return widgets


def dashboard_body(sources: DashboardSources, alarm_arns: List[pulumi.Input[str]]) -> pulumi.Output:
    """Return the dashboard body as an Output of JSON text."""
    alarm_widget = {
        "type": "alarm",
        "width": GRID_WIDTH,
        "height": WIDGET_HEIGHT,
        "properties": {"title": "Alarms", "alarms": list(alarm_arns), "sortBy": "stateUpdatedTimestamp"},
    }
    widgets = [
        alarm_widget,
        *_api_widgets(sources),
        *_function_widgets(sources),
        *_table_widgets(sources),
        _queue_widget(sources),
        *_business_widgets(sources),
        *_log_widgets(sources),
    ]
    return pulumi.Output.json_dumps({"widgets": _place(widgets)})


def create_dashboard(
    name: str,
    sources: DashboardSources,
    alarm_arns: List[pulumi.Input[str]],
    provider: aws.Provider,
    opts: Optional[pulumi.ResourceOptions] = None,
) -> aws.cloudwatch.Dashboard:
    """Create the environment's dashboard, without tags because the SDK's Dashboard takes none."""
    return aws.cloudwatch.Dashboard(
        name,
        dashboard_name=naming.resource_name(sources.environment, "overview"),
        dashboard_body=dashboard_body(sources, alarm_arns),
        opts=pulumi.ResourceOptions.merge(resource_options(provider), opts),
    )
