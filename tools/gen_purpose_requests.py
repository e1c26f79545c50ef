#!/usr/bin/env python3
"""Build the field-purpose test corpus: real botocore-serialized requests whose members have a
purpose (secret, payload, required contact, configuration URL) beside tags and names.

Each case is one call a real client makes, serialized and signed by botocore exactly as the AWS
CLI would send it (the same capture as tools/gen_requests.py), with the findings and skipped
fields awsguard must report. tests/purpose.rs replays every case through the engine.

Usage: python3 tools/gen_purpose_requests.py [OUT]   (default tests/testdata/purpose/cases.jsonl)
"""

import json
import os
import sys

import botocore.session

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_requests import capture, make_client, record_of  # noqa: E402

CREDS_URL = "postgres://app:pw-Quartz-91@db.internal:5432/orders"
PRESIGNED = (
    "https://my-bucket.s3.us-east-1.amazonaws.com/report.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261205%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Date=20261205T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=3f1c2b9a8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a49382716a5b4c3d"
)
EMAIL = "jane.doe@example.org"

# (name, service, protocol, operation, params, expected findings [rule, field, location],
#  expected skipped fields [location, purpose])
CASES = [
    ("secretsmanager-secret-string-is-a-secret", "secretsmanager", "json", "CreateSecret",
     {"Name": "orders-db", "SecretString": CREDS_URL,
      "Tags": [{"Key": "owner", "Value": EMAIL}]},
     [["email-address", "tag-value", "body:Tags[0].Value"]],
     [["body:SecretString", "secret"]]),
    ("ssm-securestring-value-is-a-secret", "ssm", "json", "PutParameter",
     {"Name": "/orders/db", "Type": "SecureString", "Value": CREDS_URL},
     [],
     [["body:Value", "secret"]]),
    ("ssm-string-value-with-credentials-is-flagged", "ssm", "json", "PutParameter",
     {"Name": "/orders/db", "Type": "String", "Value": CREDS_URL},
     [["url-credentials", "url", "body:Value"]],
     []),
    ("sqs-message-body-is-payload", "sqs", "json", "SendMessage",
     {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/jobs",
      "MessageBody": json.dumps({"report": PRESIGNED, "notify": EMAIL})},
     [],
     [["body:MessageBody", "payload"]]),
    ("ec2-copysnapshot-presigned-url-is-signing-material", "ec2", "ec2", "CopySnapshot",
     {"SourceRegion": "us-west-2", "SourceSnapshotId": "snap-0123456789abcdef0",
      "PresignedUrl": "https://ec2.us-west-2.amazonaws.com/?Action=CopySnapshot"
                      "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261205%2Fus-west-2%2Fec2%2Faws4_request"
                      "&X-Amz-Signature=0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"},
     [],
     [["body:PresignedUrl", "secret"]]),
    ("sns-http-subscription-endpoint-with-password-is-flagged", "sns", "query", "Subscribe",
     {"TopicArn": "arn:aws:sns:us-east-1:123456789012:alerts", "Protocol": "https",
      "Endpoint": "https://hook-user:hook-Pass-77@hooks.example.com/x"},
     [["url-credentials", "required-contact", "body:Endpoint"]],
     []),
    ("sns-email-subscription-endpoint-is-its-purpose", "sns", "query", "Subscribe",
     {"TopicArn": "arn:aws:sns:us-east-1:123456789012:alerts", "Protocol": "email",
      "Endpoint": EMAIL},
     [],
     []),
    ("sns-publish-message-is-payload", "sns", "query", "Publish",
     {"TopicArn": "arn:aws:sns:us-east-1:123456789012:alerts",
      "Message": f"Order 1234 shipped to {EMAIL}, call +1 415 555 2671", "Subject": f"Order for {EMAIL}"},
     [],
     [["body:Message", "payload"], ["body:Subject", "payload"]]),
    ("dynamodb-item-values-are-payload", "dynamodb", "json", "PutItem",
     {"TableName": "customers",
      "Item": {"pk": {"S": "c#1"}, "email": {"S": EMAIL}, "card": {"S": "4111 1111 1111 1111"}}},
     [],
     [["body:Item.pk.S", "payload"], ["body:Item.email.S", "payload"], ["body:Item.card.S", "payload"]]),
    ("lambda-zipfile-is-payload-description-still-judged", "lambda", "rest-json", "CreateFunction",
     {"FunctionName": "orders", "Role": "arn:aws:iam::123456789012:role/lambda", "Runtime": "python3.12",
      "Handler": "app.handler", "Code": {"ZipFile": b"PK\x03\x04 not really a zip"},
      "Description": f"Owner {EMAIL}"},
     [["email-address", "free-text", "body:Description"]],
     [["body:Code.ZipFile", "payload"]]),
    ("organizations-account-email-is-its-purpose", "organizations", "json", "CreateAccount",
     {"Email": EMAIL, "AccountName": "orders-prod"},
     [],
     []),
    ("cognito-user-attributes-and-temporary-password", "cognito-idp", "json", "AdminCreateUser",
     {"UserPoolId": "us-east-1_AbCdEfGhI", "Username": "jdoe",
      "UserAttributes": [{"Name": "email", "Value": EMAIL}, {"Name": "phone_number", "Value": "+14155552671"}],
      "TemporaryPassword": "Tmp-Pass-2026!"},
     [],
     [["body:TemporaryPassword", "secret"]]),
    ("rds-master-password-is-a-secret", "rds", "query", "CreateDBInstance",
     {"DBInstanceIdentifier": "orders", "DBInstanceClass": "db.t3.micro", "Engine": "postgres",
      "MasterUsername": "app", "MasterUserPassword": "pw-Quartz-91"},
     [],
     [["body:MasterUserPassword", "secret"]]),
    ("sqs-tag-with-email-is-flagged", "sqs", "json", "TagQueue",
     {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/jobs", "Tags": {"owner": EMAIL}},
     [["email-address", "tag-value", "body:Tags.owner"]],
     []),
    ("lambda-environment-credentials-are-configuration", "lambda", "rest-json", "UpdateFunctionConfiguration",
     {"FunctionName": "orders", "Environment": {"Variables": {"DATABASE_URL": CREDS_URL}}},
     [["url-credentials", "url", "body:Environment.Variables.DATABASE_URL"]],
     []),
]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, "..", "tests", "testdata", "purpose", "cases.jsonl")
    session = botocore.session.get_session()
    lines = []
    for name, service, protocol, op, params, findings, skipped in CASES:
        client, _ = make_client(session, service, "us-east-1", protocol, {})
        request = capture(client, op, params)
        if request is None:
            raise SystemExit(f"{name}: botocore sent nothing to capture")
        record = record_of(request, {"findings": findings, "skipped": skipped})
        record["name"] = name
        lines.append(json.dumps(record, sort_keys=True))
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{out}: {len(lines)} cases")


if __name__ == "__main__":
    main()
