"""The function's configuration: every variable is checked at cold start and named when wrong."""

import json

import pytest

from shared import definitions
from tracking import contract
from tracking.config import load_config
from tracking.errors import ConfigurationError


def _environment(**api_config) -> dict:
    return {
        contract.ENV_ENVIRONMENT: "dev",
        contract.ENV_DATABASE_CONNECTION: definitions.database_connection("logistics-tracking-dev-updates"),
        contract.ENV_API_CONFIG: json.dumps({**definitions.API_CONFIG, **api_config}),
        contract.ENV_FEATURE_FLAGS: json.dumps(definitions.FEATURE_FLAGS),
        contract.ENV_DEAD_LETTER_QUEUE_URL: "http://127.0.0.1:1/000000000000/parked",
        contract.ENV_PAGE_TOKEN_KEY_PARAMETER: "/logistics-tracking/dev/page-token-key",
    }


def test_retention_unset_keeps_items_forever():
    assert load_config(_environment()).item_retention_days is None


def test_retention_from_api_config():
    assert load_config(_environment(item_retention_days=400)).item_retention_days == 400


@pytest.mark.parametrize("value", [0, -1, 1.5, "30", True])
def test_retention_invalid_is_named(value):
    with pytest.raises(ConfigurationError) as caught:
        load_config(_environment(item_retention_days=value))

    assert "item_retention_days" in str(caught.value)
    assert contract.ENV_API_CONFIG in str(caught.value)


def test_missing_variable_is_named():
    environment = _environment()
    del environment[contract.ENV_DEAD_LETTER_QUEUE_URL]

    with pytest.raises(ConfigurationError) as caught:
        load_config(environment)

    assert contract.ENV_DEAD_LETTER_QUEUE_URL in str(caught.value)
