"""The emulator provisions what the foundation stack declares, in an account of its own."""

import json

import boto3
import pytest

from devkit.local.emulator import MOTO_DEFAULT_ACCOUNT_ID, start_emulator
from shared import definitions, naming
from shared.contract import function_contract


@pytest.fixture(scope="module")
def emulator():
    running = start_emulator("dev")
    yield running
    running.stop()


def test_endpoint_on_loopback(emulator):
    assert emulator.endpoint_url.startswith("http://127.0.0.1:")


def test_table_matches_definitions(emulator):
    table = emulator.client("dynamodb").describe_table(TableName=emulator.table_name)["Table"]
    expected = definitions.boto3_table_arguments(definitions.table_name("dev"))

    assert table["TableName"] == expected["TableName"]
    assert table["KeySchema"] == expected["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(expected["AttributeDefinitions"], key=str)
    assert table["BillingModeSummary"]["BillingMode"] == definitions.TABLE_BILLING_MODE


def test_queue_matches_definitions(emulator):
    attributes = emulator.client("sqs").get_queue_attributes(
        QueueUrl=emulator.queue_url, AttributeNames=["All"]
    )

    assert emulator.queue_name == definitions.queue_name("dev")
    for name, value in definitions.boto3_queue_attributes().items():
        assert attributes["Attributes"][name] == value, name


def test_every_parameter_created(emulator):
    ssm = emulator.client("ssm")
    plain = definitions.plain_parameter_values(emulator.table_name)

    for spec in definitions.PARAMETERS:
        name = naming.parameter_name("dev", spec.key)
        parameter = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        assert parameter["Type"] == spec.type, name
        if spec.type == "String":
            assert parameter["Value"] == plain[spec.key], name
        else:
            assert len(parameter["Value"]) >= 32, name


def test_page_token_key_random_per_start(emulator):
    name = emulator.parameter_names[definitions.PAGE_TOKEN_KEY_PARAMETER.key]
    other = start_emulator("dev")
    try:
        first = emulator.client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
        second = other.client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    finally:
        other.stop()

    assert first != second


def test_account_isolated_from_moto_default(emulator, moto_endpoint):
    table = emulator.client("dynamodb").describe_table(TableName=emulator.table_name)["Table"]
    emulator.client("dynamodb").put_item(
        TableName=emulator.table_name, Item={"tracking_id": {"S": "ISOLATION"}, "timestamp": {"S": "0"}}
    )
    default_account = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name=naming.REGION)
    default_tables = default_account.list_tables()["TableNames"]
    # Other tests of this process may have created a table of the same name in moto's default account.
    seen_there = emulator.table_name in default_tables and default_account.get_item(
        TableName=emulator.table_name, Key={"tracking_id": {"S": "ISOLATION"}, "timestamp": {"S": "0"}}
    ).get("Item")

    assert emulator.account_id != MOTO_DEFAULT_ACCOUNT_ID
    assert f":{emulator.account_id}:table/" in table["TableArn"]
    assert f"/{emulator.account_id}/" in emulator.queue_url
    assert not seen_there


def test_function_environment_sets_every_setting(emulator):
    environment = emulator.function_environment
    names = [value for key, value in vars(function_contract).items() if key.startswith("ENV_")]

    assert names
    for name in names:
        assert environment.get(name), name
    assert environment[function_contract.ENV_DATABASE_CONNECTION] == definitions.database_connection(
        emulator.table_name
    )
    assert json.loads(environment[function_contract.ENV_API_CONFIG]) == definitions.API_CONFIG
    assert json.loads(environment[function_contract.ENV_FEATURE_FLAGS]) == definitions.FEATURE_FLAGS
    assert environment[function_contract.ENV_DEAD_LETTER_QUEUE_URL] == emulator.queue_url


def test_function_environment_stays_local(emulator):
    environment = emulator.function_environment

    assert environment["AWS_ENDPOINT_URL"] == emulator.endpoint_url
    assert environment["AWS_EC2_METADATA_DISABLED"] == "true"
    assert environment["AWS_REGION"] == naming.REGION
    assert environment["AWS_ACCESS_KEY_ID"] == emulator.credentials[0]
    assert "AWS_PROFILE" in emulator.removed_variables


def test_stop_twice_is_harmless():
    running = start_emulator("staging")
    running.stop()
    running.stop()

    assert running.table_name == definitions.table_name("staging")
