"""boto3 clients, created on first use so that tests and emulators can set endpoints first.

Retries are bounded so that a request ends inside the function's timeout (25 s by default,
below API Gateway's 29 s): botocore's standard mode, at most 3 table attempts with 1 s connect
and read timeouts and at most 2 queue attempts with 1 s connect and 2 s read timeouts. The
budgets below are the worst case of one call with its retries. They bound slow responses, not an
endpoint that trickles bytes: botocore's read timeout restarts with every byte received.
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
    # The page-token key, read on the first history page of a sandbox and then cached.
    "ssm": Config(retries={"total_max_attempts": 2, "mode": "standard"}, connect_timeout=1, read_timeout=2),
}

# botocore's standard mode waits up to min(2 ** i, 20) seconds before retry i (0-based) of a
# throttled call, and less for other errors.
BACKOFF_BASE = 2
BACKOFF_MAX_SECONDS = 20


def worst_case_ms(config: Config) -> int:
    """Return the longest one call with all its attempts and backoffs can take, in milliseconds."""
    attempts = config.retries["total_max_attempts"]
    waiting = attempts * (config.connect_timeout + config.read_timeout)
    backoff = sum(min(BACKOFF_BASE**retry, BACKOFF_MAX_SECONDS) for retry in range(attempts - 1))
    return int((waiting + backoff) * 1000)


# A table write starts only while it and one parking call both still fit in the time the
# invocation has left, and each parking call only while it still fits.
TABLE_WRITE_BUDGET_MS = worst_case_ms(CONFIGS["dynamodb"])
PARKING_BUDGET_MS = worst_case_ms(CONFIGS["sqs"])


@cache
def client(service: str, region: Optional[str] = None):
    """Return a cached client; AWS_ENDPOINT_URL redirects every one of them to an emulator."""
    return boto3.session.Session().client(service, region_name=region, config=CONFIGS[service])


def reset_clients() -> None:
    """Forget cached clients, so the next call builds them from the current environment."""
    client.cache_clear()
