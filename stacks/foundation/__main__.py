import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import pulumi
import pulumi_aws as aws
from shared import outputs, settings
s = settings.read_pulumi_settings("foundation")
t = aws.dynamodb.Table("updates", name="x", hash_key="tracking_id", billing_mode="PAY_PER_REQUEST",
    attributes=[aws.dynamodb.TableAttributeArgs(name="tracking_id", type="S")])
doc = aws.iam.get_policy_document_output(statements=[aws.iam.GetPolicyDocumentStatementArgs(actions=["dynamodb:GetItem"], resources=[t.arn])])
pulumi.export(outputs.TABLE_NAME, t.name)
pulumi.export("doc", doc.json)
