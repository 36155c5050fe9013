"""Definitions of the foundation's data resources, used by the stack and by the local emulator.

The foundation stack turns these into Pulumi resources and ``invoke local`` turns them
into boto3 calls against moto server, so the two cannot drift apart.
"""

import json
from dataclasses import dataclass
from typing import Optional

from shared import naming

TABLE_PARTITION_KEY = "tracking_id"
# Holds "<event time in UTC>#<content digest>", so two different events at the same
# instant are two items while an identical redelivery maps to the same key.
TABLE_SORT_KEY = "timestamp"
TABLE_BILLING_MODE = "PAY_PER_REQUEST"
TABLE_ATTRIBUTES = ((TABLE_PARTITION_KEY, "S"), (TABLE_SORT_KEY, "S"))

# SQS keeps a message at most 14 days; parked updates wait there for redrive.
QUEUE_MESSAGE_RETENTION_SECONDS = 14 * 24 * 60 * 60
QUEUE_VISIBILITY_TIMEOUT_SECONDS = 60

# DynamoDB's time to live reads this attribute: epoch seconds after which it may delete the item.
# The function writes it only when the foundation's itemRetentionDays setting is set.
TABLE_EXPIRY_ATTRIBUTE = "expires_at"

API_CONFIG = {"default_history_limit": 50, "max_history_limit": 100}
FEATURE_FLAGS = {"park_failed_writes": True, "history": True}


@dataclass(frozen=True)
class ParameterSpec:
    key: str  # last path segment under the environment's hierarchy
    type: str  # String or SecureString
    description: str


API_CONFIG_PARAMETER = ParameterSpec("api-config", "String", "Limits of the tracking API as JSON")
DATABASE_CONNECTION_PARAMETER = ParameterSpec(
    "database-connection", "String", "Connection string of the tracking table"
)
FEATURE_FLAGS_PARAMETER = ParameterSpec("feature-flags", "String", "Feature flags of the tracking API as JSON")
PAGE_TOKEN_KEY_PARAMETER = ParameterSpec(
    "page-token-key", "SecureString", "Key that signs GET /status history page tokens"
)
PARAMETERS = (API_CONFIG_PARAMETER, DATABASE_CONNECTION_PARAMETER, FEATURE_FLAGS_PARAMETER, PAGE_TOKEN_KEY_PARAMETER)


def table_name(environment: str) -> str:
    return naming.resource_name(environment, "updates")


def queue_name(environment: str) -> str:
    return naming.resource_name(environment, "parked-updates")


def database_connection(table: str, region: str = naming.REGION) -> str:
    """Return the connection string the function parses to find its table."""
    return f"dynamodb://{table}?region={region}"


def api_config(item_retention_days: Optional[int] = None) -> dict:
    """Return the API configuration the function reads, with the item retention when one is set."""
    config = dict(API_CONFIG)
    if item_retention_days is not None:
        config["item_retention_days"] = item_retention_days
    return config


def plain_parameter_values(table: str, region: str = naming.REGION, item_retention_days: Optional[int] = None) -> dict:
    """Return the value of every String parameter keyed by parameter key."""
    return {
        API_CONFIG_PARAMETER.key: json.dumps(api_config(item_retention_days), sort_keys=True),
        DATABASE_CONNECTION_PARAMETER.key: database_connection(table, region),
        FEATURE_FLAGS_PARAMETER.key: json.dumps(FEATURE_FLAGS, sort_keys=True),
    }


def boto3_table_arguments(name: str) -> dict:
    """Return ``create_table`` arguments for the same table the foundation stack declares."""
    return {
        "TableName": name,
        "BillingMode": TABLE_BILLING_MODE,
        "KeySchema": [
            {"AttributeName": TABLE_PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": TABLE_SORT_KEY, "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in TABLE_ATTRIBUTES],
    }


def boto3_queue_attributes() -> dict:
    return {
        "MessageRetentionPeriod": str(QUEUE_MESSAGE_RETENTION_SECONDS),
        "VisibilityTimeout": str(QUEUE_VISIBILITY_TIMEOUT_SECONDS),
        "SqsManagedSseEnabled": "true",
    }
