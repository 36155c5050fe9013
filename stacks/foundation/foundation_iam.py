"""IAM of the foundation: the function's execution role and API Gateway's CloudWatch logging role."""

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from shared import naming
from shared.provider import resource_options

LAMBDA_SERVICE = "lambda.amazonaws.com"
API_GATEWAY_SERVICE = "apigateway.amazonaws.com"
API_GATEWAY_LOGGING_POLICY_ARN = (
    f"arn:{naming.PARTITION}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
)

# Statement ids of the function's policy; the tests look statements up by these.
SID_TABLE_ITEMS = "TrackingTableItems"
SID_PAGE_TOKEN_KEY = "PageTokenKeyParameter"  # noqa: S105 - a statement id, not a secret
SID_CREATE_LOG_STREAM = "CreateLogStreams"
SID_PUT_LOG_EVENTS = "PutLogEvents"
SID_PARK_UPDATES = "ParkFailedUpdates"
SID_TRACING = "XRayTracing"
SID_TABLE_KEY = "TrackingTableKey"


@dataclass(frozen=True)
class FunctionAccess:
    """Exact ARNs of the resources the function uses at run time."""

    table_arn: pulumi.Input[str]
    dead_letter_queue_arn: pulumi.Input[str]
    page_token_key_parameter_arn: pulumi.Input[str]
    log_group_arn: pulumi.Input[str]
    # Customer-managed key of the table, or None for the AWS-managed key.
    table_key_arn: Optional[str] = None


def log_group_arn(account_id: pulumi.Input[str], log_group_name: str) -> pulumi.Output:
    """Return the ARN of a log group in this project's region, without the trailing ``:*``."""
    return pulumi.Output.concat(
        "arn:", naming.PARTITION, ":logs:", naming.REGION, ":", account_id, ":log-group:", log_group_name
    )


def function_policy_statements(access: FunctionAccess) -> list:
    """Return the statements of the function's least-privilege policy."""
    statement = aws.iam.GetPolicyDocumentStatementArgs
    statements = [
        statement(
            sid=SID_TABLE_ITEMS,
            actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
            resources=[access.table_arn],
        ),
        # The String parameters are read at deploy time by the compute stack, so the
        # function itself reads (and decrypts) only the page-token key.
        statement(
            sid=SID_PAGE_TOKEN_KEY,
            actions=["ssm:GetParameter"],
            resources=[access.page_token_key_parameter_arn],
        ),
        # CloudWatch Logs authorizes log-group actions against "<group ARN>:*" and some against
        # the bare ARN, so both are listed. The log group itself is created by the compute
        # stack, which is why logs:CreateLogGroup is not granted.
        statement(
            sid=SID_CREATE_LOG_STREAM,
            actions=["logs:CreateLogStream"],
            resources=[access.log_group_arn, pulumi.Output.concat(access.log_group_arn, ":*")],
        ),
        statement(
            sid=SID_PUT_LOG_EVENTS,
            actions=["logs:PutLogEvents"],
            resources=[pulumi.Output.concat(access.log_group_arn, ":log-stream:*")],
        ),
        # Lambda checks this permission when it creates a function with a dead letter config,
        # and the function sends updates it could not store to the same queue. SendMessageBatch,
        # which the function parks with, is authorized by this same action.
        statement(
            sid=SID_PARK_UPDATES,
            actions=["sqs:SendMessage"],
            resources=[access.dead_letter_queue_arn],
        ),
        # X-Ray has no resource-level permissions for these actions, so "*" is the only valid resource.
        statement(
            sid=SID_TRACING,
            actions=["xray:PutTelemetryRecords", "xray:PutTraceSegments"],
            resources=["*"],
        ),
    ]
    if access.table_key_arn:
        statements.append(
            statement(
                sid=SID_TABLE_KEY,
                actions=["kms:Decrypt"],
                resources=[access.table_key_arn],
                conditions=[
                    aws.iam.GetPolicyDocumentStatementConditionArgs(
                        test="StringEquals",
                        variable="kms:ViaService",
                        values=[f"dynamodb.{naming.REGION}.amazonaws.com"],
                    )
                ],
            )
        )
    return statements


def assume_role_policy(service: str, provider: aws.Provider, parent: pulumi.Resource) -> pulumi.Output:
    """Return a trust policy that lets one AWS service assume a role."""
    principal = aws.iam.GetPolicyDocumentStatementPrincipalArgs(type="Service", identifiers=[service])
    document = aws.iam.get_policy_document_output(
        statements=[aws.iam.GetPolicyDocumentStatementArgs(actions=["sts:AssumeRole"], principals=[principal])],
        opts=pulumi.InvokeOptions(provider=provider, parent=parent),
    )
    return document.json


class FunctionRole(pulumi.ComponentResource):
    """The function's execution role with one inline policy built from ``FunctionAccess``."""

    def __init__(
        self,
        name: str,
        settings: dict,
        access: FunctionAccess,
        provider: aws.Provider,
        tags: dict,
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        super().__init__(f"{naming.PROJECT}:foundation:FunctionRole", name, None, opts)
        environment = settings["environment"]

        self.role = aws.iam.Role(
            f"{name}-role",
            name=naming.resource_name(environment, "api-function"),
            description=f"Execution role of the tracking API function ({environment})",
            assume_role_policy=assume_role_policy(LAMBDA_SERVICE, provider, self),
            tags=tags,
            opts=resource_options(provider, parent=self),
        )
        document = aws.iam.get_policy_document_output(
            statements=function_policy_statements(access),
            opts=pulumi.InvokeOptions(provider=provider, parent=self),
        )
        self.policy = aws.iam.RolePolicy(
            f"{name}-policy",
            name="tracking-function-access",
            role=self.role.id,
            policy=document.json,
            opts=resource_options(provider, parent=self),
        )

        # The ARN resolves only after the policy is attached, so a consumer that creates the
        # function with a dead letter config never receives a role that lacks sqs:SendMessage.
        self.arn = pulumi.Output.all(self.role.arn, self.policy.id).apply(lambda values: values[0])
        self.register_outputs({"arn": self.arn})


class ApiGatewayLogging(pulumi.ComponentResource):
    """API Gateway's regional CloudWatch Logs role and the account setting that points to it.

    The setting is one per account and region. NOTE: when several environments share an
    account, every foundation stack sets it to its own role and the last deployment wins.
    Destroying that environment then leaves the other environments' stages without a logging role.
    """

    def __init__(
        self,
        name: str,
        settings: dict,
        provider: aws.Provider,
        tags: dict,
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        super().__init__(f"{naming.PROJECT}:foundation:ApiGatewayLogging", name, None, opts)
        environment = settings["environment"]

        self.role = aws.iam.Role(
            f"{name}-role",
            name=naming.resource_name(environment, "apigateway-cloudwatch"),
            description=f"Lets API Gateway write its logs in {naming.REGION} ({environment})",
            assume_role_policy=assume_role_policy(API_GATEWAY_SERVICE, provider, self),
            tags=tags,
            opts=resource_options(provider, parent=self),
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-policy",
            role=self.role.name,
            policy_arn=API_GATEWAY_LOGGING_POLICY_ARN,
            opts=resource_options(provider, parent=self),
        )
        # API Gateway checks the role's permissions when the setting is applied.
        self.account = aws.apigateway.Account(
            f"{name}-account",
            cloudwatch_role_arn=self.role.arn,
            opts=resource_options(provider, parent=self, depends_on=[attachment]),
        )

        # Resolves after the account setting exists, so the edge stack's stage can log from the start.
        self.role_arn = pulumi.Output.all(self.role.arn, self.account.id).apply(lambda values: values[0])
        self.register_outputs({"roleArn": self.role_arn})
