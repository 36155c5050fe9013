"""The tracking table and the dead letter queue where the function parks updates it could not store."""

import pulumi_aws as aws

from shared import definitions
from shared.provider import resource_options


def create_table(settings: dict, provider: aws.Provider, tags: dict) -> aws.dynamodb.Table:
    """Declare the on-demand tracking table with point-in-time recovery and encryption at rest."""
    if settings["itemRetentionDays"] is not None:
        ttl = aws.dynamodb.TableTtlArgs(enabled=True, attribute_name=definitions.TABLE_EXPIRY_ATTRIBUTE)
    else:
        # Declared even when off, so that unsetting itemRetentionDays disables TTL on an existing table.
        ttl = aws.dynamodb.TableTtlArgs(enabled=False)

    return aws.dynamodb.Table(
        "updates",
        name=definitions.table_name(settings["environment"]),
        billing_mode=definitions.TABLE_BILLING_MODE,
        hash_key=definitions.TABLE_PARTITION_KEY,
        range_key=definitions.TABLE_SORT_KEY,
        attributes=[aws.dynamodb.TableAttributeArgs(name=n, type=t) for n, t in definitions.TABLE_ATTRIBUTES],
        point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
        # enabled=True without a key ARN selects the AWS-managed key (alias/aws/dynamodb);
        # enabled=False would select the AWS-owned key, which the account can neither see nor audit.
        server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
            enabled=True, kms_key_arn=settings["tableKmsKeyArn"]
        ),
        deletion_protection_enabled=settings["deletionProtection"],
        ttl=ttl,
        tags=tags,
        opts=resource_options(provider),
    )


def create_dead_letter_queue(settings: dict, provider: aws.Provider, tags: dict) -> aws.sqs.Queue:
    """Declare the queue that keeps parked updates for redrive, encrypted with SQS-managed keys."""
    return aws.sqs.Queue(
        "parked-updates",
        name=definitions.queue_name(settings["environment"]),
        message_retention_seconds=definitions.QUEUE_MESSAGE_RETENTION_SECONDS,
        visibility_timeout_seconds=definitions.QUEUE_VISIBILITY_TIMEOUT_SECONDS,
        sqs_managed_sse_enabled=True,
        tags=tags,
        opts=resource_options(provider),
    )
