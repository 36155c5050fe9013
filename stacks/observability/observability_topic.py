"""The alarm topic: an encrypted SNS topic that CloudWatch alarms can publish to, and its e-mail subscription."""

from typing import Optional

import pulumi
import pulumi_aws as aws

from shared import naming
from shared.provider import resource_options

CLOUDWATCH_PRINCIPAL = "cloudwatch.amazonaws.com"


class AlarmTopic(pulumi.ComponentResource):
    """An SNS topic encrypted with its own KMS key, with an optional e-mail subscription.

    The topic cannot use the AWS-managed key ``alias/aws/sns``, because that key's policy does
    not let CloudWatch call ``kms:GenerateDataKey`` and cannot be edited, so every alarm action
    would fail. A customer-managed key whose policy allows CloudWatch fixes that.
    """

    def __init__(
        self,
        name: str,
        settings: dict,
        provider: aws.Provider,
        tags: dict,
        opts: Optional[pulumi.ResourceOptions] = None,
    ):
        super().__init__(f"{naming.PROJECT}:observability:AlarmTopic", name, None, opts)
        environment = settings["environment"]
        options = resource_options(provider, parent=self)

        caller = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(provider=provider, parent=self))
        account_root = pulumi.Output.concat("arn:", naming.PARTITION, ":iam::", caller.account_id, ":root")
        # In a key policy, the resource "*" means this key and nothing else.
        key_policy = aws.iam.get_policy_document_output(
            statements=[
                aws.iam.GetPolicyDocumentStatementArgs(
                    sid="AccountAdministersKeyThroughIam",
                    actions=["kms:*"],
                    resources=["*"],
                    principals=[
                        aws.iam.GetPolicyDocumentStatementPrincipalArgs(type="AWS", identifiers=[account_root])
                    ],
                ),
                # NOTE: no condition narrows CloudWatch's access, because the documented key policy
                # for alarm topics has none and an unmatched condition silently drops notifications.
                aws.iam.GetPolicyDocumentStatementArgs(
                    sid="CloudWatchAlarmsPublishToTopic",
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],
                    principals=[
                        aws.iam.GetPolicyDocumentStatementPrincipalArgs(
                            type="Service", identifiers=[CLOUDWATCH_PRINCIPAL]
                        )
                    ],
                ),
            ],
            opts=pulumi.InvokeOptions(provider=provider, parent=self),
        )
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"Encrypts the tracking API alarm topic ({environment})",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=key_policy.json,
            tags=tags,
            opts=options,
        )
        aws.kms.Alias(
            f"{name}-key-alias",
            name=f"alias/{naming.resource_name(environment, 'alarms')}",
            target_key_id=self.key.key_id,
            opts=options,
        )

        self.topic = aws.sns.Topic(
            f"{name}-topic",
            name=naming.resource_name(environment, "alarms"),
            display_name=f"Tracking API alarms ({environment})",
            kms_master_key_id=self.key.arn,
            tags=tags,
            opts=options,
        )

        self.email_subscription = None
        if settings["alarmEmail"]:
            # The address must confirm the subscription from the e-mail SNS sends before it gets alarms.
            self.email_subscription = aws.sns.TopicSubscription(
                f"{name}-email",
                topic=self.topic.arn,
                protocol="email",
                endpoint=settings["alarmEmail"],
                opts=options,
            )
        elif environment == "prod":
            pulumi.log.warn(
                "tracking:alarmEmail is unset for prod: nothing is subscribed to the alarm topic, so its alarms "
                "notify no one. Fix: pulumi config set tracking:alarmEmail <on-call address> --stack prod, or "
                "subscribe your paging tool to the topic"
            )

        self.register_outputs({"topicArn": self.topic.arn})
