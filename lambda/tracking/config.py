"""The function's settings, read once from its environment at cold start."""

import json
import os
from dataclasses import dataclass
from typing import Mapping, Optional
from urllib.parse import parse_qs, urlparse

from tracking import contract
from tracking.errors import ConfigurationError


@dataclass(frozen=True)
class FunctionConfig:
    environment: str
    table_name: str
    region: Optional[str]
    dead_letter_queue_url: str
    page_token_key_parameter: str
    parameter_max_age_seconds: int
    default_history_limit: int
    max_history_limit: int
    park_failed_writes: bool
    history_enabled: bool
    item_retention_days: Optional[int] = None


def _require(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is missing; the compute stack sets it")
    return value


def _json_object(env: Mapping[str, str], name: str) -> dict:
    raw = _require(env, name)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"environment variable {name} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ConfigurationError(f"environment variable {name} must be a JSON object, got {raw!r}")
    return value


def _flag(flags: dict, name: str, env: Mapping[str, str]) -> bool:
    value = flags.get(name, True)
    if not isinstance(value, bool):
        raise ConfigurationError(
            f"feature flag {name} in {contract.ENV_FEATURE_FLAGS} must be true or false, got {value!r}"
        )
    return value


def retention_days(api: dict) -> Optional[int]:
    """Return the API configuration's item retention in days, or None to keep items forever."""
    value = api.get("item_retention_days")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(
            f"item_retention_days in {contract.ENV_API_CONFIG} must be a whole number of days of 1 or more, "
            f"got {value!r}"
        )
    return value


def parse_database_connection(connection: str) -> tuple:
    """Return (table name, region) from ``dynamodb://<table>?region=<region>``."""
    parsed = urlparse(connection)
    if parsed.scheme != "dynamodb" or not parsed.netloc:
        raise ConfigurationError(
            f"database connection {connection!r} is invalid: expected dynamodb://<table>?region=<region>"
        )
    region = parse_qs(parsed.query).get("region", [None])[0]
    return parsed.netloc, region


def load_config(env: Optional[Mapping[str, str]] = None) -> FunctionConfig:
    """Build the configuration from environment variables, failing with the variable named."""
    env = os.environ if env is None else env
    table_name, region = parse_database_connection(_require(env, contract.ENV_DATABASE_CONNECTION))
    api = _json_object(env, contract.ENV_API_CONFIG)
    flags = _json_object(env, contract.ENV_FEATURE_FLAGS)
    max_age = env.get(contract.ENV_PARAMETER_MAX_AGE, "300")
    try:
        parameter_max_age = int(max_age)
    except ValueError:
        raise ConfigurationError(
            f"environment variable {contract.ENV_PARAMETER_MAX_AGE} must be whole seconds, got {max_age!r}"
        ) from None
    return FunctionConfig(
        environment=_require(env, contract.ENV_ENVIRONMENT),
        table_name=table_name,
        region=region,
        dead_letter_queue_url=_require(env, contract.ENV_DEAD_LETTER_QUEUE_URL),
        page_token_key_parameter=_require(env, contract.ENV_PAGE_TOKEN_KEY_PARAMETER),
        parameter_max_age_seconds=parameter_max_age,
        default_history_limit=int(api.get("default_history_limit", contract.DEFAULT_HISTORY_LIMIT)),
        max_history_limit=int(api.get("max_history_limit", contract.MAX_HISTORY_LIMIT)),
        park_failed_writes=_flag(flags, "park_failed_writes", env),
        history_enabled=_flag(flags, "history", env),
        item_retention_days=retention_days(api),
    )
