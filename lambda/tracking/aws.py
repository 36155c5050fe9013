"""boto3 clients, created on first use so that tests and emulators can set endpoints first.

Retries are bounded: botocore's standard mode makes at most three attempts with
exponential backoff and jitter, and short timeouts keep the worst case well inside
the function's timeout, which itself stays below API Gateway's 29 seconds.
"""

from functools import cache

import boto3
from botocore.config import Config

MAX_ATTEMPTS = 3

RETRY_CONFIG = Config(
    retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
    connect_timeout=2,
    read_timeout=3,
)


@cache
def client(service: str, region: str = None):
    """Return a cached client; AWS_ENDPOINT_URL redirects every one of them to an emulator."""
    return boto3.session.Session().client(service, region_name=region, config=RETRY_CONFIG)


def reset_clients() -> None:
    """Forget cached clients, so the next call builds them from the current environment."""
    client.cache_clear()
