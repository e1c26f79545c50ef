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


def collect_hints(shapes, shape_name, depth, stack, out):
    """Walk an input shape and sort its members into tags / names / free text."""
    shape = shapes.get(shape_name, {})
    if depth > MAX_DEPTH or shape_name in stack:
        return
    stack = stack | {shape_name}
    kind = shape.get("type")
    if kind == "list":
        collect_hints(shapes, shape["member"]["shape"], depth + 1, stack, out)
        return
    if kind == "map":
        collect_hints(shapes, shape["value"]["shape"], depth + 1, stack, out)
        return
    if kind != "structure":
        return
    for member, ref in shape.get("members", {}).items():
        target = shapes.get(ref["shape"], {})
        aliases = [member] + [
            ref[k] for k in ("locationName", "queryName") if ref.get(k) and ref[k] != member
        ]
        aliases = [a for a in aliases if SAFE_RE.match(a)]
        if is_tag_member(shapes, member, target):
            out["tags"].update(aliases)
        elif target.get("type") == "string" and NAME_RE.search(member):
            out["names"].update(aliases)
        elif target.get("type") == "string" and FREE_TEXT_RE.search(member):
            out["free"].update(aliases)
        collect_hints(shapes, ref["shape"], depth + 1, stack, out)


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


def operation_line(shapes, name, op):
    http = op.get("http", {})
    hints = {"tags": set(), "names": set(), "free": set()}
    input_name = op.get("input", {}).get("shape")
    if input_name:
        collect_hints(shapes, input_name, 0, frozenset(), hints)
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
        lines.append(operation_line(shapes, op_name, model["operations"][op_name]))
    return lines


MAGIC = b"AWSGUARD-MODELS\x01"


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
        " free-text required-query required-headers",
    ]
    chunks, offset, raw = [], 0, 0
    for name in sorted(loader.list_available_services("service-2")):
        service, *operations = service_lines(name, loader.load_service_model(name, "service-2"))
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


if __name__ == "__main__":
    main()
