"""What the function writes to CloudWatch: EMF metrics and structured JSON logs."""

import io
import json

import pytest

from tracking import contract
from tracking.observability import logger

UPDATE = {"tracking_id": "OBS1", "timestamp": "2024-06-01T08:00:00Z", "status": "picked_up"}


def _records(text: str) -> list:
    records = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            records.append(json.loads(line))
    return records


def _metrics(records: list) -> dict:
    """Return {metric name: (namespace, dimension names, value)} from EMF records."""
    found = {}
    for record in records:
        if "_aws" not in record:
            continue
        for directive in record["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                found[metric["Name"]] = (directive["Namespace"], directive["Dimensions"][0], record[metric["Name"]])
    return found


@pytest.fixture
def log_output():
    """Redirect the Powertools logger's handler into a buffer for one test."""
    buffer = io.StringIO()
    previous = logger.registered_handler.setStream(buffer)
    yield buffer
    logger.registered_handler.setStream(previous)


def test_metrics_carry_namespace_service_and_environment(emulated, invoke, capsys):
    invoke("POST", "/track", UPDATE)

    metrics = _metrics(_records(capsys.readouterr().out))

    namespace, dimensions, value = metrics[contract.METRIC_UPDATES_CREATED]
    assert namespace == "LogisticsTracking"
    assert set(dimensions) == {"service", contract.METRIC_ENVIRONMENT_DIMENSION}
    assert value == [1.0] or value == 1.0


def test_metrics_count_each_outcome(emulated, invoke, capsys):
    invoke("POST", "/track", UPDATE)
    invoke("POST", "/track", UPDATE)
    invoke("POST", "/track", dict(UPDATE, status="lost"))
    invoke("GET", "/status", query={"tracking_id": "NOPE"})

    metrics = _metrics(_records(capsys.readouterr().out))

    for name in (
        contract.METRIC_UPDATES_CREATED,
        contract.METRIC_UPDATES_DUPLICATE,
        contract.METRIC_UPDATES_REJECTED,
        contract.METRIC_STATUS_LOOKUPS,
        contract.METRIC_STATUS_NOT_FOUND,
    ):
        assert name in metrics, f"{name} was not published"


def test_logs_use_request_id_as_correlation_id(emulated, invoke, log_output):
    invoke("POST", "/track", dict(UPDATE, status="lost"))

    logs = [r for r in _records(log_output.getvalue()) if "level" in r]

    rejected = [r for r in logs if r["message"] == "request rejected"]
    assert rejected, logs
    assert rejected[0]["correlation_id"], rejected[0]
    assert rejected[0]["service"] == "tracking-api"


def test_logs_never_contain_the_signing_key(emulated, invoke, capsys, log_output):
    key = emulated.client("ssm").get_parameter(Name=emulated.token_parameter, WithDecryption=True)["Parameter"]["Value"]
    for minute in range(3):
        invoke("POST", "/track", dict(UPDATE, timestamp=f"2024-06-01T08:0{minute}:00Z"))
    _, page = invoke("GET", "/status", query={"tracking_id": "OBS1", "history": "true", "limit": "1"})
    invoke("GET", "/status", query={"tracking_id": "OBS1", "history": "true", "next_token": page["next_token"]})
    invoke("GET", "/status", query={"tracking_id": "OBS1", "history": "true", "next_token": page["next_token"] + "x"})

    assert log_output.getvalue(), "the logger wrote nothing, so the check below would prove nothing"
    assert key not in capsys.readouterr().out
    assert key not in log_output.getvalue()
