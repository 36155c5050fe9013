"""The REST API definition: resources, models, validators, methods, integrations and a deployment.

Every part is declared from ``shared.api_definition``. Each builder records the arguments it
sends (with AWS-assigned ids left out) in a description, and the deployment's trigger is the
SHA-256 of that description, so any change to the definition creates a new deployment.
"""

import hashlib
import json
from typing import Optional

import pulumi
import pulumi_aws as aws

from shared import api_definition, naming
from shared.api_definition import JSON_CONTENT_TYPE, Route
from shared.provider import resource_options
from shared.settings import API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS


class ModelError(ValueError):
    """An API Gateway model schema uses JSON Schema features that API Gateway rejects."""


def _slug(text: str) -> str:
    return text.lower().replace("_", "-")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class TrackingRestApi(pulumi.ComponentResource):
    """A regional REST API with IAM auth, request validation and Lambda proxy integrations."""

    def __init__(
        self,
        name: str,
        settings: dict,
        invoke_arn: pulumi.Input[str],
        provider: aws.Provider,
        tags: dict,
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        super().__init__(f"{naming.PROJECT}:edge:TrackingRestApi", name, None, opts)
        self._name = name
        self._provider = provider
        environment = settings["environment"]

        self.rest_api = aws.apigateway.RestApi(
            f"{name}-rest-api",
            name=naming.resource_name(environment, "api"),
            description=f"Logistics tracking API ({environment}): POST /track and GET /status, signed with SigV4",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
            tags=tags,
            opts=self._options(),
        )

        # What each definition resource was declared with, keyed by section and resource.
        self.description: dict = {}
        # Every resource that a deployment snapshots. The deployment waits for all of them.
        self.definition_resources: list = []

        self.models = {model: self._model(model, schema) for model, schema in api_definition.api_models().items()}
        self.validators = {kind: self._validator(kind, spec) for kind, spec in api_definition.VALIDATORS.items()}
        self.methods = {}
        for route in api_definition.ROUTES:
            self.methods[route.key] = self._route(route, invoke_arn)
        self.gateway_responses = {
            response_type: self._gateway_response(response_type, response)
            for response_type, response in api_definition.GATEWAY_RESPONSES.items()
        }

        self.redeployment_hash = pulumi.Output.json_dumps(self.description, sort_keys=True).apply(_sha256)
        self.deployment = aws.apigateway.Deployment(
            f"{name}-deployment",
            rest_api=self.rest_api.id,
            description=f"Tracking API definition for {environment}",
            triggers={"redeployment": self.redeployment_hash},
            # "The REST API doesn't contain any methods" unless the snapshot waits for them.
            opts=self._options(depends_on=self.definition_resources),
        )

        self.register_outputs(
            {
                "restApiId": self.rest_api.id,
                "deploymentId": self.deployment.id,
                "redeploymentHash": self.redeployment_hash,
            }
        )

    def _options(self, **options) -> pulumi.ResourceOptions:
        return resource_options(self._provider, parent=self, **options)

    def _describe(self, section: str, key: str, arguments: dict) -> None:
        self.description.setdefault(section, {})[key] = arguments

    def _model(self, model: str, schema: dict) -> aws.apigateway.Model:
        problems = api_definition.draft04_problems(schema)
        if problems:
            raise ModelError(
                f"model {model} is not JSON Schema draft-04, which API Gateway requires: {'; '.join(problems)}"
            )
        arguments = {
            "name": model,
            "content_type": JSON_CONTENT_TYPE,
            "description": schema.get("description", model),
            # The schema is a plain dict loaded from the function's schema files, not an Output.
            "schema": json.dumps(schema, sort_keys=True),
        }
        self._describe("models", model, arguments)
        resource = aws.apigateway.Model(
            f"{self._name}-model-{model.lower()}", rest_api=self.rest_api.id, **arguments, opts=self._options()
        )
        self.definition_resources.append(resource)
        return resource

    def _validator(self, kind: str, spec: api_definition.Validator) -> aws.apigateway.RequestValidator:
        arguments = {
            "name": spec.name,
            "validate_request_body": spec.validate_request_body,
            "validate_request_parameters": spec.validate_request_parameters,
        }
        self._describe("validators", kind, arguments)
        resource = aws.apigateway.RequestValidator(
            f"{self._name}-validator-{kind}", rest_api=self.rest_api.id, **arguments, opts=self._options()
        )
        self.definition_resources.append(resource)
        return resource

    def _route(self, route: Route, invoke_arn: pulumi.Input[str]) -> aws.apigateway.Method:
        prefix = f"{self._name}-{route.method.lower()}-{route.path_part}"

        self._describe("resources", route.path, {"path_part": route.path_part})
        resource = aws.apigateway.Resource(
            f"{self._name}-{route.path_part}",
            rest_api=self.rest_api.id,
            parent_id=self.rest_api.root_resource_id,
            path_part=route.path_part,
            opts=self._options(),
        )
        self.definition_resources.append(resource)

        method_arguments = {
            "http_method": route.method,
            "authorization": route.authorization,
            "operation_name": route.operation_name,
            "request_models": route.request_models() or None,
            "request_parameters": route.request_parameters() or None,
        }
        self._describe("methods", route.key, {**method_arguments, "request_validator": route.validator})
        # Models are referenced by name, which Pulumi cannot see, so the method waits for them.
        request_models = [self.models[model] for model in route.request_models().values()]
        method = aws.apigateway.Method(
            f"{prefix}-method",
            rest_api=self.rest_api.id,
            resource_id=resource.id,
            request_validator_id=self.validators[route.validator].id,
            **method_arguments,
            opts=self._options(depends_on=request_models),
        )
        self.definition_resources.append(method)

        integration_arguments = {
            "type": api_definition.INTEGRATION_TYPE,
            "integration_http_method": api_definition.INTEGRATION_HTTP_METHOD,
            "uri": invoke_arn,
            "timeout_milliseconds": API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS * 1000,
        }
        self._describe("integrations", route.key, integration_arguments)
        integration = aws.apigateway.Integration(
            f"{prefix}-integration",
            rest_api=self.rest_api.id,
            resource_id=resource.id,
            http_method=method.http_method,
            **integration_arguments,
            opts=self._options(),
        )
        self.definition_resources.append(integration)

        for status, model in route.responses.items():
            response_arguments = {"status_code": str(status), "response_models": {JSON_CONTENT_TYPE: model}}
            self._describe("method_responses", f"{route.key} {status}", response_arguments)
            method_response = aws.apigateway.MethodResponse(
                f"{prefix}-response-{status}",
                rest_api=self.rest_api.id,
                resource_id=resource.id,
                http_method=method.http_method,
                **response_arguments,
                opts=self._options(depends_on=[self.models[model]]),
            )
            self.definition_resources.append(method_response)
        return method

    def _gateway_response(
        self, response_type: str, response: api_definition.GatewayResponse
    ) -> aws.apigateway.Response:
        arguments = {
            "response_type": response_type,
            "status_code": None if response.status_code is None else str(response.status_code),
            "response_templates": {JSON_CONTENT_TYPE: response.template},
        }
        self._describe("gateway_responses", response_type, arguments)
        resource = aws.apigateway.Response(
            f"{self._name}-gateway-response-{_slug(response_type)}",
            rest_api_id=self.rest_api.id,
            **arguments,
            opts=self._options(),
        )
        self.definition_resources.append(resource)
        return resource
