"""Fixtures for the function tests: a provisioned moto server, events, a Lambda context.

These tests also run on Python 3.9 with Powertools 3.23.0, so they import nothing from
the stacks or the Pulumi SDK.
"""

import copy
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import boto3
import pytest

from shared import definitions, naming, settings

EVENTS_DIR = Path(__file__).resolve().parent.parent / "data" / "samples" / "apigw-events"
ENVIRONMENT = "dev"


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.function)


@dataclass
class LambdaContext:
    function_name: str = naming.function_name(ENVIRONMENT)
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:us-west-2:123456789012:function:{naming.function_name(ENVIRONMENT)}"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        # A fresh invocation with the compute stack's default timeout.
        return settings.BY_KEY["timeout"].default * 1000


@dataclass
class Emulated:
    endpoint: str
    table_name: str
    queue_url: str
    token_parameter: str

    def client(self, service: str):
        return boto3.client(service, endpoint_url=self.endpoint, region_name=naming.REGION)

    def stored_items(self, tracking_id: str = None) -> list:
        dynamodb = self.client("dynamodb")
        items = dynamodb.scan(TableName=self.table_name, ConsistentRead=True)["Items"]
        return [i for i in items if tracking_id is None or i["tracking_id"]["S"] == tracking_id]

    def parked_count(self) -> int:
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def provision(endpoint: str, environment: str = ENVIRONMENT) -> tuple:
    """Create the table, queue and parameters from the same definitions the foundation stack uses."""
    session = boto3.session.Session(region_name=naming.REGION)
    table = definitions.table_name(environment)
    session.client("dynamodb", endpoint_url=endpoint).create_table(**definitions.boto3_table_arguments(table))
    queue_url = session.client("sqs", endpoint_url=endpoint).create_queue(
        QueueName=definitions.queue_name(environment), Attributes=definitions.boto3_queue_attributes()
    )["QueueUrl"]
    ssm = session.client("ssm", endpoint_url=endpoint)
    for key, value in definitions.plain_parameter_values(table).items():
        ssm.put_parameter(Name=naming.parameter_name(environment, key), Value=value, Type="String")
    token_parameter = naming.parameter_name(environment, definitions.PAGE_TOKEN_KEY_PARAMETER.key)
    ssm.put_parameter(Name=token_parameter, Value="test-signing-key-" + uuid.uuid4().hex, Type="SecureString")
    return table, queue_url, token_parameter


def function_environment(endpoint: str, table: str, queue_url: str, token_parameter: str) -> dict:
    from tracking import contract

    return {
        "AWS_ENDPOINT_URL": endpoint,
        contract.ENV_ENVIRONMENT: ENVIRONMENT,
        contract.ENV_DATABASE_CONNECTION: definitions.database_connection(table),
        contract.ENV_API_CONFIG: json.dumps(definitions.API_CONFIG),
        contract.ENV_FEATURE_FLAGS: json.dumps(definitions.FEATURE_FLAGS),
        contract.ENV_DEAD_LETTER_QUEUE_URL: queue_url,
        contract.ENV_PAGE_TOKEN_KEY_PARAMETER: token_parameter,
        contract.ENV_PARAMETER_MAX_AGE: "300",
    }


def reset_function_caches() -> None:
    """Forget the service, clients and cached parameters, as a new Lambda sandbox would."""
    from aws_lambda_powertools.utilities import parameters

    from tracking import app, aws
    from tracking.observability import metrics

    app.service.cache_clear()
    metrics.clear_metrics()
    aws.reset_clients()
    parameters.clear_caches()


@pytest.fixture
def emulated(clean_moto, monkeypatch):
    """Provision moto and point the function at it; yields the names the function uses."""
    table, queue_url, token_parameter = provision(clean_moto)
    for name, value in function_environment(clean_moto, table, queue_url, token_parameter).items():
        monkeypatch.setenv(name, value)
    reset_function_caches()
    yield Emulated(clean_moto, table, queue_url, token_parameter)
    reset_function_caches()


@pytest.fixture
def invoke():
    """Call the real handler with an API Gateway REST proxy event; return (status, body)."""
    from tracking import app

    template = json.loads((EVENTS_DIR / "powertools-ts_apigw-rest_iam-auth.json").read_text())

    def call(method: str, path: str, body=None, query: dict = None, raw_body: str = None, multi_query: dict = None):
        event = copy.deepcopy(template)
        event.update(resource=path, path=path, httpMethod=method, isBase64Encoded=False)
        event["requestContext"].update(
            resourcePath=path,
            httpMethod=method,
            path=f"/{ENVIRONMENT}{path}",
            stage=ENVIRONMENT,
            requestId=str(uuid.uuid4()),
        )
        event["body"] = raw_body
        if raw_body is None and body is not None:
            event["body"] = json.dumps(body)
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = multi_query or (
            {k: [v] for k, v in query.items()} if query else None
        )
        if query:
            event["requestContext"]["path"] += "?" + urlencode(query)
        response = app.handler(event, LambdaContext())
        return response["statusCode"], json.loads(response["body"])

    return call


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch):
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    os.environ.pop("AWS_PROFILE", None)
