#!/usr/bin/env python3
"""Build the identification corpus: one botocore-serialized request per operation per protocol.

For every operation of every service botocore ships, stub parameters are generated from the
input shape (required members only), and a real botocore client (dummy credentials, SigV4)
prepares the request; a `before-send` hook captures it before anything leaves the machine.
Services that speak several protocols (CloudWatch: rpcv2-cbor, json, query; SQS: json, query)
get one request per protocol. Each JSONL record has the request (method, host, path, query,
headers, base64 body) and what botocore knows it to be (signing name, operation, region,
protocol, model).

Usage:
  python3 tools/gen_requests.py [--out target/identify/corpus.jsonl]
                                [--subset tests/testdata/identify/subset.jsonl]
The full corpus (~20k requests, tens of MB) stays out of git; the subset (~200) is committed.
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import sys
import urllib.parse

import botocore.session
import botocore.serialize
from botocore.auth import SigV4Auth
from botocore.awsrequest import create_request_object, prepare_request_dict
from botocore.config import Config
from botocore.credentials import Credentials

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2", "eu-central-1"]
SUBSET_PER_PROTOCOL = {
    "json": 45,
    "rest-json": 50,
    "rest-xml": 40,
    "query": 25,
    "ec2": 15,
    "rpcv2-cbor": 25,
}
MAX_DEPTH = 6


class Captured(Exception):
    """Raised from the before-send hook to stop the call once the request is captured."""

    def __init__(self, request):
        super().__init__("captured")
        self.request = request


def stub_string(name, shape):
    if shape.enum:
        return shape.enum[0]
    lname = name.lower()
    if lname in ("accountid", "expectedbucketowner"):
        value = "123456789012"
    elif lname == "bucket":
        value = "stub-bucket"
    else:
        value = "stub"
    low = shape.metadata.get("min", 0) or 0
    high = shape.metadata.get("max")
    value = value.ljust(int(low), "x")
    return value[: int(high)] if high else value


def stub_number(shape, kind):
    low = shape.metadata.get("min", 1)
    high = shape.metadata.get("max")
    value = max(int(low), 1) if kind is int else max(float(low), 1.0)
    if high is not None and value > high:
        value = kind(high)
    return value


def stub_value(name, shape, depth):
    kind = shape.type_name
    if kind == "string":
        return stub_string(name, shape)
    if kind in ("integer", "long"):
        return stub_number(shape, int)
    if kind in ("float", "double"):
        return stub_number(shape, float)
    if kind == "boolean":
        return True
    if kind == "timestamp":
        return datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    if kind == "blob":
        return b"stub"
    if depth > MAX_DEPTH:
        return None
    if kind == "list":
        count = max(int(shape.metadata.get("min", 0) or 0), 1)
        item = stub_value(name, shape.member, depth + 1)
        return [item] * count if item is not None else []
    if kind == "map":
        value = stub_value(name, shape.value, depth + 1)
        return {stub_string("key", shape.key): value} if value is not None else {}
    if kind == "structure":
        return stub_structure(shape, depth)
    return {}


def stub_structure(shape, depth):
    if shape.metadata.get("document"):
        return {}
    members = shape.members
    if shape.is_union if hasattr(shape, "is_union") else shape.metadata.get("union"):
        wanted = list(members)[:1]
    else:
        wanted = shape.required_members
    params = {}
    for member in wanted:
        value = stub_value(member, members[member], depth + 1)
        if value is not None:
            params[member] = value
    return params


def record_of(request, expected):
    url = urllib.parse.urlsplit(request.url)
    body = request.body
    if body is None:
        body = b""
    elif hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode()
    headers = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in request.headers.items()}
    return {
        "method": request.method,
        "host": url.hostname,
        "path": url.path or "/",
        "query": url.query or None,
        "headers": headers,
        "body": base64.b64encode(bytes(body)).decode(),
        "expected": expected,
    }


def capture(client, op_name, params):
    method = getattr(client, botocore.xform_name(op_name))
    try:
        method(**params)
    except Captured as done:
        return done.request
    return None


def capture_by_hand(model, op, params, region, protocol):
    """Serialize and sign without a client: for operations the client refuses to send with
    stub parameters (ARN-validating endpoint rules, bearer-token auth, endpoint discovery)."""
    meta = model.metadata
    wire = "smithy-rpc-v2-cbor" if protocol == "rpcv2-cbor" else protocol
    serializer = botocore.serialize.create_serializer(wire, include_validation=False)
    request_dict = serializer.serialize_to_request(params, op)
    host = f"{meta.get('endpointPrefix', model.service_name)}.{region}.amazonaws.com"
    host = request_dict.get("host_prefix", "") + host
    prepare_request_dict(request_dict, endpoint_url=f"https://{host}")
    request = create_request_object(request_dict)
    signing = meta.get("signingName", meta.get("endpointPrefix"))
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), signing, region).add_auth(request)
    return request.prepare()


def make_client(session, name, region, protocol, extra):
    config = Config(
        **extra,
        parameter_validation=False,
        retries={"max_attempts": 0},
        request_checksum_calculation="when_required",
        endpoint_discovery_enabled=False,
    )
    client = session.create_client(
        name,
        region_name=region,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=config,
    )
    wire = "smithy-rpc-v2-cbor" if protocol == "rpcv2-cbor" else protocol
    client._serializer = botocore.serialize.create_serializer(wire, include_validation=False)

    signing = {}

    def on_sign(request=None, signing_name=None, region_name=None, **_):
        # Endpoint rules may override both (auth schemes): the request context has the final say.
        context = getattr(request, "context", {}).get("signing", {})
        signing["service"] = context.get("signing_name") or signing_name
        signing["region"] = context.get("region") or region_name

    def on_send(request, **_):
        raise Captured(request)

    client.meta.events.register("before-sign", on_sign)
    client.meta.events.register("before-send", on_send)
    return client, signing


def protocols_of(meta):
    protocols = list(meta.get("protocols") or [meta["protocol"]])
    if "awsQueryCompatible" in meta and "query" not in protocols:
        protocols.append("query")
    return ["rpcv2-cbor" if p == "smithy-rpc-v2-cbor" else p for p in protocols]


def service_records(session, name, index, failures):
    model = session.get_service_model(name)
    meta = model.metadata
    signing = meta.get("signingName", meta.get("endpointPrefix", name))
    variants = [(protocol, {}) for protocol in protocols_of(meta)]
    if name == "s3":
        # Path-style addressing must identify exactly like virtual-hosted style.
        variants.append(("rest-xml", {"s3": {"addressing_style": "path"}}))
    for protocol, extra in variants:
        region = REGIONS[(index + len(extra)) % len(REGIONS)]
        client, signed = make_client(session, name, region, protocol, extra)
        for op_name in model.operation_names:
            op = model.operation_model(op_name)
            params = stub_structure(op.input_shape, 0) if op.input_shape else {}
            signed.clear()
            try:
                request = capture(client, op_name, params)
            except Exception:  # noqa: BLE001 - the client refused the stub: do it by hand
                signed.clear()
                try:
                    request = capture_by_hand(model, op, params, region, protocol)
                except Exception as err:  # noqa: BLE001 - count and move on
                    failures.append(f"{name}.{op_name} ({protocol}): {type(err).__name__}: {err}"[:300])
                    continue
            if request is None:
                continue
            # What CloudTrail would report: the signing name and region actually used
            # (global services sign for us-east-1; S3 Express signs as `s3express`).
            expected = {
                "service": signed.get("service") or signing,
                "operation": op_name,
                "region": signed.get("region") or region,
                "protocol": protocol,
                "model": name,
            }
            yield record_of(request, expected)


def pick_subset(records):
    """A deterministic sample per protocol, spread over services by a stable hash."""
    by_protocol = {}
    for rec in records:
        exp = rec["expected"]
        key = hashlib.sha256(f"{exp['model']}/{exp['operation']}".encode()).hexdigest()
        by_protocol.setdefault(exp["protocol"], []).append((key, rec))
    subset = []
    for protocol, wanted in SUBSET_PER_PROTOCOL.items():
        ranked = sorted(by_protocol.get(protocol, []), key=lambda kr: kr[0])
        subset.extend(rec for _, rec in ranked[:wanted])
    return subset


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="target/identify/corpus.jsonl")
    parser.add_argument("--subset", default=None)
    parser.add_argument("--services", default=None, help="comma-separated model names (default: all)")
    args = parser.parse_args()
    session = botocore.session.get_session()
    names = args.services.split(",") if args.services else session.get_available_services()
    records, failures = [], []
    for index, name in enumerate(sorted(names)):
        records.extend(service_records(session, name, index, failures))
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        for rec in records:
            f.write(json.dumps(rec, sort_keys=True) + "\n")
    if args.subset:
        with open(args.subset, "w") as f:
            for rec in pick_subset(records):
                f.write(json.dumps(rec, sort_keys=True) + "\n")
    for line in failures[:20]:
        print("failed:", line, file=sys.stderr)
    print(f"{len(records)} requests written to {args.out}; {len(failures)} operations failed", file=sys.stderr)


if __name__ == "__main__":
    main()
