"""`invoke redrive --local` against a running `invoke local`, both as real subprocesses."""

import datetime
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "lambda"))

from tracking.parking import parked_message  # noqa: E402


@pytest.fixture
def local_api(tmp_path):
    """Start `invoke local --port 0` and yield its state file once it is ready; stop it by PID."""
    state_file = tmp_path / "local-api.json"
    env = dict(os.environ, TRACKING_LOCAL_STATE_FILE=str(state_file))
    process = subprocess.Popen(
        [sys.executable, "-m", "invoke", "local", "--port", "0"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        for line in process.stdout:
            if line.startswith("Local API ready at") or time.monotonic() > deadline:
                break
        assert state_file.exists(), "invoke local did not write its state file"
        yield env, json.loads(state_file.read_text())
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert not state_file.exists(), "invoke local left its state file behind"


def _redrive(env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "invoke", "redrive", "--local"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_redrive_local_stores_parked_update_once(local_api):
    env, state = local_api
    session = boto3.session.Session(state["access_key_id"], state["secret_access_key"], state["session_token"],
                                    region_name="us-west-2")
    sqs = session.client("sqs", endpoint_url=state["endpoint"])
    dynamodb = session.client("dynamodb", endpoint_url=state["endpoint"])
    update = {"tracking_id": "REDRIVE1", "timestamp": "2024-05-01T12:00:00.000Z", "status": "delivered"}
    for _ in range(2):  # parked twice, as after a client retry during an outage
        sqs.send_message(QueueUrl=state["queue_url"],
                         MessageBody=parked_message(update, "throttled", "req-1", "2024-05-01T12:00:01.000Z"))

    first = _redrive(env)
    second = _redrive(env)

    assert first.returncode == 0, first.stderr
    assert "received 2, created 1, duplicate 1, failed 0, invalid 0" in first.stdout
    assert "received 0, created 0" in second.stdout
    items = dynamodb.scan(TableName=state["table_name"])["Items"]
    assert [i["tracking_id"]["S"] for i in items] == ["REDRIVE1"]


def test_redrive_local_without_running_api_explains(tmp_path):
    env = dict(os.environ, TRACKING_LOCAL_STATE_FILE=str(tmp_path / "absent.json"))

    done = _redrive(env)

    assert done.returncode != 0
    assert "no local API is running" in done.stderr + done.stdout


def test_redrive_local_applies_the_configured_retention(local_api):
    env, state = local_api
    session = boto3.session.Session(state["access_key_id"], state["secret_access_key"], state["session_token"],
                                    region_name="us-west-2")
    ssm = session.client("ssm", endpoint_url=state["endpoint"])
    config = json.loads(ssm.get_parameter(Name=state["api_config_parameter"])["Parameter"]["Value"])
    ssm.put_parameter(Name=state["api_config_parameter"], Value=json.dumps(dict(config, item_retention_days=7)),
                      Type="String", Overwrite=True)
    update = {"tracking_id": "REDRIVE2", "timestamp": "2024-05-01T12:00:00.000Z", "status": "delivered"}
    message = parked_message(update, "throttled", "req-2", "2024-05-01T12:00:01.000Z")
    session.client("sqs", endpoint_url=state["endpoint"]).send_message(QueueUrl=state["queue_url"], MessageBody=message)
    done = _redrive(env)

    assert done.returncode == 0, done.stderr
    (item,) = session.client("dynamodb", endpoint_url=state["endpoint"]).scan(TableName=state["table_name"])["Items"]
    # Counted from the arrival the API recorded when it parked the update, not from the redrive.
    parked_at = datetime.datetime(2024, 5, 1, 12, 0, 1, tzinfo=datetime.timezone.utc)
    assert int(item["expires_at"]["N"]) == int(parked_at.timestamp()) + 7 * 86400
    assert item["received_at"]["S"] == "2024-05-01T12:00:01.000Z"


def test_stopped_run_report_exits_1(capsys):
    from invoke import Exit

    from devkit.redrive import print_report

    report = {"received": 5, "created": 0, "duplicate": 0, "failed": 5, "invalid": 0,
              "errors": ["message m1: throttled"],
              "stopped": "stopped after 5 failed writes in a row: the table is still failing"}

    with pytest.raises(Exit) as caught:
        print_report(report, "local API")

    assert caught.value.code == 1
    assert "stopped after 5 failed writes in a row" in str(caught.value.message)
    assert "failed 5" in capsys.readouterr().out


_STATE = {
    "base_url": "http://127.0.0.1:1/dev", "endpoint": "http://127.0.0.1:2", "access_key_id": "k",
    "secret_access_key": "s", "table_name": "t", "queue_url": "http://127.0.0.1:2/q", "api_config_parameter": "/p",
}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "cannot be read"),
        ('"base_url endpoint access_key_id"', "contains a JSON str"),
        ('{"base_url": "x"}', "lacks endpoint"),
        (json.dumps(dict(_STATE, endpoint=None)), "lacks endpoint"),
        (json.dumps(dict(_STATE, access_key_id="")), "lacks access_key_id"),
        (json.dumps(dict(_STATE, endpoint="https://sqs.us-west-2.amazonaws.com")), "is not on this machine"),
    ],
    ids=["not-json", "string", "missing", "null-endpoint", "empty-key", "outward-endpoint"],
)
def test_redrive_local_with_a_damaged_state_file_explains(tmp_path, content, expected):
    state_file = tmp_path / "local-api.json"
    state_file.write_text(content, encoding="utf-8")
    env = dict(os.environ, TRACKING_LOCAL_STATE_FILE=str(state_file))

    done = _redrive(env)

    assert done.returncode == 1
    assert expected in done.stderr
    assert "start `invoke local` again" in done.stderr
    assert "Traceback" not in done.stderr


def test_redrive_by_name_finds_the_environment_without_pulumi(clean_moto, monkeypatch, capsys):
    from devkit import redrive as parked
    from tests.function.conftest import provision

    table, queue_url, _ = provision(clean_moto, "staging")
    # Every client of this process goes to the emulator, as AWS_ENDPOINT_URL makes boto3 do.
    monkeypatch.setenv("AWS_ENDPOINT_URL", clean_moto)
    update = {"tracking_id": "BYNAME1", "timestamp": "2024-05-01T12:00:00.000Z", "status": "delivered"}
    boto3.client("sqs").send_message(
        QueueUrl=queue_url, MessageBody=parked_message(update, "throttled", "req-3", "2024-05-01T12:00:01.000Z")
    )

    target = parked.named_target("staging")
    report = parked.redrive_queue(target, wait_seconds=0)

    assert (target.table_name, target.queue_url) == (table, queue_url)
    assert (report["received"], report["created"]) == (1, 1)


def test_redrive_by_name_without_the_queue_explains(clean_moto, monkeypatch):
    from invoke import Exit

    from devkit import redrive as parked

    monkeypatch.setenv("AWS_ENDPOINT_URL", clean_moto)

    with pytest.raises(Exit) as caught:
        parked.named_target("prod")

    assert "queue logistics-tracking-prod-parked-updates could not be found" in str(caught.value.message)
    assert "allow sqs:GetQueueUrl" in str(caught.value.message)
