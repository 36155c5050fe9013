"""Names and schemas shared by the function, the infrastructure and the local API.

This module uses the standard library only, so the stacks can load it without
the function's dependencies. The JSON Schemas beside it are draft-04, the only
draft API Gateway models accept.
"""

import json
from pathlib import Path

SCHEMA_DIR = Path(__file__).parent / "schemas"

# Environment variables the compute stack sets and the function reads.
ENV_ENVIRONMENT = "TRACKING_ENVIRONMENT"
ENV_DEAD_LETTER_QUEUE_URL = "TRACKING_DEAD_LETTER_QUEUE_URL"
ENV_API_CONFIG = "TRACKING_API_CONFIG"
ENV_FEATURE_FLAGS = "TRACKING_FEATURE_FLAGS"
ENV_DATABASE_CONNECTION = "TRACKING_DATABASE_CONNECTION"
ENV_PAGE_TOKEN_KEY_PARAMETER = "TRACKING_PAGE_TOKEN_KEY_PARAMETER"  # noqa: S105 - a variable name, not a secret
ENV_PARAMETER_MAX_AGE = "TRACKING_PARAMETER_MAX_AGE_SECONDS"

# Business metrics the function emits (namespace and service come from the Powertools
# environment variables); the dashboard and the alarms name the same constants.
METRIC_UPDATES_CREATED = "UpdatesCreated"
METRIC_UPDATES_DUPLICATE = "UpdatesDuplicate"
METRIC_UPDATES_QUEUED = "UpdatesQueued"
METRIC_UPDATES_REJECTED = "UpdatesRejected"
METRIC_STATUS_LOOKUPS = "StatusLookups"
METRIC_STATUS_NOT_FOUND = "StatusNotFound"
METRIC_PARKING_FAILED = "ParkingFailed"
BUSINESS_METRICS = (
    METRIC_UPDATES_CREATED,
    METRIC_UPDATES_DUPLICATE,
    METRIC_UPDATES_QUEUED,
    METRIC_UPDATES_REJECTED,
    METRIC_STATUS_LOOKUPS,
    METRIC_STATUS_NOT_FOUND,
    METRIC_PARKING_FAILED,
)
# Dimension every business metric carries besides Powertools' own "service".
METRIC_ENVIRONMENT_DIMENSION = "environment"

STATUSES = (
    "label_created",
    "picked_up",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "available_for_pickup",
    "delivery_attempted",
    "exception",
    "returned_to_sender",
    "cancelled",
    "unknown",
)

MAX_BATCH_SIZE = 25
DEFAULT_HISTORY_LIMIT = 50
MAX_HISTORY_LIMIT = 100

TRACK_PATH = "/track"
STATUS_PATH = "/status"

# (method, path) of every route, in the order API Gateway and the local API declare them.
ROUTES = (("POST", TRACK_PATH), ("GET", STATUS_PATH))

# Query string parameters of GET /status, and whether API Gateway requires each one.
STATUS_QUERY_PARAMETERS = {"tracking_id": True, "history": False, "limit": False, "next_token": False}

# Schema file of each API Gateway model, keyed by model name (alphanumeric, as API Gateway requires).
MODEL_FILES = {
    "TrackRequest": "track_request.json",
    "UpdateResult": "update_result.json",
    "BatchResult": "batch_result.json",
    "StatusResult": "status_result.json",
    "Error": "error.json",
}
STATUS_QUERY_SCHEMA_FILE = "status_query.json"


def load_schema(file_name: str) -> dict:
    """Read one JSON Schema from the schema folder."""
    return json.loads((SCHEMA_DIR / file_name).read_text(encoding="utf-8"))
