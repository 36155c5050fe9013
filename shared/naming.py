"""Names of projects, stacks and AWS resources, built in one place."""

PROJECT = "logistics-tracking"
REGION = "us-west-2"
# ARN partition of REGION.
PARTITION = "aws"

# Powertools service name and CloudWatch metrics namespace of the function.
SERVICE_NAME = "tracking-api"
METRICS_NAMESPACE = "LogisticsTracking"

# Deploy order: each layer reads outputs of the layers before it.
LAYERS = ("foundation", "compute", "edge", "observability")
ENVIRONMENTS = ("dev", "staging", "prod")

DEFAULT_ORGANIZATION = "organization"

# Account that publishes the AWS-managed Powertools for AWS Lambda (Python) layers.
POWERTOOLS_LAYER_ACCOUNT = "017000801446"


def project_name(layer: str) -> str:
    """Return the Pulumi project name of a layer, as written in its Pulumi.yaml."""
    return f"{PROJECT}-{layer}"


def stack_reference_name(organization: str, layer: str, environment: str) -> str:
    """Return the fully qualified stack name that a StackReference to a layer uses."""
    return f"{organization}/{project_name(layer)}/{environment}"


def resource_name(environment: str, name: str) -> str:
    """Return the physical name of an AWS resource, unique per environment."""
    return f"{PROJECT}-{environment}-{name}"


def function_name(environment: str) -> str:
    return resource_name(environment, "api")


def function_log_group_name(environment: str) -> str:
    """Return the log group Lambda writes to; it must exist before the function's first call."""
    return f"/aws/lambda/{function_name(environment)}"


def api_access_log_group_name(environment: str) -> str:
    return f"/aws/apigateway/{resource_name(environment, 'api')}/access"


def parameter_path(environment: str) -> str:
    """Return the Parameter Store hierarchy that holds one environment's parameters."""
    return f"/{PROJECT}/{environment}"


def parameter_name(environment: str, key: str) -> str:
    return f"{parameter_path(environment)}/{key}"


def powertools_layer_arn(runtime: str, architecture: str, version: int, region: str = REGION) -> str:
    """Return the ARN of the AWS-managed Powertools layer for a runtime and architecture."""
    python_tag = runtime.replace(".", "")
    layer = f"AWSLambdaPowertoolsPythonV3-{python_tag}-{architecture}"
    return f"arn:aws:lambda:{region}:{POWERTOOLS_LAYER_ACCOUNT}:layer:{layer}:{version}"
