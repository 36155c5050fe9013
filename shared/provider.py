"""The AWS provider every resource of a stack uses: region, default tags, optional emulator."""

import pulumi
import pulumi_aws as aws

from shared import naming
from shared.tags import standard_tags

# Services the four stacks call; with an emulator endpoint set, each one goes there.
EMULATED_SERVICES = (
    "apigateway", "cloudwatch", "dynamodb", "iam", "kms", "lambda_", "logs", "sns", "sqs", "ssm", "sts",
)


def make_provider(settings: dict, layer: str) -> aws.Provider:
    """Return the layer's explicit provider; resources pass it through ``ResourceOptions``."""
    endpoint = settings.get("endpoint")
    emulator = {}
    if endpoint:
        # An emulator has no real account, credentials or instance metadata to check.
        emulator = {
            "endpoints": [aws.ProviderEndpointArgs(**{service: endpoint for service in EMULATED_SERVICES})],
            "skip_credentials_validation": True,
            "skip_requesting_account_id": True,
            "skip_metadata_api_check": True,
            "skip_region_validation": True,
            "s3_use_path_style": True,
        }
    return aws.Provider(
        f"aws-{layer}",
        region=naming.REGION,
        default_tags=aws.ProviderDefaultTagsArgs(tags=standard_tags(settings, layer)),
        **emulator,
    )


def resource_options(provider: aws.Provider, **options) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(provider=provider, **options)
