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
ENV_TABLE_NAME = "TRACKING_TABLE_NAME"
ENV_DEAD_LETTER_QUEUE_URL = "TRACKING_DEAD_LETTER_QUEUE_URL"
ENV_API_CONFIG = "TRACKING_API_CONFIG"
ENV_FEATURE_FLAGS = "TRACKING_FEATURE_FLAGS"
ENV_DATABASE_CONNECTION = "TRACKING_DATABASE_CONNECTION"
ENV_PAGE_TOKEN_KEY_PARAMETER = "TRACKING_PAGE_TOKEN_KEY_PARAMETER"
ENV_PARAMETER_MAX_AGE = "TRACKING_PARAMETER_MAX_AGE_SECONDS"

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
