"""Access to the API: API Gateway's permission to invoke the function, and the clients' policy to invoke the routes."""

from typing import Mapping, Optional

import pulumi
import pulumi_aws as aws

from shared import api_definition, naming
from shared.provider import resource_options

API_GATEWAY_PRINCIPAL = "apigateway.amazonaws.com"


class ApiAccess(pulumi.ComponentResource):
    """Lambda invoke permissions per route, the client policy and the optional client role."""

    def __init__(
        self,
        name: str,
        settings: dict,
        route_arns: Mapping[str, pulumi.Output],
        function_name: pulumi.Input[str],
        provider: aws.Provider,
        tags: dict,
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        super().__init__(f"{naming.PROJECT}:edge:ApiAccess", name, None, opts)
        environment = settings["environment"]
        options = resource_options(provider, parent=self)
        invoke_options = pulumi.InvokeOptions(provider=provider, parent=self)

        # One permission per route, so API Gateway may invoke the function only for these two
        # method/path pairs of this stage. A source ARN that does not match the request gives
        # "Invalid permissions on Lambda function".
        self.permissions = []
        for route in api_definition.ROUTES:
            slug = f"{route.method.lower()}-{route.path_part}"
            self.permissions.append(
                aws.lambda_.Permission(
                    f"{name}-invoke-{slug}",
                    action="lambda:InvokeFunction",
                    function=function_name,
                    principal=API_GATEWAY_PRINCIPAL,
                    source_arn=route_arns[route.key],
                    statement_id=f"api-gateway-{environment}-{slug}",
                    opts=options,
                )
            )

        client_document = aws.iam.get_policy_document_output(
            statements=[
                aws.iam.GetPolicyDocumentStatementArgs(
                    sid="InvokeTrackingRoutes",
                    effect="Allow",
                    actions=["execute-api:Invoke"],
                    resources=[route_arns[route.key] for route in api_definition.ROUTES],
                )
            ],
            opts=invoke_options,
        )
        self.client_policy = aws.iam.Policy(
            f"{name}-client-policy",
            name=naming.resource_name(environment, "api-client"),
            description=f"Lets a carrier integration call POST /track and GET /status on the {environment} stage",
            policy=client_document.json,
            tags=tags,
            opts=options,
        )

        self.client_role = None
        principals = list(settings["clientTrustedPrincipals"])
        if principals:
            self.client_role = self._client_role(name, environment, principals, options, invoke_options, tags)

        self.register_outputs({"clientPolicyArn": self.client_policy.arn})

    def _client_role(self, name, environment, principals, options, invoke_options, tags) -> aws.iam.Role:
        trust_document = aws.iam.get_policy_document_output(
            statements=[
                aws.iam.GetPolicyDocumentStatementArgs(
                    sid="TrustedApiClients",
                    effect="Allow",
                    actions=["sts:AssumeRole"],
                    principals=[aws.iam.GetPolicyDocumentStatementPrincipalArgs(type="AWS", identifiers=principals)],
                )
            ],
            opts=invoke_options,
        )
        role = aws.iam.Role(
            f"{name}-client-role",
            name=naming.resource_name(environment, "api-client"),
            description=f"Assumed by carrier integrations to call the {environment} tracking API",
            assume_role_policy=trust_document.json,
            tags=tags,
            opts=options,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-client-role-policy",
            role=role.name,
            policy_arn=self.client_policy.arn,
            opts=options,
        )
        return role
