"""`invoke redrive --local` against a running `invoke local`, both as real subprocesses."""

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
    before = int(time.time())

    done = _redrive(env)

    assert done.returncode == 0, done.stderr
    (item,) = session.client("dynamodb", endpoint_url=state["endpoint"]).scan(TableName=state["table_name"])["Items"]
    # Counted from the redrive, when the table took the item, like an update the API stores itself.
    assert before + 7 * 86400 <= int(item["expires_at"]["N"]) <= int(time.time()) + 7 * 86400
