"""Fixtures for the local API tests: a running local API per test module and signing helpers."""

import pytest

import devkit.local


@pytest.fixture(scope="module")
def local_api():
    """A local API on a free loopback port, for the tests of one module."""
    api = devkit.local.start(port=0)
    yield api
    api.stop()


@pytest.fixture
def client(local_api):
    with local_api.client() as tracking_client:
        yield tracking_client


@pytest.fixture
def invocations(local_api):
    """Record every event the gateway passes to the function while a test runs."""
    recorded = []
    real_handler = local_api.gateway.handler

    def recording_handler(event, context):
        recorded.append(event)
        return real_handler(event, context)

    local_api.gateway.handler = recording_handler
    yield recorded
    local_api.gateway.handler = real_handler
