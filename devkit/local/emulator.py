"""An in-process AWS emulator on loopback, provisioned like the foundation stack.

moto server runs in a thread on 127.0.0.1; the table, the dead letter queue and the
parameters are created through boto3 from ``shared.definitions``, the same
definitions the foundation stack turns into Pulumi resources.

moto keeps its data in memory that every moto server of the process shares. Each
emulator therefore works in an AWS account of its own: it assumes a role in a random
account through moto's STS, and both it and the function use the credentials it gets.
Two emulators, or an emulator and a test's own moto server, then never see each other's
tables. A moto reset (``/moto-api/reset``) still clears every account.
"""

import logging
import secrets
from dataclasses import dataclass, field
from typing import Optional

import boto3
from botocore.config import Config
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from shared import definitions, naming, settings
from shared.contract import function_contract as contract

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"

# moto does not check credentials, but boto3 needs some to sign with. These sign only
# the AssumeRole call to the loopback emulator; everything after uses its credentials.
EMULATOR_ACCESS_KEY_ID = "local-emulator-access-key"
EMULATOR_SECRET_ACCESS_KEY = "local-emulator-secret-key"  # noqa: S105 - a fake key for moto on loopback
# moto's default account, which tests that run their own moto server use.
MOTO_DEFAULT_ACCOUNT_ID = "123456789012"
ROLE_NAME = "local-api-function"
ROLE_SESSION_NAME = "local-api"
# Maximum DurationSeconds of AssumeRole (12 hours). moto does not check expiry by default anyway.
ROLE_SESSION_SECONDS = 12 * 60 * 60

# Length in bytes of the random page-token key; token_urlsafe turns 48 bytes into 64 characters.
PAGE_TOKEN_KEY_BYTES = 48

# Variables that would send the function's boto3 calls somewhere other than the emulator,
# or pick up a real profile, removed while the local API runs.
OVERRIDING_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN")
OVERRIDING_PREFIXES = ("AWS_ENDPOINT_URL_",)

_CLIENT_CONFIG = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=2, read_timeout=10)


@dataclass
class Emulator:
    """A running moto server with the foundation's data resources of one environment."""

    environment: str
    endpoint_url: str
    region: str
    account_id: str
    # Credentials of the emulator's account: access key id, secret access key, session token.
    credentials: tuple
    table_name: str
    queue_name: str
    queue_url: str
    # Full Parameter Store name keyed by parameter key (``api-config``, ``page-token-key``, ...).
    parameter_names: dict
    # Environment variables the function reads: its ENV_* settings, the endpoint, region and
    # the account's credentials. ``removed_variables`` lists the ones to unset beside them.
    function_environment: dict
    removed_variables: tuple = ()
    _server: Optional[ThreadedMotoServer] = field(default=None, repr=False)

    def client(self, service: str):
        """Return a boto3 client for ``service`` bound to this emulator and its account."""
        return _client(service, self.endpoint_url, self.region, self.credentials)

    def stop(self) -> None:
        """Stop the moto server thread; a second call does nothing."""
        if self._server is None:
            return
        self._server.stop()
        self._server = None
        logger.info("emulator stopped endpoint=%s", self.endpoint_url)


def start_emulator(environment: str = "dev", port: int = 0, region: str = naming.REGION) -> Emulator:
    """Start moto server on 127.0.0.1 and provision the table, the queue and the parameters.

    ``port`` 0 picks a free port. If provisioning fails, the server is stopped before the
    error propagates.
    """
    werkzeug_logger = logging.getLogger("werkzeug")
    if werkzeug_logger.level == logging.NOTSET:
        # moto's server logs every emulated AWS call through werkzeug at INFO.
        werkzeug_logger.setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address=LOOPBACK, port=port, verbose=False)
    server.start()
    host, bound_port = server.get_host_and_port()
    endpoint_url = f"http://{host}:{bound_port}"
    try:
        emulator = _provision(environment, endpoint_url, region)
    except Exception:
        server.stop()
        raise
    emulator._server = server
    logger.info("emulator ready endpoint=%s table=%s", endpoint_url, emulator.table_name)
    return emulator


def _client(service: str, endpoint_url: str, region: str, credentials: tuple):
    access_key_id, secret_access_key, session_token = credentials
    session = boto3.session.Session(
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        aws_session_token=session_token,
        region_name=region,
    )
    return session.client(service, endpoint_url=endpoint_url, config=_CLIENT_CONFIG)


def _new_account(endpoint_url: str, region: str) -> tuple:
    """Assume a role in a random account of the emulator; return the account id and its credentials."""
    account_id = MOTO_DEFAULT_ACCOUNT_ID
    while account_id == MOTO_DEFAULT_ACCOUNT_ID:
        account_id = f"{secrets.randbelow(10**12):012d}"
    sts = _client("sts", endpoint_url, region, (EMULATOR_ACCESS_KEY_ID, EMULATOR_SECRET_ACCESS_KEY, None))
    issued = sts.assume_role(
        RoleArn=f"arn:{naming.PARTITION}:iam::{account_id}:role/{ROLE_NAME}",
        RoleSessionName=ROLE_SESSION_NAME,
        DurationSeconds=ROLE_SESSION_SECONDS,
    )["Credentials"]
    return account_id, (issued["AccessKeyId"], issued["SecretAccessKey"], issued["SessionToken"])


def _provision(environment: str, endpoint_url: str, region: str) -> Emulator:
    account_id, credentials = _new_account(endpoint_url, region)
    table_name = definitions.table_name(environment)
    _client("dynamodb", endpoint_url, region, credentials).create_table(
        **definitions.boto3_table_arguments(table_name)
    )

    queue_name = definitions.queue_name(environment)
    queue_url = _client("sqs", endpoint_url, region, credentials).create_queue(
        QueueName=queue_name, Attributes=definitions.boto3_queue_attributes()
    )["QueueUrl"]

    parameter_names = _put_parameters(environment, table_name, endpoint_url, region, credentials)
    function_environment = _function_environment(
        environment, endpoint_url, region, credentials, table_name, queue_url, parameter_names
    )
    return Emulator(
        environment=environment,
        endpoint_url=endpoint_url,
        region=region,
        account_id=account_id,
        credentials=credentials,
        table_name=table_name,
        queue_name=queue_name,
        queue_url=queue_url,
        parameter_names=parameter_names,
        function_environment=function_environment,
        removed_variables=OVERRIDING_VARIABLES,
    )


def _put_parameters(
    environment: str, table_name: str, endpoint_url: str, region: str, credentials: tuple
) -> dict:
    ssm = _client("ssm", endpoint_url, region, credentials)
    plain_values = definitions.plain_parameter_values(table_name, region)
    names = {}
    # A fresh page-token key per start: tokens from an earlier run are rejected, as after a rotation.
    secure_value = secrets.token_urlsafe(PAGE_TOKEN_KEY_BYTES)
    for spec in definitions.PARAMETERS:
        name = naming.parameter_name(environment, spec.key)
        value = secure_value if spec.type == "SecureString" else plain_values[spec.key]
        ssm.put_parameter(Name=name, Value=value, Type=spec.type, Description=spec.description)
        names[spec.key] = name
    return names


def _function_environment(
    environment: str,
    endpoint_url: str,
    region: str,
    credentials: tuple,
    table_name: str,
    queue_url: str,
    parameter_names: dict,
) -> dict:
    access_key_id, secret_access_key, session_token = credentials
    plain_values = definitions.plain_parameter_values(table_name, region)
    return {
        contract.ENV_ENVIRONMENT: environment,
        contract.ENV_DEAD_LETTER_QUEUE_URL: queue_url,
        contract.ENV_API_CONFIG: plain_values[definitions.API_CONFIG_PARAMETER.key],
        contract.ENV_FEATURE_FLAGS: plain_values[definitions.FEATURE_FLAGS_PARAMETER.key],
        contract.ENV_DATABASE_CONNECTION: plain_values[definitions.DATABASE_CONNECTION_PARAMETER.key],
        contract.ENV_PAGE_TOKEN_KEY_PARAMETER: parameter_names[definitions.PAGE_TOKEN_KEY_PARAMETER.key],
        contract.ENV_PARAMETER_MAX_AGE: str(settings.BY_KEY["parameterMaxAgeSeconds"].default),
        "AWS_ENDPOINT_URL": endpoint_url,
        # A configured-endpoint opt-out would make boto3 ignore AWS_ENDPOINT_URL and call AWS.
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": access_key_id,
        "AWS_SECRET_ACCESS_KEY": secret_access_key,
        "AWS_SESSION_TOKEN": session_token,
        "AWS_EC2_METADATA_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": naming.SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": naming.METRICS_NAMESPACE,
        # No X-Ray daemon listens locally.
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
