"""Alarms on the API, the function, the table and the dead letter queue, all sent to the alarm topic.

Traffic is sparse (about one request a minute), so every alarm looks at 5-minute periods and
goes off only when several of them breach. One slow or failed request at night breaches one
period and pages no one. A broken deployment breaches every period and pages within
15 minutes. Periods without data count as not breaching, because at this traffic a period
without data is a period in which nothing happened.
"""

from dataclasses import dataclass
from typing import List, Optional

import pulumi
import pulumi_aws as aws

from shared import metrics, naming
from shared.provider import resource_options

PERIOD_SECONDS = 300

API_NAMESPACE = "AWS/ApiGateway"
LAMBDA_NAMESPACE = "AWS/Lambda"
DYNAMODB_NAMESPACE = "AWS/DynamoDB"
SQS_NAMESPACE = "AWS/SQS"


@dataclass(frozen=True)
class Evaluation:
    """An M-of-N rule: the alarm goes off when ``datapoints`` of the last ``periods`` breach."""

    periods: int
    datapoints: int


# 3 of 5 periods. One bad period, such as a single slow or failed request, never alarms.
# A failure that lasts 15 minutes of a 25-minute window does.
SUSTAINED = Evaluation(periods=5, datapoints=3)
# 2 of 2 periods: a parked update that is still waiting after 10 minutes, so a redrive in
# progress does not alarm. A parked update stays until it is redriven, so this alarm stays on.
PERSISTENT = Evaluation(periods=2, datapoints=2)


@dataclass(frozen=True)
class AlarmSources:
    """Names of the monitored resources, read from the upstream stacks' outputs."""

    rest_api_name: pulumi.Input[str]
    stage_name: pulumi.Input[str]
    function_name: pulumi.Input[str]
    table_name: pulumi.Input[str]
    dead_letter_queue_name: pulumi.Input[str]

    def api_dimensions(self) -> dict:
        # REST API metrics are keyed by API name and stage, so an alarm on the API id never gets data.
        return {"ApiName": self.rest_api_name, "Stage": self.stage_name}


def _metric(
    namespace: str, metric_name: str, dimensions: dict, stat: str
) -> aws.cloudwatch.MetricAlarmMetricQueryMetricArgs:
    return aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
        namespace=namespace, metric_name=metric_name, dimensions=dimensions, period=PERIOD_SECONDS, stat=stat
    )


def _query(query_id: str, metric: aws.cloudwatch.MetricAlarmMetricQueryMetricArgs):
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(id=query_id, metric=metric, return_data=False)


def _expression(query_id: str, expression: str, label: str):
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(id=query_id, expression=expression, label=label, return_data=True)


def error_rate_expression(errors_id: str, requests_id: str) -> str:
    """Return metric math for errors as a percentage of requests, which is 0 for a period without requests."""
    return f"IF(FILL({requests_id}, 0) > 0, 100 * FILL({errors_id}, 0) / FILL({requests_id}, 0), 0)"


class ServiceAlarms(pulumi.ComponentResource):
    """Every alarm of one environment, with alarm and OK actions on the alarm topic."""

    def __init__(
        self,
        name: str,
        settings: dict,
        sources: AlarmSources,
        topic_arn: pulumi.Input[str],
        provider: aws.Provider,
        tags: dict,
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        super().__init__(f"{naming.PROJECT}:observability:ServiceAlarms", name, None, opts)
        self._name = name
        self._environment = settings["environment"]
        self._topic_arn = topic_arn
        self._tags = tags
        self._options = resource_options(provider, parent=self)

        self.alarms: List[aws.cloudwatch.MetricAlarm] = [
            self._api_error_rate("5XX", settings["error5xxRatePercent"], sources),
            self._api_error_rate("4XX", settings["error4xxRatePercent"], sources),
            self._api_latency(settings["latencyP99Ms"], sources),
            *self._function_alarms(sources),
            self._dead_letter_queue(sources),
            self._table_throttles(sources),
            self._table_system_errors(sources),
        ]
        self.register_outputs({"alarmNames": [alarm.name for alarm in self.alarms]})

    def _alarm(self, key: str, description: str, evaluation: Evaluation, **arguments) -> aws.cloudwatch.MetricAlarm:
        return aws.cloudwatch.MetricAlarm(
            f"{self._name}-{key}",
            name=naming.resource_name(self._environment, key),
            alarm_description=description,
            evaluation_periods=evaluation.periods,
            datapoints_to_alarm=evaluation.datapoints,
            alarm_actions=[self._topic_arn],
            ok_actions=[self._topic_arn],
            tags=self._tags,
            opts=self._options,
            **arguments,
        )

    def _api_error_rate(self, status_class: str, threshold: int, sources: AlarmSources) -> aws.cloudwatch.MetricAlarm:
        dimensions = sources.api_dimensions()
        causes = {
            "5XX": "the function failed or timed out, or API Gateway could not call it",
            "4XX": "clients send invalid or unsigned requests, or a client's IAM policy lost access",
        }
        return self._alarm(
            f"api-{status_class.lower()}-rate",
            f"More than {threshold}% of API requests got a {status_class} response in 3 of 5 periods "
            f"of 5 minutes: {causes[status_class]}.",
            SUSTAINED,
            comparison_operator="GreaterThanThreshold",
            threshold=threshold,
            metric_queries=[
                _query("errors", _metric(API_NAMESPACE, f"{status_class}Error", dimensions, "Sum")),
                _query("requests", _metric(API_NAMESPACE, "Count", dimensions, "Sum")),
                _expression("rate", error_rate_expression("errors", "requests"), f"{status_class} responses (%)"),
            ],
            # No requests in a period means no request failed.
            treat_missing_data="notBreaching",
        )

    def _api_latency(self, threshold_ms: int, sources: AlarmSources) -> aws.cloudwatch.MetricAlarm:
        return self._alarm(
            "api-latency-p99",
            f"p99 API latency above {threshold_ms} ms in 3 of 5 periods of 5 minutes.",
            SUSTAINED,
            namespace=API_NAMESPACE,
            metric_name="Latency",
            dimensions=sources.api_dimensions(),
            period=PERIOD_SECONDS,
            # Percentiles need an extended statistic, because "statistic" accepts only SampleCount,
            # Average, Sum, Minimum and Maximum.
            extended_statistic="p99",
            # For p99, CloudWatch calls fewer than 1,000 samples a low sample count, which is every
            # period at this traffic. With "ignore" the alarm would never change state.
            evaluate_low_sample_count_percentiles="evaluate",
            comparison_operator="GreaterThanThreshold",
            threshold=threshold_ms,
            # No requests in a period means there is no latency to judge.
            treat_missing_data="notBreaching",
        )

    def _function_alarms(self, sources: AlarmSources) -> List[aws.cloudwatch.MetricAlarm]:
        dimensions = {"FunctionName": sources.function_name}
        return [
            self._alarm(
                "function-errors",
                "The function raised unhandled errors in 3 of 5 periods of 5 minutes (a bad deployment, "
                "missing permissions or configuration).",
                SUSTAINED,
                namespace=LAMBDA_NAMESPACE,
                metric_name="Errors",
                dimensions=dimensions,
                period=PERIOD_SECONDS,
                statistic="Sum",
                comparison_operator="GreaterThanThreshold",
                threshold=0,
                # Lambda publishes no datapoint for a period without invocations.
                treat_missing_data="notBreaching",
            ),
            self._alarm(
                "function-throttles",
                "Lambda throttled the function in 3 of 5 periods of 5 minutes: its concurrency limit is too "
                "low for the traffic.",
                SUSTAINED,
                namespace=LAMBDA_NAMESPACE,
                metric_name="Throttles",
                dimensions=dimensions,
                period=PERIOD_SECONDS,
                statistic="Sum",
                comparison_operator="GreaterThanThreshold",
                threshold=0,
                # Lambda publishes no datapoint for a period without invocations.
                treat_missing_data="notBreaching",
            ),
        ]

    def _dead_letter_queue(self, sources: AlarmSources) -> aws.cloudwatch.MetricAlarm:
        return self._alarm(
            "dead-letter-queue-not-empty",
            "Tracking updates are parked on the dead letter queue because they could not be stored: "
            "fix the cause, then redrive them.",
            PERSISTENT,
            namespace=SQS_NAMESPACE,
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": sources.dead_letter_queue_name},
            period=PERIOD_SECONDS,
            statistic="Maximum",
            comparison_operator="GreaterThanThreshold",
            threshold=0,
            # SQS stops publishing metrics for a queue idle for six hours even while it still holds a
            # parked update, so no data must not count as empty: the alarm keeps its state (or shows
            # INSUFFICIENT_DATA, which notifies nobody) instead of sending a false OK.
            treat_missing_data="missing",
        )

    def _table_throttles(self, sources: AlarmSources) -> aws.cloudwatch.MetricAlarm:
        dimensions = {"TableName": sources.table_name}
        return self._alarm(
            "table-throttles",
            "DynamoDB throttled reads or writes on the tracking table in 3 of 5 periods of 5 minutes.",
            SUSTAINED,
            comparison_operator="GreaterThanThreshold",
            threshold=0,
            metric_queries=[
                _query("reads", _metric(DYNAMODB_NAMESPACE, "ReadThrottleEvents", dimensions, "Sum")),
                _query("writes", _metric(DYNAMODB_NAMESPACE, "WriteThrottleEvents", dimensions, "Sum")),
                _expression("throttles", "FILL(reads, 0) + FILL(writes, 0)", "Throttled requests"),
            ],
            # A period without datapoints had no table traffic, so nothing was throttled.
            treat_missing_data="notBreaching",
        )

    def _table_system_errors(self, sources: AlarmSources) -> aws.cloudwatch.MetricAlarm:
        # DynamoDB publishes system errors per operation, so the alarm adds up every operation's.
        query_ids = [f"op{index}" for index in range(len(metrics.TABLE_OPERATIONS))]
        queries = [
            _query(
                query_id,
                _metric(
                    DYNAMODB_NAMESPACE, "SystemErrors", {"TableName": sources.table_name, "Operation": operation}, "Sum"
                ),
            )
            for query_id, operation in zip(query_ids, metrics.TABLE_OPERATIONS)
        ]
        total = " + ".join(f"FILL({query_id}, 0)" for query_id in query_ids)
        return self._alarm(
            "table-system-errors",
            "DynamoDB answered requests on the tracking table with internal errors (HTTP 500) in 3 of 5 "
            "periods of 5 minutes.",
            SUSTAINED,
            comparison_operator="GreaterThanThreshold",
            threshold=0,
            metric_queries=[*queries, _expression("errors", total, "System errors")],
            # A period without datapoints had no table traffic, so nothing failed.
            treat_missing_data="notBreaching",
        )
