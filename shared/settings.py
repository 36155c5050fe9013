"""Every stack setting: its key, default, allowed range and meaning, validated in one place.

Settings live in each stack's ``Pulumi.<env>.yaml`` under the ``tracking:`` namespace,
so one key means the same thing in all four projects. ``read_settings`` takes the raw
strings Pulumi returns and either returns typed values or raises ``SettingError``
naming the key, the value, the allowed range and the command that fixes it.
"""

import difflib
import json
import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional
from urllib.parse import urlsplit

from shared import naming

NAMESPACE = "tracking"

# API Gateway ends every integration call after 29 seconds; the function must finish first.
API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS = 29
# The function tries the table only while a write with its retries (at most 9 s) and a parking
# call with its retries (at most 7 s) both still fit. A shorter timeout would leave a healthy
# table too little time for a batch, and parking would take over.
MIN_FUNCTION_TIMEOUT_SECONDS = 20

# AWS-managed Powertools layer version 27 ships Powertools 3.23.0, the last release for
# Python 3.9, and is published for these runtimes on both architectures.
POWERTOOLS_LAYER_VERSION = 27
LAYER_RUNTIMES = ("python3.9", "python3.10", "python3.11", "python3.12", "python3.13")
ARCHITECTURES = ("x86_64", "arm64")
# (runtime, architecture) pairs that layer version POWERTOOLS_LAYER_VERSION is published for.
POWERTOOLS_LAYER_TARGETS = tuple((runtime, arch) for runtime in LAYER_RUNTIMES for arch in ARCHITECTURES)

# Retention values CloudWatch Logs accepts, in days.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)

_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,18}")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{1,256}$")
# The table lives in the kit's region, and DynamoDB takes a key from the table's own region only.
_KMS_KEY_ARN = re.compile(rf"arn:aws:kms:{naming.REGION}:\d{{12}}:key/[0-9a-f-]{{36}}")
_ORGANIZATION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class SettingError(ValueError):
    """A stack setting is invalid; the message names the key, the value and the fix."""


@dataclass(frozen=True)
class Setting:
    key: str
    layer: str  # a layer name, or "all"
    default: Any
    parse: Callable[[str], Any]
    allowed: str
    description: str
    check: Callable[[Any], bool] = lambda value: True


def _is_endpoint_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError when out of range
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and (port is None or port > 0)
        and not parts.query
        and not parts.fragment
    )


def _int(raw: str) -> int:
    text = str(raw).strip()
    # ASCII digits only: int() alone would also take "1_000" or digits of other scripts.
    if not _WHOLE_NUMBER.fullmatch(text):
        raise ValueError(raw)
    return int(text)


def _bool(raw: str) -> bool:
    text = str(raw).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise ValueError(raw)


def _text(raw: str) -> str:
    return str(raw).strip()


def _optional_text(raw: str) -> Optional[str]:
    text = str(raw).strip()
    return text or None


def _optional_int(raw: str) -> Optional[int]:
    text = str(raw).strip()
    return _int(text) if text else None


def _string_list(raw: Any) -> tuple:
    value = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(raw)
    return tuple(value)


SETTINGS = (
    Setting("organization", "all", naming.DEFAULT_ORGANIZATION, _text,
            "a Pulumi organization name (letters, digits, '.', '_', '-')",
            "Pulumi organization in stack references; `organization` for the file backend",
            lambda v: bool(_ORGANIZATION.match(v))),
    Setting("owner", "all", "platform-team", _text, "1-256 tag-safe characters",
            "value of the Owner tag", lambda v: bool(_TAG_VALUE.match(v))),
    Setting("costCenter", "all", "logistics", _text, "1-256 tag-safe characters",
            "value of the CostCenter tag", lambda v: bool(_TAG_VALUE.match(v))),
    Setting("endpoint", "all", None, _optional_text, "an http(s) URL of an AWS emulator, or unset",
            "send every AWS call to this emulator instead of AWS (moto server, LocalStack)",
            lambda v: v is None or _is_endpoint_url(v)),
    Setting("tableKmsKeyArn", "foundation", None, _optional_text,
            f"a KMS key ARN in {naming.REGION} (arn:aws:kms:{naming.REGION}:<account>:key/<id>), or unset",
            "customer-managed key for the table; unset uses the AWS-managed key",
            lambda v: v is None or bool(_KMS_KEY_ARN.fullmatch(v))),
    Setting("itemRetentionDays", "foundation", None, _optional_int, "1-36500 days, or unset",
            "days each stored event is kept after it was received (DynamoDB time to live on the expires_at "
            "attribute the function writes); unset keeps events forever",
            lambda v: v is None or 1 <= v <= 36500),
    Setting("deletionProtection", "foundation", None, _bool, "true or false",
            "DynamoDB deletion protection; defaults to true for prod, false elsewhere"),
    Setting("runtime", "compute", "python3.9", _text, "one of " + ", ".join(LAYER_RUNTIMES),
            "Lambda runtime of the function", lambda v: v in LAYER_RUNTIMES),
    Setting("architecture", "compute", "x86_64", _text, "x86_64 or arm64",
            "instruction set of the function and of its Powertools layer",
            lambda v: v in ARCHITECTURES),
    Setting("memorySize", "compute", 256, _int, "128-10240 MB",
            "function memory in MB; 256 MB gives enough CPU for a sub-second cold start",
            lambda v: 128 <= v <= 10240),
    Setting("timeout", "compute", 25, _int,
            f"{MIN_FUNCTION_TIMEOUT_SECONDS}-{API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS - 1} seconds (room for "
            f"the table's retries and parking, below API Gateway's {API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS} s "
            "integration timeout)",
            "function timeout in seconds; fits a table write's retries (9 s) plus a parking call's (7 s), "
            "with time left for a whole batch",
            lambda v: MIN_FUNCTION_TIMEOUT_SECONDS <= v < API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS),
    Setting("reservedConcurrency", "compute", None, _optional_int, "1-1000, or unset",
            "reserved concurrent executions; unset, because accounts with low limits reject it",
            lambda v: v is None or 1 <= v <= 1000),
    Setting("logRetentionDays", "all", 30, _int,
            "one of CloudWatch Logs' retention values: " + ", ".join(map(str, LOG_RETENTION_DAYS)),
            "retention of the function's and the API's log groups, in days",
            lambda v: v in LOG_RETENTION_DAYS),
    Setting("logLevel", "compute", "INFO", _text, "DEBUG, INFO, WARNING or ERROR",
            "function log level", lambda v: v in ("DEBUG", "INFO", "WARNING", "ERROR")),
    Setting("parameterMaxAgeSeconds", "compute", 300, _int, "0-3600 seconds",
            "how long the function caches decrypted parameters", lambda v: 0 <= v <= 3600),
    Setting("throttlingRateLimit", "edge", 50, _int, "1-10000 requests per second",
            "steady-state request rate the stage allows", lambda v: 1 <= v <= 10000),
    Setting("throttlingBurstLimit", "edge", 100, _int, "1-5000 requests",
            "burst size the stage allows", lambda v: 1 <= v <= 5000),
    Setting("clientTrustedPrincipals", "edge", (), _string_list,
            "a JSON list of IAM principal ARNs, for example [\"arn:aws:iam::123456789012:root\"]",
            "principals that may assume the API client role; empty creates no role",
            lambda v: all(p.startswith("arn:aws:iam::") for p in v)),
    Setting("executionLoggingLevel", "edge", "ERROR", _text, "ERROR or INFO",
            "level of the stage's execution logs; INFO logs every request's processing steps",
            lambda v: v in ("ERROR", "INFO")),
    Setting("alarmEmail", "observability", None, _optional_text, "an e-mail address, or unset",
            "address subscribed to the alarm topic", lambda v: v is None or bool(_EMAIL.match(v))),
    Setting("error5xxRatePercent", "observability", 5, _int, "1-100 percent",
            "share of requests answered 5XX that raises the 5XX alarm", lambda v: 1 <= v <= 100),
    Setting("error4xxRatePercent", "observability", 25, _int, "1-100 percent",
            "share of requests answered 4XX that raises the 4XX alarm", lambda v: 1 <= v <= 100),
    Setting("latencyP99Ms", "observability", 2000, _int, "100-29000 ms",
            "p99 API latency that raises the latency alarm", lambda v: 100 <= v <= 29000),
)

BY_KEY = {setting.key: setting for setting in SETTINGS}


@dataclass(frozen=True)
class SecretSetting:
    """A setting stored as a Pulumi secret (``pulumi config set --secret``), never exported."""

    key: str
    layer: str
    allowed: str
    description: str
    min_length: int = 1


SECRET_SETTINGS = (
    SecretSetting("pageTokenKey", "foundation", "at least 32 characters, or unset",
                  "key that signs GET /status page tokens, stored as a SecureString parameter; "
                  "unset generates a random 64-character key", min_length=32),
)

SECRET_BY_KEY = {setting.key: setting for setting in SECRET_SETTINGS}


def settings_for(layer: str) -> tuple:
    return tuple(s for s in SETTINGS if s.layer in ("all", layer))


def _error(setting: Setting, value: Any, environment: str, layer: str) -> SettingError:
    return SettingError(
        f"invalid setting {NAMESPACE}:{setting.key} = {value!r}: allowed is {setting.allowed}. "
        f"Fix: pulumi config set {NAMESPACE}:{setting.key} <value> --stack {environment} in stacks/{layer}, "
        f"or correct it in stacks/{layer}/Pulumi.{environment}.yaml"
    )


def validate_environment(environment: str) -> str:
    if environment not in naming.ENVIRONMENTS:
        raise SettingError(
            f"invalid stack name {environment!r}: allowed are {', '.join(naming.ENVIRONMENTS)}. "
            f"Fix: pulumi stack select {naming.ENVIRONMENTS[0]}"
        )
    return environment


def read_settings(layer: str, environment: str, raw: Mapping[str, Any]) -> dict:
    """Parse and validate the settings of one layer from raw config strings.

    ``raw`` maps keys to the strings Pulumi stores; a missing or ``None`` key takes the
    default. Cross-setting rules (the runtime's Powertools layer) are checked last.
    """
    validate_environment(environment)
    values = {"environment": environment}
    for setting in settings_for(layer):
        given = raw.get(setting.key)
        if given is None:
            values[setting.key] = setting.default
            continue
        try:
            value = setting.parse(given)
            valid = setting.check(value)
        except (ValueError, TypeError, json.JSONDecodeError):
            valid = False
        if not valid:
            raise _error(setting, given, environment, layer)
        values[setting.key] = value

    if layer == "foundation" and values["deletionProtection"] is None:
        values["deletionProtection"] = environment == "prod"
    if layer == "compute":
        check_powertools_layer(values["runtime"], values["architecture"], environment)
    return values


def check_powertools_layer(runtime: str, architecture: str, environment: str) -> None:
    """Raise ``SettingError`` unless the Powertools layer is published for the runtime and architecture."""
    if (runtime, architecture) in POWERTOOLS_LAYER_TARGETS:
        return
    allowed = ", ".join(f"{r}/{a}" for r, a in POWERTOOLS_LAYER_TARGETS)
    raise SettingError(
        f"invalid setting {NAMESPACE}:runtime = {runtime!r} "
        f"with {NAMESPACE}:architecture = {architecture!r}: "
        f"Powertools layer version {POWERTOOLS_LAYER_VERSION} is published only for {allowed}. "
        f"Fix: pulumi config set {NAMESPACE}:runtime <runtime> --stack {environment}"
    )


def check_known_keys(keys, environment: str, layer: Optional[str] = None) -> None:
    """Raise ``SettingError`` for a ``tracking:`` key no setting has, or one of another layer's
    settings, so a typo or a key set in the wrong stack is not silently ignored."""
    layers = {setting.key: setting.layer for setting in SETTINGS}
    layers.update({secret.key: secret.layer for secret in SECRET_SETTINGS})
    known = set(layers)
    for full_key in sorted(keys):
        namespace, _, key = str(full_key).partition(":")
        if namespace != NAMESPACE:
            continue
        if key in known:
            owner = layers[key]
            if layer is None or owner in ("all", layer):
                continue
            raise SettingError(
                f"setting {NAMESPACE}:{key} belongs to the {owner} stack and has no effect in {layer}. "
                f"Fix: pulumi config rm {NAMESPACE}:{key} --stack {environment} in stacks/{layer}, "
                f"then set it in stacks/{owner}"
            )
        close = difflib.get_close_matches(key, sorted(known), n=1)
        hint = f" Did you mean {NAMESPACE}:{close[0]}?" if close else ""
        raise SettingError(
            f"unknown setting {NAMESPACE}:{key}.{hint} Fix: pulumi config rm {NAMESPACE}:{key} --stack {environment}, "
            f"then set the intended key"
        )


def config_for_layer(config: Optional[Mapping[str, Any]], layer: str) -> dict:
    """Return the part of a config for several layers that one layer's stack would hold.

    Keys of another layer's settings are dropped; unknown keys stay, so a typo still fails.
    """
    layers = {setting.key: setting.layer for setting in SETTINGS}
    layers.update({secret.key: secret.layer for secret in SECRET_SETTINGS})
    return {key: value for key, value in (config or {}).items() if layers.get(key, layer) in ("all", layer)}


def _pulumi_config_keys() -> set:
    # The CLI passes config in PULUMI_CONFIG; the mock engine sets the SDK's context variable.
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get())
    keys.update(json.loads(os.environ.get("PULUMI_CONFIG") or "{}"))
    return keys


def read_pulumi_settings(layer: str) -> dict:
    """Read one layer's settings from the current Pulumi stack's config."""
    import pulumi

    check_known_keys(_pulumi_config_keys(), pulumi.get_stack(), layer)
    config = pulumi.Config(NAMESPACE)
    raw = {setting.key: config.get(setting.key) for setting in settings_for(layer)}
    return read_settings(layer, pulumi.get_stack(), raw)


def check_secret(setting: SecretSetting, value: str, environment: str) -> str:
    """Return ``value`` when it is long enough, or raise an error that names the key but not the value."""
    if len(value.strip()) >= setting.min_length:
        return value
    raise SettingError(
        f"invalid secret setting {NAMESPACE}:{setting.key} (value hidden): "
        f"allowed is {setting.allowed}. "
        f"Fix: pulumi config set --secret {NAMESPACE}:{setting.key} <value> --stack {environment}"
    )


def read_pulumi_secret(layer: str, key: str):
    """Read one secret setting of a layer as a secret ``pulumi.Output``, or ``None`` when it is unset.

    The length check names the key but never the value.
    """
    import pulumi

    setting = SECRET_BY_KEY[key]
    if setting.layer not in ("all", layer):
        raise KeyError(f"secret setting {key!r} belongs to the {setting.layer} layer, not {layer}")
    # The SDK keeps secret config in plain text and get_secret only wraps it, so the check runs
    # now: a short key stops the program with its own message, not one buried in an apply.
    text = pulumi.Config(NAMESPACE).get(key)
    if text is None:
        return None
    return pulumi.Output.secret(check_secret(setting, text, pulumi.get_stack()))
