#!/usr/bin/env python3
"""The botocore tag sweep: for every operation of every service whose input takes tags at its top
level, one request serialized and signed by botocore with an email address planted in a tag value
(and stub values elsewhere). tests/tag_sweep.rs runs the engine over every request and requires
exactly one finding each: `email-address` in a `tag-value` field — none missed (a purpose must never
hide a tag) and none extra.

Usage: python3 tools/gen_tag_sweep.py OUT.jsonl [--services a,b]
"""

import argparse
import json
import os
import sys
import urllib.parse

import botocore.session

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_requests import (  # noqa: E402
    capture,
    capture_by_hand,
    make_client,
    protocols_of,
    record_of,
    stub_structure,
)

EMAIL = "jane.doe@example.org"


def tag_pair_members(shape):
    """(key member, value member) of a tag structure, any casing, or None."""
    names = {m.lower(): m for m in shape.members}
    key = names.get("key") or names.get("tagkey")
    value = names.get("value") or names.get("tagvalue")
    return (key, value) if key and value else None


def planted(name, shape):
    """Tags holding the planted email for a tag member of `shape`, or None if not a tag member."""
    kind = shape.type_name
    lname = name.lower()
    if kind == "list" and shape.member.type_name == "structure" and "tag" in lname:
        pair = tag_pair_members(shape.member)
        if pair:
            return [{pair[0]: "owner", pair[1]: EMAIL}]
        # EC2 TagSpecifications: a list of {ResourceType, Tags}
        inner = {}
        for member, mshape in shape.member.members.items():
            tags = planted(member, mshape)
            if tags is not None:
                inner[member] = tags
            elif member == "ResourceType" and mshape.enum:
                inner[member] = mshape.enum[0]
        return [inner] if any(isinstance(v, list) for v in inner.values()) else None
    if kind == "map" and "tag" in lname:
        if shape.key.type_name == "string" and shape.value.type_name == "string":
            return {"owner": EMAIL}
        return None
    if kind == "structure" and "tag" in lname:  # S3 Tagging {TagSet: [...]}
        for member, mshape in shape.members.items():
            tags = planted(member, mshape)
            if tags is not None:
                return {member: tags}
        return None
    if kind == "string" and lname == "tagging":  # S3 x-amz-tagging
        return urllib.parse.urlencode({"owner": EMAIL})
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--services", default=None)
    args = parser.parse_args()
    session = botocore.session.get_session()
    names = args.services.split(",") if args.services else session.get_available_services()
    records, failures = [], 0
    for name in sorted(names):
        model = session.get_service_model(name)
        protocol = protocols_of(model.metadata)[0]
        client = None
        for op_name in model.operation_names:
            op = model.operation_model(op_name)
            if op.input_shape is None:
                continue
            tags = {
                m: t for m, s in op.input_shape.members.items()
                if (t := planted(m, s)) is not None
            }
            if len(tags) != 1:
                continue
            params = stub_structure(op.input_shape, 0)
            params.update(tags)
            if client is None:
                client, _ = make_client(session, name, "us-east-1", protocol, {})
            try:
                request = capture(client, op_name, params)
            except Exception:  # noqa: BLE001 - the client refused the stub: do it by hand
                try:
                    request = capture_by_hand(model, op, params, "us-east-1", protocol)
                except Exception:  # noqa: BLE001 - count and move on
                    failures += 1
                    continue
            if request is not None:
                records.append(record_of(request, {"model": name, "operation": op_name,
                                                   "member": next(iter(tags))}))
    with open(args.out, "w") as f:
        for rec in records:
            f.write(json.dumps(rec, sort_keys=True) + "\n")
    print(f"{len(records)} tagging requests written to {args.out}; {failures} could not be serialized",
          file=sys.stderr)


if __name__ == "__main__":
    main()
