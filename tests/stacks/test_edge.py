"""Edge stack under the mock engine: routes, validation, deployment, stage, permissions and client access.

Each API Gateway failure mode the stack guards against has a test here that fails if the
mistake returns. The mistakes are a deployment that misses changes, a hand-built invoke URL,
a stage without the account's logging role and a wrong Lambda permission. So are skipped
validation, models beyond draft-04, access logs without the request id, and Outputs
rendered as text.
"""

import dataclasses
import json

import pulumi_aws
import pytest

from devkit.offline import run_program
from shared import api_definition, contract, naming, outputs
from shared.tags import standard_tags

ENVIRONMENT = "dev"
ORGANIZATION = naming.DEFAULT_ORGANIZATION

# Upstream values that differ from what naming would build, so a test checks whether the
# stack reads the upstream outputs or builds the names itself.
FUNCTION_ARN = "arn:aws:lambda:us-west-2:123456789012:function:upstream-tracking-fn"
UPSTREAM_VALUES = {
    outputs.API_GATEWAY_CLOUDWATCH_ROLE_ARN: "arn:aws:iam::123456789012:role/upstream-apigateway-logs",
    outputs.FUNCTION_NAME: "upstream-tracking-fn",
    outputs.FUNCTION_INVOKE_ARN: (
        f"arn:aws:apigateway:us-west-2:lambda:path/2015-03-31/functions/{FUNCTION_ARN}/invocations"
    ),
}

REST_API = "aws:apigateway/restApi:RestApi"
RESOURCE = "aws:apigateway/resource:Resource"
METHOD = "aws:apigateway/method:Method"
INTEGRATION = "aws:apigateway/integration:Integration"
MODEL = "aws:apigateway/model:Model"
VALIDATOR = "aws:apigateway/requestValidator:RequestValidator"
METHOD_RESPONSE = "aws:apigateway/methodResponse:MethodResponse"
GATEWAY_RESPONSE = "aws:apigateway/response:Response"
DEPLOYMENT = "aws:apigateway/deployment:Deployment"
STAGE = "aws:apigateway/stage:Stage"
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
ACCOUNT = "aws:apigateway/account:Account"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
PERMISSION = "aws:lambda/permission:Permission"
POLICY = "aws:iam/policy:Policy"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"

DEFINITION_TYPES = (RESOURCE, METHOD, INTEGRATION, MODEL, VALIDATOR, METHOD_RESPONSE, GATEWAY_RESPONSE)
REQUIRED_GATEWAY_RESPONSES = (
    "BAD_REQUEST_BODY",
    "BAD_REQUEST_PARAMETERS",
    "MISSING_AUTHENTICATION_TOKEN",
    "INVALID_SIGNATURE",
    "EXPIRED_TOKEN",
    "ACCESS_DENIED",
    "THROTTLED",
    "UNAUTHORIZED",
    "DEFAULT_4XX",
    "DEFAULT_5XX",
)
DRAFT_04 = "http://json-schema.org/draft-04/schema#"
LATER_DRAFT_KEYWORDS = {"const", "contains", "propertyNames", "if", "then", "else", "$defs", "dependentRequired"}


def upstream_outputs(environment: str = ENVIRONMENT, **overrides) -> dict:
    """Return fake outputs of every stack edge reads, exactly the outputs REQUIRED_UPSTREAM lists."""
    values = {**UPSTREAM_VALUES, **overrides}
    return {
        naming.stack_reference_name(ORGANIZATION, layer, environment): {name: values[name] for name in names}
        for layer, names in outputs.REQUIRED_UPSTREAM["edge"].items()
    }


def run_edge(environment: str = ENVIRONMENT, config: dict = None, **upstream_overrides):
    return run_program(
        "edge", environment, config=config or {}, upstream=upstream_outputs(environment, **upstream_overrides)
    )


def trigger_of(run) -> str:
    return run.one(DEPLOYMENT).inputs["triggers"]["redeployment"]


def method_for(run, route):
    methods = [m for m in run.of_type(METHOD) if m.inputs["httpMethod"] == route.method]
    resource = next(r for r in run.of_type(RESOURCE) if r.inputs["pathPart"] == route.path_part)
    # The mock engine gives every resource the id "<logical name>-id".
    matching = [m for m in methods if m.inputs["resourceId"] == f"{resource.name}-id"]
    assert len(matching) == 1, f"expected one method for {route.key}, found {[m.name for m in matching]}"
    return matching[0]


def walk_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from walk_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk_strings(item)


def schema_locations(schema: dict, location: str = "#"):
    """Yield (location, subschema) for a schema and every schema nested in it."""
    yield location, schema
    for keyword in ("properties", "patternProperties", "definitions"):
        for name, subschema in schema.get(keyword, {}).items():
            yield from schema_locations(subschema, f"{location}/{keyword}/{name}")
    for keyword in ("allOf", "anyOf", "oneOf"):
        for index, subschema in enumerate(schema.get(keyword, [])):
            yield from schema_locations(subschema, f"{location}/{keyword}/{index}")
    for keyword in ("items", "not", "additionalProperties"):
        if isinstance(schema.get(keyword), dict):
            yield from schema_locations(schema[keyword], f"{location}/{keyword}")


def sdk_class(type_token: str):
    """Return the pulumi_aws class of a type token such as ``aws:apigateway/stage:Stage``."""
    module = type_token.split(":")[1].split("/")[0]
    module = {"lambda": "lambda_"}.get(module, module)
    return getattr(getattr(pulumi_aws, module), type_token.split(":")[-1])


@pytest.fixture(scope="module")
def edge_run():
    return run_edge()


@pytest.fixture(scope="module")
def baseline_trigger(edge_run):
    return trigger_of(edge_run)


# --- shared.api_definition ---------------------------------------------------------------


def test_api_definition_routes_follow_contract():
    assert tuple((route.method, route.path) for route in api_definition.ROUTES) == tuple(contract.ROUTES)


def test_api_definition_status_route_requires_tracking_id():
    route = api_definition.find_route("GET", "/status")
    assert route is not None, "GET /status is missing from ROUTES"
    assert route.query_parameters == contract.STATUS_QUERY_PARAMETERS
    assert route.required_parameters == ("tracking_id",)


@pytest.mark.parametrize("response_type", sorted(api_definition.GATEWAY_RESPONSES))
def test_gateway_response_renders_json(response_type):
    context = {
        "error": {"message": 'message with "quotes"', "validationErrorString": '[missing (["status"])]'},
        "requestId": "request-1",
        "status": 415,
    }
    status, body = api_definition.render_gateway_response(response_type, context)
    assert 400 <= status < 600, f"{response_type} renders status {status}"
    assert isinstance(body.get("message"), str) and body["message"], f"{response_type} has no message"
    assert body["request_id"] == "request-1", f"{response_type} drops the request id"


def test_gateway_response_bad_body_lists_errors():
    validation_error = '[object has missing required properties (["status"])]'
    status, body = api_definition.render_gateway_response(
        "BAD_REQUEST_BODY", {"error.validationErrorString": validation_error, "requestId": "request-1"}
    )
    assert status == 400
    assert body["message"] == "Invalid request body"
    assert body["errors"] == [{"field": "body", "rule": "model", "message": validation_error}]
    assert body["validation_error"] == validation_error
    assert body["request_id"] == "request-1"


def test_gateway_response_bad_parameters_lists_errors():
    message = "Missing required request parameters: [tracking_id]"
    status, body = api_definition.render_gateway_response("BAD_REQUEST_PARAMETERS", {"error.message": message})
    assert status == 400
    assert body["message"] == message
    assert body["errors"] == [{"field": "query", "rule": "required", "message": message}]


def test_gateway_response_bad_body_escapes_validation_error():
    validation_error = '[/tracking_id: string "a\\"b" does not match the pattern "^x$"]'
    _, body = api_definition.render_gateway_response(
        "BAD_REQUEST_BODY", {"error.validationErrorString": validation_error}
    )
    assert body["errors"][0]["message"] == validation_error


def test_gateway_response_default_keeps_status():
    status, _ = api_definition.render_gateway_response("DEFAULT_4XX", {"status": 413, "error.message": "too large"})
    assert status == 413


def test_gateway_response_missing_token_names_both_causes():
    _, body = api_definition.render_gateway_response("MISSING_AUTHENTICATION_TOKEN", {})
    message = body["message"]
    assert "no route matches" in message, message
    assert "not signed" in message, message
    for route in api_definition.ROUTES:
        assert route.path in message, f"message does not list {route.key}: {message}"


def test_draft04_check_rejects_later_drafts():
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "properties": {"count": {"type": "integer", "exclusiveMinimum": 0}, "kind": {"const": "x"}},
    }
    problems = api_definition.draft04_problems(schema)
    assert any("$schema" in problem for problem in problems), problems
    assert any("exclusiveMinimum" in problem for problem in problems), problems
    assert any("const" in problem for problem in problems), problems


# --- REST API, resources, methods, integrations ------------------------------------------


def test_rest_api_regional_and_named(edge_run):
    rest_api = edge_run.one(REST_API)
    assert rest_api.inputs["name"] == naming.resource_name(ENVIRONMENT, "api"), rest_api.name
    assert rest_api.inputs["endpointConfiguration"]["types"] == "REGIONAL", rest_api.name


def test_resources_match_routes(edge_run):
    rest_api = edge_run.one(REST_API)
    resources = edge_run.of_type(RESOURCE)
    assert sorted(r.inputs["pathPart"] for r in resources) == sorted(r.path_part for r in api_definition.ROUTES)
    for resource in resources:
        assert resource.inputs["parentId"] == rest_api.state["rootResourceId"], resource.name


def test_methods_require_aws_iam(edge_run):
    methods = edge_run.of_type(METHOD)
    assert len(methods) == len(api_definition.ROUTES)
    for method in methods:
        assert method.inputs["authorization"] == "AWS_IAM", method.name


def test_methods_have_request_validator(edge_run):
    validators = {v.inputs["name"]: v for v in edge_run.of_type(VALIDATOR)}
    for route in api_definition.ROUTES:
        method = method_for(edge_run, route)
        validator = validators[api_definition.VALIDATORS[route.validator].name]
        assert method.inputs.get("requestValidatorId") == f"{validator.name}-id", method.name


def test_track_method_validates_json_body(edge_run):
    method = method_for(edge_run, api_definition.find_route("POST", "/track"))
    assert method.inputs["requestModels"] == {"application/json": "TrackRequest"}, method.name
    validator = next(v for v in edge_run.of_type(VALIDATOR) if method.inputs["requestValidatorId"] == f"{v.name}-id")
    assert validator.inputs["validateRequestBody"] is True, validator.name
    assert validator.inputs["validateRequestParameters"] is False, validator.name


def test_status_method_requires_tracking_id(edge_run):
    method = method_for(edge_run, api_definition.find_route("GET", "/status"))
    expected = {
        f"method.request.querystring.{name}": required for name, required in contract.STATUS_QUERY_PARAMETERS.items()
    }
    assert method.inputs["requestParameters"] == expected, method.name
    assert method.inputs["requestParameters"]["method.request.querystring.tracking_id"] is True, method.name
    validator = next(v for v in edge_run.of_type(VALIDATOR) if method.inputs["requestValidatorId"] == f"{v.name}-id")
    assert validator.inputs["validateRequestParameters"] is True, validator.name


def test_integrations_are_lambda_proxy(edge_run):
    integrations = edge_run.of_type(INTEGRATION)
    assert len(integrations) == len(api_definition.ROUTES)
    for integration in integrations:
        assert integration.inputs["type"] == "AWS_PROXY", integration.name
        assert integration.inputs["integrationHttpMethod"] == "POST", integration.name
        assert integration.inputs["uri"] == UPSTREAM_VALUES[outputs.FUNCTION_INVOKE_ARN], integration.name
        assert integration.inputs["timeoutMilliseconds"] <= 29000, integration.name
    assert sorted(i.inputs["httpMethod"] for i in integrations) == sorted(r.method for r in api_definition.ROUTES)


def test_method_responses_document_every_status(edge_run):
    documented = {
        (r.inputs["httpMethod"], r.inputs["statusCode"]): r.inputs["responseModels"]
        for r in edge_run.of_type(METHOD_RESPONSE)
    }
    expected = {
        ("POST", "201"): "UpdateResult",
        ("POST", "200"): "TrackResult",
        ("POST", "202"): "UpdateResult",
        ("POST", "400"): "Error",
        ("POST", "403"): "Error",
        ("POST", "503"): "Error",
        ("GET", "200"): "StatusResult",
        ("GET", "400"): "Error",
        ("GET", "403"): "Error",
        ("GET", "404"): "Error",
    }
    assert set(documented) == set(expected)
    for key, model in expected.items():
        assert documented[key] == {"application/json": model}, f"method response {key}"


# --- models --------------------------------------------------------------------------------


def test_models_cover_every_contract_schema(edge_run):
    models = {m.inputs["name"]: m for m in edge_run.of_type(MODEL)}
    for name, schema in contract.models().items():
        assert name in models, f"no model {name}"
        assert models[name].inputs["contentType"] == "application/json", models[name].name
        assert json.loads(models[name].inputs["schema"]) == schema, models[name].name


def test_track_result_model_combines_update_and_batch(edge_run):
    model = next(m for m in edge_run.of_type(MODEL) if m.inputs["name"] == "TrackResult")
    schema = json.loads(model.inputs["schema"])
    titles = sorted(branch["title"] for branch in schema["anyOf"])
    assert titles == ["BatchResult", "UpdateResult"], model.name


def test_models_are_draft04_only(edge_run):
    models = edge_run.of_type(MODEL)
    assert models, "edge declares no models"
    for model in models:
        schema = json.loads(model.inputs["schema"])
        assert schema.get("$schema") == DRAFT_04, f"{model.name}: $schema is {schema.get('$schema')!r}"
        for location, subschema in schema_locations(schema):
            used = LATER_DRAFT_KEYWORDS & set(subschema)
            assert not used, f"{model.name} {location} uses {sorted(used)}"
            for keyword in ("exclusiveMinimum", "exclusiveMaximum"):
                if keyword in subschema:
                    assert isinstance(subschema[keyword], bool), f"{model.name} {location}: numeric {keyword}"
            if location != "#":
                assert "$schema" not in subschema, f"{model.name} {location}: nested $schema"


def test_stack_rejects_model_beyond_draft04(monkeypatch):
    schemas = contract.models()
    schemas["TrackRequest"] = {**schemas["TrackRequest"], "properties": {"kind": {"const": "update"}}}
    monkeypatch.setattr(contract, "models", lambda: schemas)
    with pytest.raises(Exception, match="TrackRequest"):
        run_edge()


# --- gateway responses ---------------------------------------------------------------------


def test_gateway_responses_cover_required_types(edge_run):
    declared = {r.inputs["responseType"] for r in edge_run.of_type(GATEWAY_RESPONSE)}
    missing = set(REQUIRED_GATEWAY_RESPONSES) - declared
    assert not missing, f"gateway responses missing: {sorted(missing)}"


# The status each gateway response must carry: API Gateway's own for the type, except where the
# contract chooses one. A 404 for an unknown route, say, would hide that it also means "unsigned".
GATEWAY_RESPONSE_STATUSES = {
    "BAD_REQUEST_BODY": 400,
    "BAD_REQUEST_PARAMETERS": 400,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "INVALID_SIGNATURE": 403,
    "EXPIRED_TOKEN": 403,
    "ACCESS_DENIED": 403,
    "THROTTLED": 429,
    "UNAUTHORIZED": 401,
}


@pytest.mark.parametrize(("response_type", "status"), GATEWAY_RESPONSE_STATUSES.items())
def test_gateway_response_statuses_are_the_documented_ones(edge_run, response_type, status):
    (response,) = [r for r in edge_run.of_type(GATEWAY_RESPONSE) if r.inputs["responseType"] == response_type]

    assert response.inputs["statusCode"] == str(status), response.name


def test_gateway_responses_match_api_definition(edge_run):
    for response in edge_run.of_type(GATEWAY_RESPONSE):
        expected = api_definition.GATEWAY_RESPONSES[response.inputs["responseType"]]
        assert response.inputs["restApiId"] == edge_run.outputs[outputs.REST_API_ID], response.name
        assert response.inputs["responseTemplates"] == {"application/json": expected.template}, response.name
        if expected.status_code is None:
            assert "statusCode" not in response.inputs, response.name
        else:
            assert response.inputs["statusCode"] == str(expected.status_code), response.name


def test_gateway_response_bad_body_template_has_validation_string(edge_run):
    response = next(r for r in edge_run.of_type(GATEWAY_RESPONSE) if r.inputs["responseType"] == "BAD_REQUEST_BODY")
    assert "$context.error.validationErrorString" in response.inputs["responseTemplates"]["application/json"]


# --- deployment ----------------------------------------------------------------------------


def test_deployment_depends_on_api_definition(edge_run):
    deployment = edge_run.one(DEPLOYMENT)
    for type_token in DEFINITION_TYPES:
        resources = edge_run.of_type(type_token)
        assert resources, f"no {type_token} declared"
        for resource in resources:
            assert resource.urn in deployment.dependencies, f"{deployment.name} does not wait for {resource.name}"


def test_deployment_trigger_is_sha256(baseline_trigger):
    assert len(baseline_trigger) == 64
    int(baseline_trigger, 16)


def test_deployment_trigger_is_deterministic(baseline_trigger):
    assert trigger_of(run_edge()) == baseline_trigger


def _change_schema(monkeypatch):
    schemas = contract.models()
    schemas["StatusResult"]["properties"]["status"] = {"type": "string", "minLength": 1}
    monkeypatch.setattr(contract, "models", lambda: schemas)


def _change_gateway_response(monkeypatch):
    throttled = api_definition.GATEWAY_RESPONSES["THROTTLED"]
    changed = throttled._replace(template=throttled.template.replace("Too many", "Too many tracking"))
    monkeypatch.setitem(api_definition.GATEWAY_RESPONSES, "THROTTLED", changed)


def _change_validator(monkeypatch):
    body = api_definition.VALIDATORS["body"]
    monkeypatch.setitem(api_definition.VALIDATORS, "body", body._replace(validate_request_parameters=True))


def _change_method(monkeypatch):
    routes = list(api_definition.ROUTES)
    status = next(i for i, route in enumerate(routes) if route.method == "GET")
    routes[status] = dataclasses.replace(routes[status], query_parameters={"tracking_id": True, "history": True})
    monkeypatch.setattr(api_definition, "ROUTES", tuple(routes))


def _change_method_response(monkeypatch):
    routes = list(api_definition.ROUTES)
    track = next(i for i, route in enumerate(routes) if route.method == "POST")
    routes[track] = dataclasses.replace(routes[track], responses={**routes[track].responses, 413: "Error"})
    monkeypatch.setattr(api_definition, "ROUTES", tuple(routes))


@pytest.mark.parametrize(
    "change",
    [_change_schema, _change_gateway_response, _change_validator, _change_method, _change_method_response],
    ids=["model", "gateway-response", "validator", "method", "method-response"],
)
def test_deployment_trigger_changes_with_definition(monkeypatch, baseline_trigger, change):
    change(monkeypatch)
    assert trigger_of(run_edge()) != baseline_trigger


def test_deployment_trigger_changes_with_integration(baseline_trigger):
    other = UPSTREAM_VALUES[outputs.FUNCTION_INVOKE_ARN].replace("upstream-tracking-fn", "replaced-fn")
    assert trigger_of(run_edge(**{outputs.FUNCTION_INVOKE_ARN: other})) != baseline_trigger


def test_deployment_trigger_ignores_stage_settings(baseline_trigger):
    run = run_edge(config={"throttlingRateLimit": "7", "executionLoggingLevel": "INFO"})
    assert trigger_of(run) == baseline_trigger


# --- stage ---------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_stage_named_after_environment(environment):
    run = run_edge(environment)
    stage = run.one(STAGE)
    assert stage.inputs["stageName"] == environment, stage.name
    assert stage.inputs["deployment"] == f"{run.one(DEPLOYMENT).name}-id", stage.name
    assert stage.inputs["xrayTracingEnabled"] is True, stage.name


def test_invoke_url_output_is_stage_invoke_url(edge_run):
    stage = edge_run.one(STAGE)
    assert edge_run.outputs[outputs.INVOKE_URL] == stage.state["invokeUrl"], stage.name
    assert edge_run.outputs[outputs.INVOKE_URL].endswith(f"/{ENVIRONMENT}"), edge_run.outputs[outputs.INVOKE_URL]


def test_stage_waits_for_account_logging_role(edge_run):
    stage = edge_run.one(STAGE)
    foundation_reference = [urn for urn in stage.dependencies if urn.endswith("StackReference::foundation-stack")]
    assert foundation_reference, f"{stage.name} does not wait for the foundation's CloudWatch role output"


def test_stage_fails_without_logging_role_output(error_chain):
    upstream = upstream_outputs()
    del upstream[naming.stack_reference_name(ORGANIZATION, "foundation", ENVIRONMENT)][
        outputs.API_GATEWAY_CLOUDWATCH_ROLE_ARN
    ]
    with pytest.raises(Exception) as caught:  # noqa: B017 - the engine may wrap the KeyError
        run_program("edge", ENVIRONMENT, upstream=upstream)
    missing = [error for error in error_chain(caught.value) if isinstance(error, KeyError)]
    assert missing, f"expected a KeyError for the missing output, got {caught.value!r}"
    assert outputs.API_GATEWAY_CLOUDWATCH_ROLE_ARN in str(missing[0])


def test_edge_declares_no_account_setting(edge_run):
    assert edge_run.of_type(ACCOUNT) == [], "the account setting belongs to the foundation stack only"


def test_access_log_group_named_with_retention(edge_run):
    log_group = edge_run.one(LOG_GROUP)
    assert log_group.inputs["name"] == naming.api_access_log_group_name(ENVIRONMENT), log_group.name
    assert log_group.inputs["retentionInDays"] == 30, log_group.name
    retained = run_edge(config={"logRetentionDays": "90"}).one(LOG_GROUP)
    assert retained.inputs["retentionInDays"] == 90, retained.name


def test_access_log_format_is_json_with_request_id(edge_run):
    stage = edge_run.one(STAGE)
    settings = stage.inputs["accessLogSettings"]
    log_format = settings["format"]
    assert "$context.requestId" in log_format, stage.name
    assert settings["destinationArn"] == edge_run.one(LOG_GROUP).state["arn"], stage.name
    # messageString arrives quoted, so replacing it with a JSON string must give valid JSON.
    entry = json.loads(log_format.replace("$context.error.messageString", '"message"'))
    for variable in (
        "$context.requestId",
        "$context.identity.userArn",
        "$context.httpMethod",
        "$context.resourcePath",
        "$context.status",
        "$context.responseLatency",
        "$context.integrationLatency",
    ):
        assert variable in entry.values(), f"access log lacks {variable}"
    assert "error_message" in entry, "access log lacks the error message"


def test_method_settings_metrics_and_no_data_trace(edge_run):
    method_settings = edge_run.one(METHOD_SETTINGS)
    values = method_settings.inputs["settings"]
    assert method_settings.inputs["methodPath"] == "*/*", method_settings.name
    assert method_settings.inputs["stageName"] == ENVIRONMENT, method_settings.name
    assert values["metricsEnabled"] is True, method_settings.name
    assert values["dataTraceEnabled"] is False, method_settings.name
    assert values["loggingLevel"] in ("INFO", "ERROR"), method_settings.name


def test_method_settings_throttling_from_settings():
    run = run_edge(config={"throttlingRateLimit": "12", "throttlingBurstLimit": "34", "executionLoggingLevel": "INFO"})
    values = run.one(METHOD_SETTINGS).inputs["settings"]
    assert values["throttlingRateLimit"] == 12
    assert values["throttlingBurstLimit"] == 34
    assert values["loggingLevel"] == "INFO"
    # INFO execution logs still never carry request and response bodies, which hold carrier data.
    assert values["dataTraceEnabled"] is False


# --- permissions and client access ---------------------------------------------------------


def route_arn(run, route) -> str:
    execution_arn = run.one(REST_API).state["executionArn"]
    return f"{execution_arn}/{ENVIRONMENT}/{route.method}{route.path}"


def test_lambda_permission_per_route(edge_run):
    permissions = edge_run.of_type(PERMISSION)
    assert len(permissions) == len(api_definition.ROUTES)
    source_arns = sorted(p.inputs["sourceArn"] for p in permissions)
    assert source_arns == sorted(route_arn(edge_run, route) for route in api_definition.ROUTES)
    for permission in permissions:
        assert permission.inputs["action"] == "lambda:InvokeFunction", permission.name
        assert permission.inputs["principal"] == "apigateway.amazonaws.com", permission.name
        assert permission.inputs["function"] == UPSTREAM_VALUES[outputs.FUNCTION_NAME], permission.name
        assert permission.inputs["sourceArn"].startswith(edge_run.outputs[outputs.EXECUTION_ARN] + "/"), permission.name


def test_client_policy_allows_only_route_invoke(edge_run):
    policy = edge_run.one(POLICY)
    document = json.loads(policy.inputs["policy"])
    statements = document["Statement"]
    assert len(statements) == 1, policy.name
    statement = statements[0]
    assert statement["Effect"] == "Allow", policy.name
    assert statement["Action"] == ["execute-api:Invoke"], policy.name
    assert sorted(statement["Resource"]) == sorted(route_arn(edge_run, route) for route in api_definition.ROUTES)
    assert edge_run.outputs[outputs.CLIENT_POLICY_ARN] == policy.state["arn"], policy.name


def test_client_role_absent_by_default(edge_run):
    assert edge_run.of_type(ROLE) == []
    assert edge_run.of_type(ATTACHMENT) == []


def test_client_role_trusts_configured_principals():
    principals = ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:role/carrier-sync"]
    run = run_edge(config={"clientTrustedPrincipals": json.dumps(principals)})
    role = run.one(ROLE)
    trust = json.loads(role.inputs["assumeRolePolicy"])
    statement = trust["Statement"][0]
    assert statement["Action"] == ["sts:AssumeRole"], role.name
    assert sorted(statement["Principal"]["AWS"]) == sorted(principals), role.name
    attachment = run.one(ATTACHMENT)
    assert attachment.inputs["policyArn"] == run.one(POLICY).state["arn"], attachment.name
    assert attachment.inputs["role"] == role.state["name"], attachment.name


# --- exports, provider, tags, Outputs as text ----------------------------------------------


def test_exports_exactly_edge_outputs(edge_run):
    assert set(edge_run.outputs) == set(outputs.BY_LAYER["edge"])
    assert edge_run.outputs[outputs.REST_API_NAME] == naming.resource_name(ENVIRONMENT, "api")
    assert edge_run.outputs[outputs.STAGE_NAME] == ENVIRONMENT
    assert edge_run.outputs[outputs.ACCESS_LOG_GROUP_NAME] == naming.api_access_log_group_name(ENVIRONMENT)
    assert edge_run.outputs[outputs.EXECUTION_ARN] == edge_run.one(REST_API).state["executionArn"]


def test_every_resource_uses_edge_provider(edge_run):
    for resource in edge_run.resources:
        if resource.type.startswith("aws:"):
            assert resource.provider and "::aws-edge::" in resource.provider, resource.name


def test_taggable_resources_carry_standard_tags(edge_run):
    expected = standard_tags({"environment": ENVIRONMENT, "owner": "platform-team", "costCenter": "logistics"}, "edge")
    tagged = 0
    for resource in edge_run.resources:
        if not resource.type.startswith("aws:") or not hasattr(sdk_class(resource.type), "tags"):
            continue
        tagged += 1
        assert resource.inputs.get("tags") == expected, resource.name
    assert tagged >= 4, "expected the REST API, stage, log group and client policy to carry tags"


def test_children_parented_to_components(edge_run):
    for resource in edge_run.resources:
        if resource.type.startswith("aws:"):
            assert resource.parent and "logistics-tracking:edge:" in resource.parent, resource.name


def test_no_output_rendered_as_text(edge_run):
    for resource in edge_run.resources:
        for text in walk_strings(resource.inputs):
            assert "Calling __str__ on an Output" not in text, resource.name
            assert "<pulumi.output.Output" not in text, resource.name


# --- real upstream exports -----------------------------------------------------------------


def test_edge_reads_real_upstream_exports(run_layer, compute_run):
    run = run_layer("edge")
    for integration in run.of_type(INTEGRATION):
        assert integration.inputs["uri"] == compute_run.outputs[outputs.FUNCTION_INVOKE_ARN], integration.name
    for permission in run.of_type(PERMISSION):
        assert permission.inputs["function"] == compute_run.outputs[outputs.FUNCTION_NAME], permission.name
    assert set(run.outputs) == set(outputs.BY_LAYER["edge"])
