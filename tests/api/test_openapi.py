"""The generated OpenAPI document: valid OpenAPI 3.0.3, committed as generated, and true to the API definition."""

import json

import pytest
from jsonschema import Draft4Validator
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from devkit import openapi
from shared import api_definition, contract


@pytest.fixture(scope="module")
def document():
    return openapi.build()


def _walk(value, location="#"):
    """Yield ``(location, mapping)`` for every JSON object in ``value``."""
    if isinstance(value, dict):
        yield location, value
        for key, item in value.items():
            yield from _walk(item, f"{location}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{location}/{index}")


def _resolve(document, reference):
    target = document
    for part in reference.lstrip("#/").split("/"):
        target = target[part]
    return target


def test_openapi_document_passes_spec_validator(document):
    validate(document)


def test_openapi_spec_validator_rejects_broken_document(document):
    broken = json.loads(json.dumps(document))
    del broken["paths"]["/track"]["post"]["responses"]["201"]["description"]

    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_openapi_file_matches_generator():
    committed = openapi.OPENAPI_FILE.read_text(encoding="utf-8")

    assert committed == openapi.render(), "docs/openapi.json is out of date: run `invoke openapi`"


def test_openapi_render_sorted_with_final_newline():
    text = openapi.render()

    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert openapi.render() == text


def test_openapi_version_is_3_0_3(document):
    assert document["openapi"] == "3.0.3"


def test_openapi_server_is_a_template(document):
    (server,) = document["servers"]

    assert server["url"] == "https://{restApiId}.execute-api.us-west-2.amazonaws.com/{stage}"
    assert server["variables"]["restApiId"]["default"] == openapi.REST_API_ID_PLACEHOLDER
    assert server["variables"]["stage"]["default"] == "dev"


def test_openapi_security_scheme_is_sigv4(document):
    scheme = document["components"]["securitySchemes"][openapi.SECURITY_SCHEME]

    assert scheme["type"] == "apiKey"
    assert scheme["in"] == "header"
    assert scheme["name"] == "Authorization"
    assert scheme["x-amazon-apigateway-authtype"] == "awsSigv4"


@pytest.mark.parametrize("route", api_definition.ROUTES, ids=lambda route: route.key)
def test_openapi_operation_matches_route(document, route):
    operation = document["paths"][route.path][route.method.lower()]

    assert operation["operationId"] == route.operation_name
    assert operation["security"] == [{openapi.SECURITY_SCHEME: []}]
    assert operation["x-amazon-apigateway-request-validator"] == api_definition.VALIDATORS[route.validator].name
    parameters = {parameter["name"]: parameter["required"] for parameter in operation.get("parameters", [])}
    assert parameters == dict(route.query_parameters)
    if route.request_model:
        body = operation["requestBody"]
        assert body["required"] is True
        assert body["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{route.request_model}"}
    else:
        assert "requestBody" not in operation


@pytest.mark.parametrize("route", api_definition.ROUTES, ids=lambda route: route.key)
def test_openapi_documents_every_route_status(document, route):
    responses = document["paths"][route.path][route.method.lower()]["responses"]

    for status, model in route.responses.items():
        schema = responses[str(status)]["content"]["application/json"]["schema"]
        references = [entry["$ref"] for entry in schema.get("anyOf", [schema])]
        assert f"#/components/schemas/{model}" in references, f"{route.key} {status}"
    for status in ("400", "403", "429", "5XX"):
        schema = responses[status]["content"]["application/json"]["schema"]
        references = [entry["$ref"] for entry in schema.get("anyOf", [schema])]
        assert "#/components/schemas/GatewayError" in references, f"{route.key} {status}"


def test_openapi_components_are_the_api_models(document):
    schemas = document["components"]["schemas"]

    for model in api_definition.api_models():
        assert model in schemas, model
    assert schemas["TrackRequestUpdate"]["required"] == ["tracking_id", "timestamp", "status"]
    assert schemas["StatusResult"]["properties"]["events"]["items"] == {
        "$ref": "#/components/schemas/StatusResultEvent"
    }


def test_openapi_has_no_draft04_only_keywords(document):
    for location, mapping in _walk(document["components"]["schemas"]):
        assert "$schema" not in mapping, location
        assert "definitions" not in mapping or location.endswith("/properties"), location


def test_openapi_every_reference_resolves(document):
    references = [(location, mapping["$ref"]) for location, mapping in _walk(document) if "$ref" in mapping]

    assert references
    for location, reference in references:
        assert reference.startswith("#/components/schemas/"), location
        assert isinstance(_resolve(document, reference), dict), f"{location}: {reference}"


@pytest.mark.parametrize("response_type", sorted(api_definition.GATEWAY_RESPONSES))
def test_gateway_error_schema_accepts_rendered_body(document, response_type):
    context = {
        "requestId": "0f1e2d3c",
        "status": 504,
        "error": {"message": 'quoted "text"', "validationErrorString": "[instance failed to match]"},
    }
    _, body = api_definition.render_gateway_response(response_type, context)

    errors = list(Draft4Validator(document["components"]["schemas"]["GatewayError"]).iter_errors(body))
    assert errors == [], [error.message for error in errors]


def test_gateway_error_schema_rejects_unknown_field(document):
    body = {"message": "m", "request_id": "r", "unexpected": "x"}

    assert not Draft4Validator(document["components"]["schemas"]["GatewayError"]).is_valid(body)


@pytest.mark.parametrize("name", ["single", "batch"])
def test_openapi_request_example_matches_model(document, name):
    media_type = document["paths"]["/track"]["post"]["requestBody"]["content"]["application/json"]
    model = api_definition.api_models()[contract.TRACK_REQUEST_MODEL]

    errors = list(Draft4Validator(model).iter_errors(media_type["examples"][name]["value"]))
    assert errors == [], [error.message for error in errors]


def test_openapi_parameter_examples_match_query_schema(document):
    query_schema = contract.status_query_schema()
    parameters = document["paths"]["/status"]["get"]["parameters"]
    examples = {parameter["name"]: parameter["example"] for parameter in parameters if "example" in parameter}

    assert examples
    errors = list(Draft4Validator(query_schema).iter_errors(examples))
    assert errors == [], [error.message for error in errors]


def test_component_schemas_hoist_definitions_and_rewrite_refs():
    models = {
        "Parcel": {
            "$schema": api_definition.DRAFT_04,
            "type": "object",
            "definitions": {"item": {"type": "object", "properties": {"parent": {"$ref": "#"}}}},
            "properties": {
                "first": {"$ref": "#/definitions/item"},
                "weight": {"$ref": "#/definitions/item/properties/parent"},
                "again": {"$ref": "#/properties/first"},
            },
        }
    }

    components = openapi.component_schemas(models)

    assert sorted(components) == ["Parcel", "ParcelItem"]
    assert "$schema" not in components["Parcel"]
    assert "definitions" not in components["Parcel"]
    properties = components["Parcel"]["properties"]
    assert properties["first"] == {"$ref": "#/components/schemas/ParcelItem"}
    assert properties["weight"] == {"$ref": "#/components/schemas/ParcelItem/properties/parent"}
    assert properties["again"] == {"$ref": "#/components/schemas/Parcel/properties/first"}
    assert components["ParcelItem"]["properties"]["parent"] == {"$ref": "#/components/schemas/Parcel"}


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "object", "patternProperties": {"^x": {}}}, "patternProperties"),
        ({"type": ["string", "null"]}, "a list of types"),
        ({"type": "array", "items": [{"type": "string"}]}, "a list of schemas"),
        ({"properties": {"id": {"$ref": "other.json#/x"}}}, "points outside the model"),
        ({"properties": {"id": {"$ref": "#/definitions/missing"}}}, "names no entry"),
    ],
)
def test_component_schemas_reject_unsupported_schema(schema, expected):
    with pytest.raises(openapi.OpenApiError, match=expected):
        openapi.component_schemas({"Parcel": schema})


def test_component_schemas_reject_name_collision():
    models = {"Parcel": {"definitions": {"item": {"type": "string"}}}, "ParcelItem": {"type": "string"}}

    with pytest.raises(openapi.OpenApiError, match="already taken"):
        openapi.component_schemas(models)


def test_openapi_write_reports_change(tmp_path):
    target = tmp_path / "openapi.json"

    assert openapi.write(target) is True
    assert openapi.is_current(target)
    assert openapi.write(target) is False
    target.write_text("{}\n", encoding="utf-8")
    assert not openapi.is_current(target)
