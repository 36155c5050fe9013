"""Fixtures for the policy tests: every stack run offline, each layer fed the real exports of the ones before."""

import pytest

from devkit import offline
from shared import naming

# Settings that switch on every optional resource: the API client role, the alarm e-mail
# subscription, a customer-managed table key (an extra IAM statement), TTL and reserved concurrency.
OPTIONAL_FEATURES = {
    "clientTrustedPrincipals": '["arn:aws:iam::123456789012:root"]',
    "alarmEmail": "oncall@example.com",
    "tableKmsKeyArn": "arn:aws:kms:us-west-2:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    "itemRetentionDays": "365",
    "reservedConcurrency": "5",
}
OPTIONAL_SECRETS = {"pageTokenKey": "policy-test-page-token-key-0123456789abcdef"}

# Chain name to (environment, config, secrets).
CHAINS = {
    **{environment: (environment, None, None) for environment in naming.ENVIRONMENTS},
    "dev-all-options": ("dev", OPTIONAL_FEATURES, OPTIONAL_SECRETS),
}


@pytest.fixture(scope="session")
def chains() -> dict:
    """Return every chain's runs, ``{chain name: {layer: ProgramRun}}``, each chain run once per session."""
    return {
        name: offline.run_chain(environment, config=config, secrets=secrets)
        for name, (environment, config, secrets) in CHAINS.items()
    }


@pytest.fixture(scope="session")
def dev_chain(chains) -> dict:
    return chains["dev"]
