#!/usr/bin/env python3
"""Derive awsguard's compact service-model table from botocore's bundled service models.

Reads the latest `service-2` model of every service botocore ships (Apache-2.0) and writes
`data/models.bin`: a deflated header of `S` lines (one per service) followed by one deflated
chunk of tab-separated `O` lines (one per operation) per service. The Rust side
(`src/aws/models.rs`) embeds the file, reads the header once and inflates a service's chunk
the first time the service is looked at. Format details: `data/models.md`.

Usage: python3 tools/gen_models.py [OUT]   (default OUT: data/models.bin, next to this script)
"""

import os
import re
import struct
import sys
import zlib

import botocore
import botocore.session

MAX_DEPTH = 10
NAME_RE = re.compile(r"^[Nn]ame$|[a-z0-9]Name$")
FREE_TEXT_RE = re.compile(
    r"(Description|Comment|Comments|Note|Notes|Summary|Message|Title|Reason|Remarks)$"
)
SAFE_RE = re.compile(r"^[A-Za-z0-9_.:-]+$")

# Field purposes beyond tags, names and free text (DESIGN.md "field purposes"). Each member gets
# the first that applies: presigned URL or secret, payload, required contact, configuration URL.

# Members that carry a presigned URL the SDK makes itself (EC2 CopySnapshot, RDS cross-region
# copies): the API's own signing mechanism, not a credential someone pasted.
PRESIGNED_RE = re.compile(r"^Pre[sS]ignedUrl$")
# A member whose shape is `sensitive` holds a secret on purpose when its name says so.
SECRET_NAME_RE = re.compile(
    r"(Secret|SecretString|SecretBinary|Password|Passphrase|PrivateKey|Passcode|Token|Credentials?)$"
)
# A secret only under a condition on a sibling member: SSM parameters are secrets when they are
# SecureString; the same value in a String parameter is plain configuration.
CONDITIONAL_SECRETS = {("ssm", "Value"): "Value?Type=SecureString"}
# Members whose value is the application's data, not metadata about a resource. Blob members
# (base64 in JSON) and DynamoDB attribute values are found from their shapes.
PAYLOAD_MEMBERS = {
    "apigatewaymanagementapi": {"Data"},
    "bedrock-agent-runtime": {"inputText", "sessionState"},
    "bedrock-runtime": {"messages", "system", "body"},
    "events": {"Detail", "Input"},
    "firehose": {"Record", "Records"},
    "iot-data": {"payload"},
    "kinesis": {"Data", "Records"},
    "lambda": {"Payload", "ClientContext"},
    "logs": {"message", "logEvents"},
    "pinpoint": {"MessageRequest", "SendUsersMessageRequest"},
    "scheduler": {"Input"},
    "sagemaker-runtime": {"Body"},
    "ses": {"Message", "RawMessage", "TemplateData", "Body"},
    "sesv2": {"Content", "TemplateData"},
    "sns": {"Message", "MessageAttributes", "Subject", "MessageStructure"},
    "sqs": {"MessageBody", "MessageAttributes", "MessageSystemAttributes"},
    "stepfunctions": {"input", "output"},
}
# Members that must hold an email address or phone number: their purpose, not a leak.
CONTACT_RE = re.compile(r"(Email|EmailAddress|EmailAddresses|PhoneNumber|PhoneNumbers)$")
CONTACT_MEMBERS = {
    "budgets": {"Subscriber", "Subscribers", "NotificationsWithSubscribers"},
    "cognito-idp": {"UserAttributes", "ValidationData"},
    "organizations": {"Target"},
    "route53domains": {"AdminContact", "RegistrantContact", "TechContact", "BillingContact"},
    "ses": {"Destination", "Source", "ReturnPath", "ReplyToAddresses", "ToAddresses"},
    "sesv2": {"Destination", "FromEmailAddress", "ReplyToAddresses"},
    "sns": {"Endpoint", "PhoneNumber"},
}
# Configuration URLs: webhooks, endpoints, connection strings (URL rules judge them).
URL_RE = re.compile(r"(Url|URL|Uri|URI|Urls|URLs|Uris|Endpoint|Webhook|ConnectionString)$")


def is_attribute_value(shapes, shape_name, depth=0):
    """A DynamoDB attribute value, or a map/list of them (`Item`, `Key`, `ExpressionAttributeValues`)."""
    if depth > 3:
        return False
    if shape_name == "AttributeValue":
        return True
    shape = shapes.get(shape_name, {})
    kind = shape.get("type")
    if kind == "map":
        return is_attribute_value(shapes, shape["value"]["shape"], depth + 1)
    if kind == "list":
        return is_attribute_value(shapes, shape["member"]["shape"], depth + 1)
    return False


def purpose(service, shapes, member, ref):
    """The purpose class of one input member beyond tags/names/free text, or None, and the
    hint text to record (a conditional secret carries its condition)."""
    target = shapes.get(ref["shape"], {})
    kind = target.get("type")
    sensitive = bool(target.get("sensitive") or ref.get("sensitive"))
    if PRESIGNED_RE.match(member):
        return "secret", member
    if (service, member) in CONDITIONAL_SECRETS and sensitive:
        return "secret", CONDITIONAL_SECRETS[(service, member)]
    if sensitive and kind in ("string", "blob") and SECRET_NAME_RE.search(member):
        return "secret", member
    if member in PAYLOAD_MEMBERS.get(service, ()):
        return "payload", member
    if kind == "blob" or is_attribute_value(shapes, ref["shape"]):
        return "payload", member
    if member in CONTACT_MEMBERS.get(service, ()) or (
        kind in ("string", "list") and CONTACT_RE.search(member)
    ):
        return "contact", member
    if kind == "string" and URL_RE.search(member):
        return "url", member
    return None, None


def is_tag_pair(shapes, shape):
    """A structure with Key/Value (or TagKey/TagValue) members, any casing."""
    if shape.get("type") != "structure":
        return False
    names = {m.lower() for m in shape.get("members", {})}
    return ({"key", "value"} <= names) or ({"tagkey", "tagvalue"} <= names)


def is_tag_member(shapes, name, shape):
    """Whether a member (by its name and shape) holds tags."""
    kind = shape.get("type")
    lname = name.lower()
    if kind == "list":
        inner = shapes.get(shape["member"]["shape"], {})
        if is_tag_pair(shapes, inner):
            return True
        # EC2 TagSpecifications: a list of structures holding a tag list.
        if inner.get("type") == "structure" and "tag" in lname:
            return any(
                is_tag_member(shapes, m, shapes.get(ref["shape"], {}))
                for m, ref in inner.get("members", {}).items()
            )
        return False
    if kind == "map":
        key = shapes.get(shape["key"]["shape"], {}).get("type")
        value = shapes.get(shape["value"]["shape"], {}).get("type")
        return key == "string" and value == "string" and "tag" in lname
    if kind == "structure":
        # S3 `Tagging { TagSet: [Tag] }`.
        return "tag" in lname and any(
            is_tag_member(shapes, m, shapes.get(ref["shape"], {}))
            for m, ref in shape.get("members", {}).items()
        )
    if kind == "string":
        return lname == "tagging"
    return False


def collect_hints(service, shapes, shape_name, depth, stack, out):
    """Walk an input shape and sort its members into tags / names / free text and the purpose
    classes (secret, payload, contact, url)."""
    shape = shapes.get(shape_name, {})
    if depth > MAX_DEPTH or shape_name in stack:
        return
    stack = stack | {shape_name}
    kind = shape.get("type")
    if kind == "list":
        collect_hints(service, shapes, shape["member"]["shape"], depth + 1, stack, out)
        return
    if kind == "map":
        collect_hints(service, shapes, shape["value"]["shape"], depth + 1, stack, out)
        return
    if kind != "structure":
        return
    for member, ref in shape.get("members", {}).items():
        target = shapes.get(ref["shape"], {})
        aliases = [member] + [
            ref[k] for k in ("locationName", "queryName") if ref.get(k) and ref[k] != member
        ]
        aliases = [a for a in aliases if SAFE_RE.match(a)]
        klass, hint = purpose(service, shapes, member, ref)
        if is_tag_member(shapes, member, target):
            out["tags"].update(aliases)
        elif klass is not None:
            # A conditional hint keeps its condition; aliases (wire names) are plain.
            out[klass].add(hint)
            out[klass].update(a for a in aliases if a != member)
            if klass in ("payload", "secret"):
                continue
        elif target.get("type") == "string" and NAME_RE.search(member):
            out["names"].update(aliases)
        elif target.get("type") == "string" and FREE_TEXT_RE.search(member):
            out["free"].update(aliases)
        collect_hints(service, shapes, ref["shape"], depth + 1, stack, out)


def streaming_input(shapes, op):
    """True when the input's payload is data, not API fields: a streaming blob, an event stream,
    or an opaque blob payload (Lambda Invoke, IoT Publish) that only looks like JSON."""
    input_name = op.get("input", {}).get("shape")
    if not input_name:
        return False
    shape = shapes.get(input_name, {})
    payload = shape.get("payload")
    for member, ref in shape.get("members", {}).items():
        target = shapes.get(ref["shape"], {})
        if target.get("eventstream"):
            return True
        if member == payload and (
            target.get("streaming") or ref.get("streaming") or target.get("type") == "blob"
        ):
            return True
    return False


def required_locations(shapes, op):
    """Required query parameters and headers of a REST input: they tell routes apart
    (S3 UploadPart needs `uploadId`, CopyObject needs `x-amz-copy-source`)."""
    shape = shapes.get(op.get("input", {}).get("shape"), {})
    query, headers = set(), set()
    for member in shape.get("required", []):
        ref = shape.get("members", {}).get(member, {})
        where = ref.get("location")
        name = ref.get("locationName", member)
        if where == "querystring" and SAFE_RE.match(name):
            query.add(name)
        elif where == "header" and SAFE_RE.match(name):
            headers.add(name.lower())
    return sorted(query), sorted(headers)


PURPOSES = ("secret", "url", "contact", "payload")


def operation_line(service, shapes, name, op):
    http = op.get("http", {})
    hints = {k: set() for k in ("tags", "names", "free") + PURPOSES}
    input_name = op.get("input", {}).get("shape")
    if input_name:
        collect_hints(service, shapes, input_name, 0, frozenset(), hints)
    flags = ("s" if streaming_input(shapes, op) else "") + ("d" if op.get("deprecated") else "")
    query, headers = required_locations(shapes, op)
    return "\t".join(
        [
            "O",
            name,
            http.get("method", "POST"),
            http.get("requestUri", "/"),
            flags or "-",
            ",".join(sorted(hints["tags"])) or "-",
            ",".join(sorted(hints["names"])) or "-",
            ",".join(sorted(hints["free"])) or "-",
            ",".join(query) or "-",
            ",".join(headers) or "-",
        ]
        + [",".join(sorted(hints[k])) or "-" for k in PURPOSES]
    )


def protocols_of(meta):
    protocols = list(meta.get("protocols") or [meta["protocol"]])
    if "awsQueryCompatible" in meta and "query" not in protocols:
        protocols.append("query")
    return [("rpcv2-cbor" if p == "smithy-rpc-v2-cbor" else p) for p in protocols]


def service_lines(name, model):
    meta = model["metadata"]
    shapes = model.get("shapes", {})
    prefix = meta.get("endpointPrefix", name)
    lines = [
        "\t".join(
            [
                "S",
                name,
                ",".join(protocols_of(meta)),
                meta.get("signingName", prefix),
                prefix,
                meta.get("targetPrefix", "-"),
                meta.get("serviceId", name).replace("\t", " "),
            ]
        )
    ]
    for op_name in sorted(model["operations"]):
        lines.append(operation_line(name, shapes, op_name, model["operations"][op_name]))
    return lines


MAGIC = b"AWSGUARD-MODELS\x02"


def deflate(data):
    """Raw deflate (no zlib/gzip framing), as flate2's DeflateDecoder reads it."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "data", "models.bin")
    loader = botocore.session.get_session().get_component("data_loader")
    header = [
        f"# awsguard service models, derived from botocore {botocore.__version__} service-2 models",
        "# (Apache-2.0, https://github.com/boto/botocore). Regenerate: python3 tools/gen_models.py",
        "# S name protocols signing-name endpoint-prefix target-prefix service-id chunk-offset chunk-length",
        "# O operation method request-uri flags(s=streaming input, d=deprecated) tag-members name-members"
        " free-text required-query required-headers secret url contact payload",
    ]
    chunks, offset, raw = [], 0, 0
    counts = {k: 0 for k in ("tags", "names", "free") + PURPOSES}
    for name in sorted(loader.list_available_services("service-2")):
        service, *operations = service_lines(name, loader.load_service_model(name, "service-2"))
        for line in operations:
            cols = line.split("\t")
            for k, col in zip(("tags", "names", "free"), cols[5:8]):
                counts[k] += 0 if col == "-" else len(col.split(","))
            for k, col in zip(PURPOSES, cols[10:14]):
                counts[k] += 0 if col == "-" else len(col.split(","))
        body = ("\n".join(operations) + "\n").encode()
        chunk = deflate(body)
        header.append(f"{service}\t{offset}\t{len(chunk)}")
        chunks.append(chunk)
        offset += len(chunk)
        raw += len(body)
    head = deflate(("\n".join(header) + "\n").encode())
    with open(out, "wb") as f:
        f.write(MAGIC + struct.pack("<I", len(head)) + head + b"".join(chunks))
    print(f"{out}: {len(chunks)} services, {raw} bytes of operations raw, {os.path.getsize(out)} bytes written")
    print("member hints (operation, member) pairs by class: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
