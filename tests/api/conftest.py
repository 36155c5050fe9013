"""Fixtures for the API-level tests: one local API per test module, on a free loopback port."""

import pytest

import devkit.local


@pytest.fixture(scope="module")
def local_api():
    api = devkit.local.start(port=0)
    yield api
    api.stop()
