"""The stage that serves a deployment: access logs, X-Ray, metrics, execution logs and throttling."""

from typing import Optional

import pulumi
import pulumi_aws as aws

from shared import api_definition, naming
from shared.provider import resource_options


class ApiStage(pulumi.ComponentResource):
    """A stage named after the environment, with its access log group and method settings."""

    def __init__(
        self,
        name: str,
        settings: dict,
        rest_api: aws.apigateway.RestApi,
        deployment: aws.apigateway.Deployment,
        logging_role_arn: pulumi.Input[str],
        provider: aws.Provider,
        tags: dict,
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        super().__init__(f"{naming.PROJECT}:edge:ApiStage", name, None, opts)
        environment = settings["environment"]
        options = resource_options(provider, parent=self)

        self.access_log_group = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name=naming.api_access_log_group_name(environment),
            retention_in_days=settings["logRetentionDays"],
            tags=tags,
            opts=options,
        )

        # A stage that logs needs the account's CloudWatch role, which the foundation stack sets.
        # The foundation's role ARN output resolves only once that setting exists, so waiting on
        # it orders the stage after the setting without this stack touching the singleton.
        deployment_id = pulumi.Output.all(deployment.id, logging_role_arn).apply(lambda values: values[0])

        self.stage = aws.apigateway.Stage(
            f"{name}-stage",
            rest_api=rest_api.id,
            deployment=deployment_id,
            stage_name=environment,
            description=f"Tracking API, {environment} environment",
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                destination_arn=self.access_log_group.arn,
                format=api_definition.access_log_format(),
            ),
            xray_tracing_enabled=True,
            tags=tags,
            opts=options,
        )

        self.method_settings = aws.apigateway.MethodSettings(
            f"{name}-method-settings",
            rest_api=rest_api.id,
            stage_name=self.stage.stage_name,
            method_path="*/*",
            settings=aws.apigateway.MethodSettingsSettingsArgs(
                metrics_enabled=True,
                logging_level=settings["executionLoggingLevel"],
                # Data tracing writes whole requests and responses, shipment data included, to the logs.
                data_trace_enabled=False,
                throttling_rate_limit=float(settings["throttlingRateLimit"]),
                throttling_burst_limit=settings["throttlingBurstLimit"],
            ),
            opts=options,
        )

        # ARN of each route as IAM and Lambda see it: <API execution ARN>/<stage>/<method><path>.
        self.route_arns = {
            route.key: pulumi.Output.concat(self.stage.execution_arn, "/", route.method, route.path)
            for route in api_definition.ROUTES
        }

        self.register_outputs(
            {
                "stageName": self.stage.stage_name,
                "invokeUrl": self.stage.invoke_url,
                "accessLogGroupName": self.access_log_group.name,
            }
        )
