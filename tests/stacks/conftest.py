"""Fixtures for the stack tests: offline runs of each layer, fed the real exports of the layers before it.

Every layer's tests can use these:

- ``run_layer(layer, environment="dev", config=None, secrets=None, upstream=None)`` runs one
  program under the mock engine. Without ``upstream`` it first runs every earlier layer with
  the same config and secrets, so the program reads real exports.
- ``upstream_outputs(layer, environment="dev", config=None, secrets=None)`` returns those
  earlier exports as ``{stack reference name: outputs}``, ready to edit and pass as ``upstream``.
- ``foundation_run`` and ``compute_run`` are the dev runs with default settings.
- ``policy_statements(document_json)`` parses an IAM policy into statements keyed by ``Sid``.
- ``reveal(value)`` returns ``(is_secret, plain_value)`` of a recorded input.
- ``error_chain(exc)`` returns an exception and everything it was raised from, outermost first.
"""

import json
from typing import Optional

import pytest
from pulumi.runtime import rpc

from devkit import offline
from shared import naming, settings


def _freeze(mapping: Optional[dict]) -> tuple:
    return tuple(sorted((mapping or {}).items()))


@pytest.fixture(scope="session")
def upstream_outputs():
    """Return a function that runs the layers before ``layer`` and returns their exports."""
    cache: dict = {}

    def build(
        layer: str, environment: str = "dev", config: Optional[dict] = None, secrets: Optional[dict] = None
    ) -> dict:
        key = (layer, environment, _freeze(config), _freeze(secrets))
        if key not in cache:
            organization = (config or {}).get("organization", naming.DEFAULT_ORGANIZATION)
            upstream: dict = {}
            for previous in naming.LAYERS[: naming.LAYERS.index(layer)]:
                run = offline.run_program(
                    previous,
                    environment,
                    config=settings.config_for_layer(config, previous),
                    upstream=upstream,
                    secrets=settings.config_for_layer(secrets, previous),
                )
                upstream[naming.stack_reference_name(organization, previous, environment)] = run.outputs
            cache[key] = upstream
        # A copy of each layer's outputs, so a test can delete or change one without affecting others.
        return {stack: dict(values) for stack, values in cache[key].items()}

    return build


@pytest.fixture(scope="session")
def run_layer(upstream_outputs):
    """Return a function that runs one layer offline and returns its ``ProgramRun``."""

    def run(
        layer: str,
        environment: str = "dev",
        config: Optional[dict] = None,
        secrets: Optional[dict] = None,
        upstream: Optional[dict] = None,
    ) -> offline.ProgramRun:
        if upstream is None:
            upstream = upstream_outputs(layer, environment, config=config, secrets=secrets)
        return offline.run_program(layer, environment, config=config, upstream=upstream, secrets=secrets)

    return run


@pytest.fixture(scope="session")
def foundation_run(run_layer) -> offline.ProgramRun:
    return run_layer("foundation")


@pytest.fixture(scope="session")
def compute_run(run_layer) -> offline.ProgramRun:
    return run_layer("compute")


@pytest.fixture(scope="session")
def policy_statements():
    """Return a function that parses a policy document and returns its statements keyed by ``Sid``."""

    def parse(document_json: str) -> dict:
        document = json.loads(document_json)
        statements = document["Statement"]
        by_sid = {statement.get("Sid", f"#{index}"): statement for index, statement in enumerate(statements)}
        assert len(by_sid) == len(statements), f"duplicate Sid in {document_json}"
        return by_sid

    return parse


@pytest.fixture(scope="session")
def reveal():
    """Return a function that unwraps a recorded input: ``(is_secret, plain_value)``."""

    def unwrap(value):
        if isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return True, value["value"]
        return False, value

    return unwrap


@pytest.fixture(scope="session")
def error_chain():
    """Return a function that lists an exception and its causes, outermost first.

    The mock engine wraps an error raised inside ``apply`` in several ``ValueError``s.
    """

    def chain(error: BaseException) -> list:
        found = []
        while error is not None and error not in found:
            found.append(error)
            error = error.__cause__ or error.__context__
        return found

    return chain
