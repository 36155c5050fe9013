"""boto3 clients, created on first use so that tests and emulators can set endpoints first.

Retries are bounded so that a request always ends inside the function's timeout (20 s by
default, below API Gateway's 29 s): botocore's standard mode with exponential backoff and
jitter, at most 3 table attempts with 1 s connect and read timeouts (about 7.5 s in the worst
case) and at most 2 queue attempts with 1 s connect and 2 s read timeouts (about 6.5 s).
"""

from functools import cache
from typing import Optional

import boto3
from botocore.config import Config

MAX_ATTEMPTS = 3
PARKING_MAX_ATTEMPTS = 2

CONFIGS = {
    "dynamodb": Config(
        retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"}, connect_timeout=1, read_timeout=1
    ),
    "sqs": Config(
        retries={"total_max_attempts": PARKING_MAX_ATTEMPTS, "mode": "standard"}, connect_timeout=1, read_timeout=2
    ),
}

# Worst-case milliseconds of one table write and of one parking call with their retries: a
# table write starts only while both still fit in the time the invocation has left.
TABLE_WRITE_BUDGET_MS = 7_500
PARKING_BUDGET_MS = 6_500


@cache
def client(service: str, region: Optional[str] = None):
    """Return a cached client; AWS_ENDPOINT_URL redirects every one of them to an emulator."""
    return boto3.session.Session().client(service, region_name=region, config=CONFIGS[service])


def reset_clients() -> None:
    """Forget cached clients, so the next call builds them from the current environment."""
    client.cache_clear()
