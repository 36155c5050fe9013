"""The tracking function: its code package, Powertools layer, log group and Lambda function."""

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pulumi
import pulumi_aws as aws

from shared import contract, naming
from shared import settings as stack_settings
from shared.provider import resource_options

PACKAGE = "tracking"
HANDLER = f"{PACKAGE}.app.handler"
COMPONENT_TYPE = f"{naming.PROJECT}:compute:TrackingFunction"

# Environment variable names come from the function's contract module, so both sides agree.
ENV = contract.function_contract


@dataclass(frozen=True)
class FunctionInputs:
    """Values from the foundation stack and from Parameter Store that the function is built with."""

    role_arn: pulumi.Input[str]
    dead_letter_queue_arn: pulumi.Input[str]
    dead_letter_queue_url: pulumi.Input[str]
    api_config: pulumi.Input[str]
    feature_flags: pulumi.Input[str]
    database_connection: pulumi.Input[str]
    page_token_key_parameter_name: pulumi.Input[str]


def package_files(lambda_dir: Path = contract.LAMBDA_DIR) -> dict:
    """Return every file of the function package keyed by its path in the archive (``tracking/...``).

    Bytecode caches and hidden files (editor swap files, ``.DS_Store``) are left out.
    """
    package_dir = lambda_dir / PACKAGE
    files = {}
    for path in sorted(package_dir.rglob("*")):
        relative = path.relative_to(lambda_dir)
        if not path.is_file() or path.suffix == ".pyc":
            continue
        if any(part == "__pycache__" or part.startswith(".") for part in relative.parts):
            continue
        files[relative.as_posix()] = path
    handler_module = HANDLER.rsplit(".", 1)[0].replace(".", "/") + ".py"
    if handler_module not in files:
        raise FileNotFoundError(
            f"handler module {handler_module} not found under {lambda_dir}: the function's handler is "
            f"{HANDLER}. Fix: restore lambda/{handler_module} or change HANDLER in {__name__}"
        )
    return files


def package_code(lambda_dir: Path = contract.LAMBDA_DIR) -> pulumi.AssetArchive:
    """Return the deployment package; Pulumi zips it, so no build step runs while the program does."""
    return pulumi.AssetArchive({name: pulumi.FileAsset(path) for name, path in package_files(lambda_dir).items()})


def powertools_layer_arn(settings: dict) -> str:
    """Return the AWS-managed Powertools layer ARN for the configured runtime and architecture."""
    runtime, architecture = settings["runtime"], settings["architecture"]
    stack_settings.check_powertools_layer(runtime, architecture, settings["environment"])
    return naming.powertools_layer_arn(runtime, architecture, stack_settings.POWERTOOLS_LAYER_VERSION)


def function_environment(settings: dict, inputs: FunctionInputs) -> dict:
    """Return the function's environment variables, named by the function's own contract module."""
    return {
        ENV.ENV_ENVIRONMENT: settings["environment"],
        ENV.ENV_DEAD_LETTER_QUEUE_URL: inputs.dead_letter_queue_url,
        ENV.ENV_API_CONFIG: inputs.api_config,
        ENV.ENV_FEATURE_FLAGS: inputs.feature_flags,
        ENV.ENV_DATABASE_CONNECTION: inputs.database_connection,
        # Only the name: the function decrypts the key at run time and caches it for max age.
        ENV.ENV_PAGE_TOKEN_KEY_PARAMETER: inputs.page_token_key_parameter_name,
        ENV.ENV_PARAMETER_MAX_AGE: str(settings["parameterMaxAgeSeconds"]),
        "POWERTOOLS_SERVICE_NAME": naming.SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": naming.METRICS_NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": settings["logLevel"],
    }


class TrackingFunction(pulumi.ComponentResource):
    """The function's log group and the Lambda function that writes to it."""

    def __init__(
        self,
        name: str,
        settings: dict,
        inputs: FunctionInputs,
        provider: aws.Provider,
        tags: dict,
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        super().__init__(COMPONENT_TYPE, name, None, opts)
        environment = settings["environment"]

        # Lambda creates /aws/lambda/<name> itself on the first call unless it exists, and a
        # later deployment then fails with "log group already exists".
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-log-group",
            name=naming.function_log_group_name(environment),
            retention_in_days=settings["logRetentionDays"],
            tags=tags,
            opts=resource_options(provider, parent=self),
        )
        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=naming.function_name(environment),
            description=f"Tracking API ({environment})",
            role=inputs.role_arn,
            runtime=settings["runtime"],
            architectures=[settings["architecture"]],
            handler=HANDLER,
            code=package_code(),
            layers=[powertools_layer_arn(settings)],
            memory_size=settings["memorySize"],
            timeout=settings["timeout"],
            # None leaves the function on the account's unreserved pool.
            reserved_concurrent_executions=settings["reservedConcurrency"],
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=function_environment(settings, inputs)),
            # Lambda sends only failed asynchronous invocations here. API Gateway invokes
            # synchronously, so the function parks failed writes on the same queue itself.
            dead_letter_config=aws.lambda_.FunctionDeadLetterConfigArgs(target_arn=inputs.dead_letter_queue_arn),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            tags=tags,
            opts=resource_options(provider, parent=self, depends_on=[self.log_group]),
        )
        self.register_outputs({"functionArn": self.function.arn, "logGroupName": self.log_group.name})
