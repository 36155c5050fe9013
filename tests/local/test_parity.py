"""The local API serves from the shared API definition, so it cannot drift from the edge stack."""

import json

import pytest

from devkit.local import sigv4
from devkit.local.gateway import LocalGateway
from shared import api_definition, contract, naming

ACCOUNT_ID = "111122223333"


@pytest.fixture(scope="module")
def gateway():
    local_gateway = LocalGateway(
        lambda event, context: {}, "dev", "dev", ACCOUNT_ID, sigv4.Credentials("a", "b")
    )
    yield local_gateway
    local_gateway.stop()


def test_routes_are_shared_route_objects(gateway):
    served = [validator.route for validator in gateway.validators.values()]

    assert len(served) == len(api_definition.ROUTES)
    for route, shared_route in zip(served, api_definition.ROUTES):
        assert route is shared_route


def test_routes_cover_function_contract():
    assert [(route.method, route.path) for route in api_definition.ROUTES] == list(contract.ROUTES)


def test_body_model_is_the_function_schema(gateway):
    track = gateway.validators[("POST", contract.function_contract.TRACK_PATH)]

    assert track.schema == contract.models()[contract.TRACK_REQUEST_MODEL]
    assert track.schema == contract.load_schema(contract.MODEL_FILES[contract.TRACK_REQUEST_MODEL])
    assert track.schema == api_definition.api_models()[track.route.request_model]


def test_required_parameters_are_the_contract_ones(gateway):
    status = gateway.validators[("GET", contract.function_contract.STATUS_PATH)]
    required = [name for name, is_required in contract.STATUS_QUERY_PARAMETERS.items() if is_required]

    assert list(status.route.required_parameters) == required
    assert status.missing_parameters({}) == required


def test_validator_kinds_follow_shared_validators(gateway):
    for validator in gateway.validators.values():
        settings = api_definition.VALIDATORS[validator.route.validator]
        assert validator.validates_body == (
            settings.validate_request_body and bool(validator.route.request_model)
        )
        assert validator.validates_parameters == settings.validate_request_parameters


@pytest.mark.parametrize("response_type", sorted(api_definition.GATEWAY_RESPONSES))
def test_gateway_responses_from_shared_templates(gateway, response_type):
    response = gateway.gateway_response(response_type, "request-1", "the message", "[the error]")
    context = {
        "requestId": "request-1",
        "error": {
            "message": "the message",
            "responseType": response_type,
            "validationErrorString": "[the error]",
        },
    }
    status, body = api_definition.render_gateway_response(response_type, context)

    assert response.status == status
    assert json.loads(response.body) == body


def test_uncustomized_types_use_defaults(gateway):
    too_large = gateway.gateway_response("REQUEST_TOO_LARGE", "request-2", "too big")
    failed = gateway.gateway_response("INTEGRATION_FAILURE", "request-3", "failed")

    assert "REQUEST_TOO_LARGE" not in api_definition.GATEWAY_RESPONSES
    assert too_large.status == 413
    assert failed.status == 502


def test_signature_scope_matches_shared_region():
    assert sigv4.REGION == naming.REGION
    assert sigv4.SERVICE == "execute-api"
