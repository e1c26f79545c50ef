#!/usr/bin/env python3
"""Derive awsguard's AWS endpoint catalogue from botocore's endpoints.json and partitions.json.

Writes:
  data/endpoints.tsv.gz                 the catalogue embedded by src/aws/endpoints/catalogue.rs
  data/endpoints.README.md              provenance and format notes
  tests/testdata/fips/expectations.tsv  every standard host with an explicit FIPS variant and every
                                        FIPS host, checked by tests/fips_catalogue.rs
  tests/testdata/fips/no_fips.tsv       every standard host with no FIPS endpoint (must get none)

Rules (the Rust side relies on them):
  * A host is a FIPS host when a variant tagged "fips" names it, or when it is the hostname of a
    FIPS pseudo-region entry (a key containing "fips": fips-us-east-1, us-east-1-fips, ProdFips...).
    Any such statement wins over entries that call the same host standard (GovCloud endpoints whose
    FIPS variant is the standard host itself).
  * A FIPS counterpart exists only where endpoints.json lists an explicit variant; nothing is
    derived from the partition's default FIPS template for regions without one.
  * Hosts built from a template that contains {region} are kept only when the entry key is a region
    of the partition (after stripping fips- / -fips): "dkr-us-east-1" or "dms" would otherwise give
    hosts that do not exist. Explicit hostnames are always kept if they end in a partition suffix.

Run from the repository root:  python3 tools/gen_endpoints.py
The output is deterministic for a given botocore version.
"""

import gzip
import io
import json
import os
import re
import sys

import botocore

REGENERATE = "python3 tools/gen_endpoints.py"
# Suffixes that appear only in endpoint rule sets, not in partitions.json: (suffix, partition,
# service whose rule set names it). The generator checks the rule set still mentions it.
EXTRA_SUFFIXES = [("on.aws", "aws", "neptune-graph")]


def data_dir():
    return os.path.join(os.path.dirname(botocore.__file__), "data")


def load_json(name):
    with open(os.path.join(data_dir(), name), encoding="utf-8") as f:
        return json.load(f)


def normalize_region(key):
    """Strip the deprecated fips- / -fips pseudo-region markers: ('us-east-1', True)."""
    region, fips = key.lower(), False
    if region.startswith("fips-") and len(region) > 5:
        region, fips = region[5:], True
    if region.endswith("-fips") and len(region) > 5:
        region, fips = region[:-5], True
    return region, fips


class Partition:
    def __init__(self, meta, endpoints_part):
        out = meta["outputs"]
        self.name = meta["id"]
        self.dns_suffix = out["dnsSuffix"]
        self.dualstack_suffix = out["dualStackDnsSuffix"]
        self.regex = meta["regionRegex"]
        self.regions = sorted(set(meta["regions"]) | set(endpoints_part.get("regions", {})))
        self.data = endpoints_part
        self._re = re.compile(self.regex)

    def is_region(self, region):
        return region in self.regions or bool(self._re.match(region))


def find_variant(variants, tags):
    for v in variants or []:
        if sorted(v["tags"]) == sorted(tags):
            return v
    return None


def expand(template, service, key, suffix):
    host = template.replace("{service}", service).replace("{region}", key)
    host = host.replace("{dnsSuffix}", suffix).lower()
    if "{" in host:
        sys.exit(f"unknown placeholder in hostname template {template!r}")
    return host


class Entry:
    """One host named by one endpoints.json entry (the standard host or one variant)."""

    def __init__(self, part, service, key, region, tags, host, fips):
        self.part, self.service, self.key = part, service, key
        self.region, self.tags, self.host, self.fips = region, tags, host, fips
        self.key_is_region = part.is_region(normalize_region(key)[0])


def entry_region(part, key, ep, sdef, host):
    scope = ep.get("credentialScope", {}).get("region") or sdef.get("credentialScope", {}).get(
        "region"
    )
    if scope:
        return scope
    region, _ = normalize_region(key)
    if part.is_region(region):
        return region
    for label in host.split("."):
        if label in part.regions:
            return label
    return None


def endpoint_entries(part, service, key, ep, sdef, suffixes):
    """The standard host and the variant hosts of one endpoint entry, as Entry objects."""
    pdef = part.data["defaults"]
    key_ok = part.is_region(normalize_region(key)[0])
    key_fips = "fips" in key.lower()
    template = ep.get("hostname") or sdef.get("hostname") or pdef["hostname"]
    found = []
    if key_ok or "{region}" not in template:
        host = expand(template, service, key, part.dns_suffix)
        found.append(((), host, key_fips))
    for v in ep.get("variants", []):
        tags = tuple(sorted(v["tags"]))
        sv, pv = find_variant(sdef.get("variants"), tags), find_variant(pdef.get("variants"), tags)
        tmpl = v.get("hostname") or (sv or {}).get("hostname") or (pv or {}).get("hostname")
        dns = v.get("dnsSuffix") or (sv or {}).get("dnsSuffix") or (pv or {}).get("dnsSuffix")
        if tmpl is None or (not key_ok and "{region}" in tmpl):
            continue
        host = expand(tmpl, service, key, dns or part.dns_suffix)
        found.append((tags, host, key_fips or "fips" in tags))
    out = []
    for tags, host, fips in found:
        if not any(host.endswith("." + s) for s in suffixes):
            continue  # dynamodb "local" -> localhost:8000
        region = entry_region(part, key, ep, sdef, host)
        out.append(Entry(part, service, key, region, tags, host, fips))
    return out


def all_entries(partitions, suffixes):
    entries = []
    variants = {}  # (partition, service, key, tags) -> host, for FIPS counterparts
    for part in partitions:
        for service, sdata in sorted(part.data["services"].items()):
            sdef = sdata.get("defaults", {})
            for key, ep in sorted(sdata.get("endpoints", {}).items()):
                for e in endpoint_entries(part, service, key, ep, sdef, suffixes):
                    entries.append(e)
                    variants[(part.name, service, key, e.tags)] = e.host
    return entries, variants


def strip_fips(host):
    labels = []
    for label in host.split("."):
        if label == "fips":
            continue
        if label.endswith("-fips"):
            label = label[:-5]
        labels.append(label)
    return ".".join(labels)


def canonical_order(host, order):
    bare = strip_fips(host)

    def rank(e):
        prefix_match = bare.startswith(e.service + ".")
        return (not prefix_match, not e.key_is_region, e.fips, order[e.part.name], e.service, e.key)

    return rank


def fips_target(entry, variants, fips_hosts):
    if entry.fips or "fips" in entry.tags:
        return None
    want = tuple(sorted(entry.tags + ("fips",)))
    host = variants.get((entry.part.name, entry.service, entry.key, want))
    return host if host in fips_hosts else None


def resolve(partitions, entries, variants):
    """host -> (partition, service, region, fips, dualstack, fips_host)."""
    order = {p.name: i for i, p in enumerate(partitions)}
    by_host = {}
    for e in entries:
        by_host.setdefault(e.host, []).append(e)
    fips_hosts = {h for h, es in by_host.items() if any(e.fips for e in es)}
    records = {}
    for host, es in by_host.items():
        es = sorted(es, key=canonical_order(host, order))
        first = es[0]
        fips = host in fips_hosts
        dual = any("dualstack" in e.tags for e in es) or host.endswith(
            "." + first.part.dualstack_suffix
        )
        target = None
        if not fips:
            ranked = sorted(es, key=lambda e: (len(e.tags), canonical_order(host, order)(e)))
            for e in ranked:
                target = fips_target(e, variants, fips_hosts)
                if target:
                    break
        records[host] = (first.part.name, first.service, first.region, fips, dual, target)
    return records


def fips_by_region(records):
    """(partition, service, region) -> the explicit FIPS host serving it, preferring a
    non-dual-stack one; used for hosts whose own entry has no variant and for hosts the catalogue
    does not list."""
    index = {}
    for host in sorted(records, key=lambda h: (records[h][4], h)):
        part, service, region, fips, dual, target = records[host]
        if target and region:
            index.setdefault((part, service, region), target)
    return index


def add_region_fallback(records, index):
    """Standard hosts without a variant of their own (sts.amazonaws.com, sqs.us-east-1.api.aws)
    get the explicit FIPS host of the same service and region."""
    out = {}
    for host, (part, service, region, fips, dual, target) in records.items():
        if not fips and not target:
            target = index.get((part, service, region))
        out[host] = (part, service, region, fips, dual, target)
    return out


def check_extra_suffixes():
    import glob

    for suffix, _, service in EXTRA_SUFFIXES:
        paths = glob.glob(os.path.join(data_dir(), service, "*", "endpoint-rule-set-1.json.gz"))
        text = "".join(gzip.open(p).read().decode() for p in paths)
        if "." + suffix + '"' not in text:
            sys.exit(f"{suffix} no longer appears in the {service} endpoint rule set")


def header(version):
    return [
        f"# awsguard AWS endpoint catalogue, derived from botocore {version} data",
        "# (botocore/data/endpoints.json and partitions.json), licensed Apache-2.0.",
        f"# Regenerate with: {REGENERATE}",
        "# P  partition  dnsSuffix  dualStackDnsSuffix  regionRegex  regions(,)",
        "# X  extra-suffix  partition",
        "# S  endpoint-prefix                        (every prefix the data names)",
        "# F  partition-index  endpoint-prefix  region  fips-host   (FIPS host per service+region)",
        "# H  host  partition-index  endpoint-prefix  region|-  flags(f=fips d=dualstack)|-  fips-host|-",
        "#    (H lines are sorted by host, bytewise: the reader binary-searches them)",
    ]


def catalogue_lines(partitions, records, version):
    index = {p.name: i for i, p in enumerate(partitions)}
    lines = header(version)
    for p in partitions:
        lines.append("\t".join(["P", p.name, p.dns_suffix, p.dualstack_suffix, p.regex,
                                ",".join(p.regions)]))
    for suffix, part, _ in EXTRA_SUFFIXES:
        lines.append(f"X\t{suffix}\t{part}")
    for service in sorted({r[1] for r in records.values()}):
        lines.append(f"S\t{service}")
    for (part, service, region), target in sorted(fips_by_region(records).items()):
        lines.append(f"F\t{index[part]}\t{service}\t{region}\t{target}")
    for host in sorted(records):
        part, service, region, fips, dual, target = records[host]
        flags = ("f" if fips else "") + ("d" if dual else "")
        lines.append("\t".join(["H", host, str(index[part]), service, region or "-",
                                flags or "-", target or "-"]))
    return lines


def expectation_lines(records, version):
    lines = [
        f"# FIPS expectations derived from botocore {version} endpoints.json (Apache-2.0).",
        f"# Regenerate with: {REGENERATE}",
        "# host  expected-is-fips  expected-fips-endpoint  endpoint-prefix  region|-",
    ]
    for host in sorted(records):
        _, service, region, fips, _, target = records[host]
        if fips:
            lines.append(f"{host}\ttrue\t{host}\t{service}\t{region or '-'}")
        elif target:
            lines.append(f"{host}\tfalse\t{target}\t{service}\t{region or '-'}")
    return lines


def readme(version):
    return f"""# data/endpoints.tsv.gz

The AWS endpoint catalogue embedded by `src/aws/endpoints/catalogue.rs`: every partition (DNS
suffixes, regions, region pattern) and every host botocore's `endpoints.json` names, with its
endpoint prefix, signing region, FIPS and dual-stack flags and the explicit FIPS host of the same
service and region.

- Derived from botocore {version} data (`botocore/data/endpoints.json`, `partitions.json`, and the
  `neptune-graph` endpoint rule set for the `on.aws` suffix). That data is licensed Apache-2.0.
- Regenerate from the repository root with `{REGENERATE}` (deterministic for a
  given botocore version); it also rewrites this file and `tests/testdata/fips/expectations.tsv`.
- The decompressed text starts with a header describing each line kind (`P`, `X`, `S`, `F`, `H`).
  `H` lines are sorted bytewise by host: the reader binary-searches them.
"""


def no_fips_lines(records, version):
    lines = [
        "# Standard hosts with no FIPS endpoint for their service and region, derived from botocore",
        f"# {version} endpoints.json (Apache-2.0). Regenerate with: {REGENERATE}",
        "# host  endpoint-prefix  region|-",
    ]
    for host in sorted(records):
        _, service, region, fips, _, target = records[host]
        if not fips and not target:
            lines.append(f"{host}\t{service}\t{region or '-'}")
    return lines


def write_gzip(path, text):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as f:
        f.write(text.encode())
    with open(path, "wb") as f:
        f.write(buf.getvalue())


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    endpoints, metas = load_json("endpoints.json"), load_json("partitions.json")["partitions"]
    parts_data = {p["partition"]: p for p in endpoints["partitions"]}
    partitions = [Partition(m, parts_data.get(m["id"], {"services": {}, "defaults": {}}))
                  for m in metas]
    check_extra_suffixes()
    suffixes = {s for p in partitions for s in (p.dns_suffix, p.dualstack_suffix)}
    entries, variants = all_entries(partitions, suffixes)
    records = resolve(partitions, entries, variants)
    records = add_region_fallback(records, fips_by_region(records))
    version = botocore.__version__
    text = "\n".join(catalogue_lines(partitions, records, version)) + "\n"
    write_gzip(os.path.join(root, "data", "endpoints.tsv.gz"), text)
    exp = "\n".join(expectation_lines(records, version)) + "\n"
    with open(os.path.join(root, "tests", "testdata", "fips", "expectations.tsv"), "w") as f:
        f.write(exp)
    with open(os.path.join(root, "tests", "testdata", "fips", "no_fips.tsv"), "w") as f:
        f.write("\n".join(no_fips_lines(records, version)) + "\n")
    with open(os.path.join(root, "data", "endpoints.README.md"), "w") as f:
        f.write(readme(version))
    fips = sum(1 for r in records.values() if r[3])
    mapped = sum(1 for r in records.values() if r[5])
    print(f"{len(records)} hosts, {fips} FIPS, {mapped} with a FIPS counterpart, "
          f"{len(text)} bytes uncompressed")


if __name__ == "__main__":
    main()
