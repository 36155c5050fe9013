"""Observability stack under the mock engine: alarm topic, alarms and dashboard.

The alarms and the dashboard must name metrics and dimensions that exist for the real
resources, with the names the upstream stacks export. An alarm on a dimension AWS does not
publish stays in INSUFFICIENT_DATA forever, and a dashboard widget on one stays empty.
"""

import json
import logging
import re
from pathlib import Path

import pulumi_aws
import pytest

from devkit.offline import run_program
from shared import api_definition, metrics, naming, outputs
from shared.contract import function_contract
from shared.tags import standard_tags

ENVIRONMENT = "dev"
ORGANIZATION = naming.DEFAULT_ORGANIZATION

# Upstream values that differ from what naming would build, so a test checks whether the
# stack reads the upstream outputs or builds the names itself.
UPSTREAM_VALUES = {
    outputs.TABLE_NAME: "upstream-updates-table",
    outputs.DEAD_LETTER_QUEUE_NAME: "upstream-parked-updates",
    outputs.FUNCTION_NAME: "upstream-tracking-fn",
    outputs.FUNCTION_LOG_GROUP_NAME: "/aws/lambda/upstream-tracking-fn",
    outputs.REST_API_NAME: "upstream-tracking-api",
    outputs.STAGE_NAME: "upstream-stage",
    outputs.ACCESS_LOG_GROUP_NAME: "/aws/apigateway/upstream-tracking-api/access",
}

TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
KEY = "aws:kms/key:Key"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"

# Metrics AWS publishes for these resources, with the dimension set of each one.
API_DIMENSIONS = ("ApiName", "Stage")
KNOWN_METRICS = {
    "AWS/ApiGateway": {
        name: API_DIMENSIONS for name in ("Count", "4XXError", "5XXError", "Latency", "IntegrationLatency")
    },
    "AWS/Lambda": {
        name: ("FunctionName",) for name in ("Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions")
    },
    "AWS/DynamoDB": {
        "SuccessfulRequestLatency": ("Operation", "TableName"),
        "ThrottledRequests": ("Operation", "TableName"),
        "SystemErrors": ("Operation", "TableName"),
        "ReadThrottleEvents": ("TableName",),
        "WriteThrottleEvents": ("TableName",),
        "ConsumedReadCapacityUnits": ("TableName",),
        "ConsumedWriteCapacityUnits": ("TableName",),
    },
    "AWS/SQS": {
        name: ("QueueName",) for name in ("ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage")
    },
    "LogisticsTracking": {name: ("environment", "service") for name in function_contract.BUSINESS_METRICS},
}
# Operations the function calls on the table (put_item and query in its storage code).
FUNCTION_TABLE_OPERATIONS = {"PutItem", "Query"}
FUNCTION_DIR = Path(__file__).resolve().parents[2] / "lambda" / "tracking"
MISSING_DATA_POLICIES = {"breaching", "notBreaching", "ignore", "missing"}


def upstream_outputs(environment: str = ENVIRONMENT, values: dict = None) -> dict:
    """Return fake outputs of every stack observability reads, exactly the outputs REQUIRED_UPSTREAM lists."""
    values = values or UPSTREAM_VALUES
    return {
        naming.stack_reference_name(ORGANIZATION, layer, environment): {name: values[name] for name in names}
        for layer, names in outputs.REQUIRED_UPSTREAM["observability"].items()
    }


def run_observability(config: dict = None, environment: str = ENVIRONMENT):
    return run_program("observability", environment, config=config or {}, upstream=upstream_outputs(environment))


def expected_dimension_values(values: dict, environment: str = ENVIRONMENT) -> dict:
    return {
        "ApiName": values[outputs.REST_API_NAME],
        "Stage": values[outputs.STAGE_NAME],
        "FunctionName": values[outputs.FUNCTION_NAME],
        "TableName": values[outputs.TABLE_NAME],
        "QueueName": values[outputs.DEAD_LETTER_QUEUE_NAME],
        "service": naming.SERVICE_NAME,
        "environment": environment,
    }


def alarm_metrics(alarm) -> list:
    """Return (namespace, metric name, dimensions, stat) of every metric an alarm reads."""
    inputs = alarm.inputs
    if "metricName" in inputs:
        stat = inputs.get("statistic") or inputs.get("extendedStatistic")
        return [(inputs["namespace"], inputs["metricName"], inputs.get("dimensions", {}), stat)]
    found = []
    for query in inputs.get("metricQueries", []):
        metric = query.get("metric")
        if metric:
            found.append((metric["namespace"], metric["metricName"], metric.get("dimensions", {}), metric["stat"]))
    return found


def dashboard_widgets(run) -> list:
    body = run.one(DASHBOARD).inputs["dashboardBody"]
    return json.loads(body)["widgets"]


def widget_metrics(widget) -> list:
    """Return (namespace, metric name, dimensions, stat) of every metric row of a metric widget."""
    rows = []
    default_stat = widget["properties"].get("stat")
    for row in widget["properties"]["metrics"]:
        options = row[-1] if isinstance(row[-1], dict) else {}
        fields = row[:-1] if options else row
        namespace, name, pairs = fields[0], fields[1], fields[2:]
        assert len(pairs) % 2 == 0, f"widget {widget['properties']['title']!r}: odd dimension list {row}"
        dimensions = dict(zip(pairs[::2], pairs[1::2]))
        rows.append((namespace, name, dimensions, options.get("stat", default_stat)))
    return rows


def check_metric(where: str, namespace: str, name: str, dimensions: dict, expected_values: dict) -> None:
    assert namespace in KNOWN_METRICS, f"{where}: unknown namespace {namespace}"
    assert name in KNOWN_METRICS[namespace], f"{where}: {namespace} publishes no metric {name}"
    assert tuple(sorted(dimensions)) == KNOWN_METRICS[namespace][name], (
        f"{where}: {namespace} {name} has dimensions {sorted(KNOWN_METRICS[namespace][name])}, not {sorted(dimensions)}"
    )
    for key, value in dimensions.items():
        if key == "Operation":
            assert value in FUNCTION_TABLE_OPERATIONS, f"{where}: the function never calls {value}"
        else:
            assert value == expected_values[key], f"{where}: dimension {key} is {value!r}, not {expected_values[key]!r}"


def walk_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from walk_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk_strings(item)


def sdk_class(type_token: str):
    module = type_token.split(":")[1].split("/")[0]
    module = {"lambda": "lambda_"}.get(module, module)
    return getattr(getattr(pulumi_aws, module), type_token.split(":")[-1])


@pytest.fixture(scope="module")
def observability_run():
    return run_observability()


@pytest.fixture(scope="module")
def alarms(observability_run) -> dict:
    return {alarm.inputs["name"]: alarm for alarm in observability_run.of_type(ALARM)}


def alarm(alarms: dict, key: str):
    name = naming.resource_name(ENVIRONMENT, key)
    assert name in alarms, f"no alarm {name}; have {sorted(alarms)}"
    return alarms[name]


# --- topic ---------------------------------------------------------------------------------


def test_topic_encrypted_with_key_cloudwatch_can_use(observability_run, policy_statements):
    topic = observability_run.one(TOPIC)
    key = observability_run.one(KEY)
    assert topic.inputs["name"] == naming.resource_name(ENVIRONMENT, "alarms"), topic.name
    # alias/aws/sns would make every alarm action fail: its key policy does not admit CloudWatch.
    assert topic.inputs["kmsMasterKeyId"] == key.state["arn"], topic.name
    assert key.inputs["enableKeyRotation"] is True, key.name
    statements = policy_statements(key.inputs["policy"])
    cloudwatch = statements["CloudWatchAlarmsPublishToTopic"]
    assert cloudwatch["Principal"] == {"Service": ["cloudwatch.amazonaws.com"]}, key.name
    assert sorted(cloudwatch["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"], key.name
    administration = statements["AccountAdministersKeyThroughIam"]
    assert administration["Principal"] == {"AWS": ["arn:aws:iam::123456789012:root"]}, key.name


def test_email_subscription_absent_by_default(observability_run):
    assert observability_run.of_type(SUBSCRIPTION) == []


def test_email_subscription_when_alarm_email_set():
    run = run_observability(config={"alarmEmail": "oncall@example.com"})
    subscription = run.one(SUBSCRIPTION)
    assert subscription.inputs["protocol"] == "email", subscription.name
    assert subscription.inputs["endpoint"] == "oncall@example.com", subscription.name
    assert subscription.inputs["topic"] == run.one(TOPIC).state["arn"], subscription.name


@pytest.mark.parametrize(("environment", "config", "warned"), [
    ("prod", {}, True),
    ("prod", {"alarmEmail": "oncall@example.com"}, False),
    ("dev", {}, False),
])
def test_prod_without_alarm_email_warns(caplog, environment, config, warned):
    with caplog.at_level(logging.WARNING):
        run_observability(config=config, environment=environment)

    messages = [record.getMessage() for record in caplog.records]
    warnings = [message for message in messages if "tracking:alarmEmail is unset" in message]
    assert bool(warnings) is warned, warnings
    if warned:
        assert "Fix: pulumi config set tracking:alarmEmail" in warnings[0]


# --- alarms --------------------------------------------------------------------------------


def test_alarms_cover_required_signals(alarms):
    read = {(namespace, name) for a in alarms.values() for namespace, name, _, _ in alarm_metrics(a)}
    required = {
        ("AWS/ApiGateway", "5XXError"),
        ("AWS/ApiGateway", "4XXError"),
        ("AWS/ApiGateway", "Count"),
        ("AWS/ApiGateway", "Latency"),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/DynamoDB", "ReadThrottleEvents"),
        ("AWS/DynamoDB", "WriteThrottleEvents"),
        ("AWS/DynamoDB", "SystemErrors"),
    }
    assert not required - read, f"no alarm reads {sorted(required - read)}"


def test_alarms_name_real_metrics_and_dimensions(alarms):
    expected = expected_dimension_values(UPSTREAM_VALUES)
    for name, resource in alarms.items():
        found = alarm_metrics(resource)
        assert found, f"{name} reads no metric"
        for namespace, metric, dimensions, _ in found:
            check_metric(name, namespace, metric, dimensions, expected)


def test_api_alarms_use_api_name_and_stage(alarms):
    api_alarms = 0
    for name, resource in alarms.items():
        for namespace, _, dimensions, _ in alarm_metrics(resource):
            if namespace != "AWS/ApiGateway":
                continue
            api_alarms += 1
            assert dimensions == {
                "ApiName": UPSTREAM_VALUES[outputs.REST_API_NAME],
                "Stage": UPSTREAM_VALUES[outputs.STAGE_NAME],
            }, name
    assert api_alarms >= 5, "expected the two error-rate alarms and the latency alarm to read API metrics"


@pytest.mark.parametrize("status_class", ["5XX", "4XX"])
def test_error_rate_alarm_uses_guarded_metric_math(alarms, status_class):
    resource = alarm(alarms, f"api-{status_class.lower()}-rate")
    queries = {query["id"]: query for query in resource.inputs["metricQueries"]}
    by_metric = {q["metric"]["metricName"]: q for q in queries.values() if "metric" in q}
    errors, requests = by_metric[f"{status_class}Error"], by_metric["Count"]
    assert errors["metric"]["stat"] == "Sum", resource.name
    assert requests["metric"]["stat"] == "Sum", resource.name
    results = [q for q in queries.values() if q.get("returnData")]
    assert len(results) == 1, f"{resource.name} must return exactly one series"
    expression = results[0]["expression"]
    assert f"100 * FILL({errors['id']}, 0) / FILL({requests['id']}, 0)" in expression, expression
    # With no requests the rate is 0, so a quiet period is never a breach.
    assert expression.startswith(f"IF(FILL({requests['id']}, 0) > 0,"), expression
    assert expression.endswith(", 0)"), expression
    assert resource.inputs["comparisonOperator"] == "GreaterThanThreshold", resource.name


def test_latency_alarm_uses_extended_statistic(alarms):
    resource = alarm(alarms, "api-latency-p99")
    assert resource.inputs["extendedStatistic"] == "p99", resource.name
    assert "statistic" not in resource.inputs, resource.name
    assert resource.inputs["evaluateLowSampleCountPercentiles"] == "evaluate", resource.name
    assert resource.inputs["metricName"] == "Latency", resource.name


def test_percentiles_never_in_statistic(alarms):
    for name, resource in alarms.items():
        assert not re.match(r"^p\d", str(resource.inputs.get("statistic", ""))), name
        for query in resource.inputs.get("metricQueries", []):
            if "metric" in query:
                assert query["metric"]["stat"] in ("Sum", "Maximum", "Average", "Minimum", "SampleCount"), name


def test_alarms_state_missing_data_policy(alarms):
    assert len(alarms) >= 8
    for name, resource in alarms.items():
        assert resource.inputs.get("treatMissingData") in MISSING_DATA_POLICIES, f"{name} leaves missing data implicit"


def test_alarms_need_several_datapoints(alarms):
    for name, resource in alarms.items():
        periods = resource.inputs.get("evaluationPeriods")
        datapoints = resource.inputs.get("datapointsToAlarm")
        assert datapoints is not None, f"{name} has no datapoints_to_alarm"
        # One breaching datapoint (one slow request at night) must never be enough.
        assert 2 <= datapoints <= periods, f"{name}: {datapoints} of {periods}"


def test_quiet_periods_not_breaching(alarms):
    for key in ("api-5xx-rate", "api-4xx-rate", "api-latency-p99", "function-errors"):
        resource = alarm(alarms, key)
        assert resource.inputs["treatMissingData"] == "notBreaching", resource.name


def test_alarm_actions_notify_topic(observability_run, alarms):
    topic_arn = observability_run.one(TOPIC).state["arn"]
    for name, resource in alarms.items():
        assert resource.inputs["alarmActions"] == [topic_arn], name
        assert resource.inputs["okActions"] == [topic_arn], name


def test_alarm_thresholds_from_settings():
    run = run_observability(config={"error5xxRatePercent": "7", "error4xxRatePercent": "40", "latencyP99Ms": "1500"})
    by_name = {a.inputs["name"]: a for a in run.of_type(ALARM)}
    assert by_name[naming.resource_name(ENVIRONMENT, "api-5xx-rate")].inputs["threshold"] == 7
    assert by_name[naming.resource_name(ENVIRONMENT, "api-4xx-rate")].inputs["threshold"] == 40
    assert by_name[naming.resource_name(ENVIRONMENT, "api-latency-p99")].inputs["threshold"] == 1500


def test_default_thresholds(alarms):
    assert alarm(alarms, "api-5xx-rate").inputs["threshold"] == 5
    assert alarm(alarms, "api-4xx-rate").inputs["threshold"] == 25
    assert alarm(alarms, "api-latency-p99").inputs["threshold"] == 2000


def test_dead_letter_queue_alarm_fires_on_any_message(alarms):
    resource = alarm(alarms, "dead-letter-queue-not-empty")
    assert resource.inputs["metricName"] == "ApproximateNumberOfMessagesVisible", resource.name
    assert resource.inputs["statistic"] == "Maximum", resource.name
    assert resource.inputs["comparisonOperator"] == "GreaterThanThreshold", resource.name
    assert resource.inputs["threshold"] == 0, resource.name
    assert resource.inputs["dimensions"] == {"QueueName": UPSTREAM_VALUES[outputs.DEAD_LETTER_QUEUE_NAME]}


def test_table_system_error_alarm_sums_every_operation(alarms):
    resource = alarm(alarms, "table-system-errors")
    operations = {
        dimensions["Operation"] for _, name, dimensions, _ in alarm_metrics(resource) if name == "SystemErrors"
    }
    assert operations == FUNCTION_TABLE_OPERATIONS, resource.name
    expression = next(q["expression"] for q in resource.inputs["metricQueries"] if q.get("returnData"))
    for query in resource.inputs["metricQueries"]:
        if "metric" in query:
            assert f"FILL({query['id']}, 0)" in expression, f"{resource.name} leaves out {query['id']}"


def test_table_operations_match_function_calls():
    calls = set()
    for source in FUNCTION_DIR.glob("*.py"):
        calls.update(re.findall(r"\.dynamodb\.([a-z_]+)\(", source.read_text(encoding="utf-8")))
    operations = {"".join(part.title() for part in call.split("_")) for call in calls}
    assert operations, "found no DynamoDB calls in the function code"
    assert operations == FUNCTION_TABLE_OPERATIONS
    assert set(metrics.TABLE_OPERATIONS) == FUNCTION_TABLE_OPERATIONS


def test_alarm_names_output_lists_every_alarm(observability_run, alarms):
    assert sorted(observability_run.outputs[outputs.ALARM_NAMES]) == sorted(alarms)


# --- dashboard -----------------------------------------------------------------------------


def test_dashboard_body_is_json_with_widgets(observability_run):
    dashboard = observability_run.one(DASHBOARD)
    assert dashboard.inputs["dashboardName"] == naming.resource_name(ENVIRONMENT, "overview"), dashboard.name
    widgets = dashboard_widgets(observability_run)
    assert widgets, "dashboard has no widgets"
    for widget in widgets:
        for key in ("type", "x", "y", "width", "height", "properties"):
            assert key in widget, f"widget {widget.get('properties', {}).get('title')!r} lacks {key}"
        assert widget["x"] + widget["width"] <= 24, widget["properties"].get("title")


def test_dashboard_metrics_exist_for_real_resources(observability_run):
    expected = expected_dimension_values(UPSTREAM_VALUES)
    for widget in dashboard_widgets(observability_run):
        if widget["type"] != "metric":
            continue
        title = widget["properties"]["title"]
        assert widget["properties"]["region"] == naming.REGION, title
        for namespace, name, dimensions, _ in widget_metrics(widget):
            check_metric(f"widget {title!r}", namespace, name, dimensions, expected)


def test_dashboard_shows_required_metrics(observability_run):
    plotted = set()
    for widget in dashboard_widgets(observability_run):
        if widget["type"] == "metric":
            plotted.update((namespace, name, stat) for namespace, name, _, stat in widget_metrics(widget))
    names = {(namespace, name) for namespace, name, _ in plotted}
    for stat in ("p50", "p90", "p99"):
        assert ("AWS/ApiGateway", "Latency", stat) in plotted, f"no API latency {stat}"
    required = {
        ("AWS/ApiGateway", "Count"),
        ("AWS/ApiGateway", "4XXError"),
        ("AWS/ApiGateway", "5XXError"),
        ("AWS/ApiGateway", "IntegrationLatency"),
        ("AWS/Lambda", "Invocations"),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/Lambda", "Duration"),
        ("AWS/Lambda", "ConcurrentExecutions"),
        ("AWS/DynamoDB", "SuccessfulRequestLatency"),
        ("AWS/DynamoDB", "ThrottledRequests"),
        ("AWS/DynamoDB", "ConsumedReadCapacityUnits"),
        ("AWS/DynamoDB", "ConsumedWriteCapacityUnits"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage"),
    }
    required |= {(metrics.NAMESPACE, name) for name in function_contract.BUSINESS_METRICS}
    assert not required - names, f"dashboard lacks {sorted(required - names)}"


def test_dashboard_business_metrics_match_function_names():
    brief = {
        "UpdatesCreated",
        "UpdatesDuplicate",
        "UpdatesQueued",
        "UpdatesRejected",
        "StatusLookups",
        "StatusNotFound",
    }
    assert brief <= set(metrics.BUSINESS_METRICS)
    assert tuple(function_contract.BUSINESS_METRICS) == metrics.BUSINESS_METRICS
    assert metrics.NAMESPACE == "LogisticsTracking"
    assert metrics.dimensions(ENVIRONMENT) == {"service": "tracking-api", "environment": ENVIRONMENT}


def test_dashboard_alarm_widget_lists_every_alarm(observability_run):
    alarm_widgets = [w for w in dashboard_widgets(observability_run) if w["type"] == "alarm"]
    assert len(alarm_widgets) == 1
    listed = alarm_widgets[0]["properties"]["alarms"]
    arns = [a.state["arn"] for a in observability_run.of_type(ALARM)]
    assert sorted(listed) == sorted(arns)


def test_dashboard_log_widgets_read_upstream_log_groups(observability_run):
    log_widgets = [w for w in dashboard_widgets(observability_run) if w["type"] == "log"]
    sources = sorted(re.match(r"^SOURCE '([^']+)' \|", w["properties"]["query"]).group(1) for w in log_widgets)
    assert sources == sorted(
        [UPSTREAM_VALUES[outputs.ACCESS_LOG_GROUP_NAME], UPSTREAM_VALUES[outputs.FUNCTION_LOG_GROUP_NAME]]
    )


def test_dashboard_access_log_query_uses_logged_fields(observability_run):
    access_fields = {key for key, _ in api_definition.ACCESS_LOG_FIELDS}
    widget = next(
        w
        for w in dashboard_widgets(observability_run)
        if w["type"] == "log" and UPSTREAM_VALUES[outputs.ACCESS_LOG_GROUP_NAME] in w["properties"]["query"]
    )
    fields_clause = widget["properties"]["query"].split("|")[1].strip()
    assert fields_clause.startswith("fields "), fields_clause
    used = {name.strip() for name in fields_clause[len("fields ") :].split(",")} - {"@timestamp"}
    assert used <= access_fields, f"query reads fields the access log never writes: {sorted(used - access_fields)}"


# --- exports, provider, tags, Outputs as text ----------------------------------------------


def test_exports_exactly_observability_outputs(observability_run):
    assert set(observability_run.outputs) == set(outputs.BY_LAYER["observability"])
    assert observability_run.outputs[outputs.ALARM_TOPIC_ARN] == observability_run.one(TOPIC).state["arn"]
    assert observability_run.outputs[outputs.DASHBOARD_NAME] == naming.resource_name(ENVIRONMENT, "overview")


def test_every_resource_uses_observability_provider(observability_run):
    for resource in observability_run.resources:
        if resource.type.startswith("aws:"):
            assert resource.provider and "::aws-observability::" in resource.provider, resource.name


def test_taggable_resources_carry_standard_tags(observability_run):
    expected = standard_tags(
        {"environment": ENVIRONMENT, "owner": "platform-team", "costCenter": "logistics"}, "observability"
    )
    tagged = 0
    for resource in observability_run.resources:
        if not resource.type.startswith("aws:") or not hasattr(sdk_class(resource.type), "tags"):
            continue
        tagged += 1
        assert resource.inputs.get("tags") == expected, resource.name
    assert tagged >= 10, "expected the key, the topic and every alarm to carry tags"


def test_no_output_rendered_as_text(observability_run):
    for resource in observability_run.resources:
        for text in walk_strings(resource.inputs):
            assert "Calling __str__ on an Output" not in text, resource.name
            assert "<pulumi.output.Output" not in text, resource.name


# --- real upstream exports -----------------------------------------------------------------


def test_observability_reads_real_upstream_exports(run_layer, upstream_outputs):
    upstream = upstream_outputs("observability")
    values = {}
    for exports in upstream.values():
        values.update(exports)
    run = run_layer("observability", upstream=upstream)
    expected = expected_dimension_values(values)
    assert values[outputs.REST_API_NAME] == naming.resource_name(ENVIRONMENT, "api")
    for resource in run.of_type(ALARM):
        for namespace, metric, dimensions, _ in alarm_metrics(resource):
            check_metric(resource.name, namespace, metric, dimensions, expected)
    for widget in dashboard_widgets(run):
        if widget["type"] == "metric":
            for namespace, metric, dimensions, _ in widget_metrics(widget):
                check_metric(widget["properties"]["title"], namespace, metric, dimensions, expected)


def test_function_publishes_dashboard_namespace(compute_run):
    function = compute_run.one("aws:lambda/function:Function")
    variables = function.inputs["environment"]["variables"]
    assert variables.get("POWERTOOLS_METRICS_NAMESPACE") == metrics.NAMESPACE, function.name
    assert variables.get("POWERTOOLS_SERVICE_NAME") == metrics.SERVICE, function.name
