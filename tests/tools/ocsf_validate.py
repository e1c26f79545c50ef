"""Validates OCSF JSON lines (argv[1]) against OCSF 1.1.0 as shipped by pydantic-ocsf.

Two checks per record:
  1. pydantic-ocsf's model for the record's class (types, enums, required attributes);
  2. the schema JSON the package ships: every attribute, at every depth, is defined for its class
     or object (following `extends`), every required attribute is present, enum ids are valid.
The package's schema leaves out the base event's includes and profiles; their attributes, from
the OCSF 1.1.0 definitions (classification, occurrence, cloud, datetime, host and
security_control), are listed below.
Prints "valid N" or the problems, one per line.
"""

import importlib.resources
import json
import sys

from ocsf.v1_1_0.events import APIActivity, DetectionFinding

MODELS = {6003: APIActivity, 2004: DetectionFinding}
CLASSES = {6003: "api_activity", 2004: "detection_finding"}
INCLUDED = {
    # includes/classification.json
    "activity_id": "required", "activity_name": "optional", "category_uid": "required",
    "category_name": "optional", "class_uid": "required", "class_name": "optional",
    "severity_id": "required", "severity": "optional", "type_uid": "required",
    "type_name": "optional",
    # includes/occurrence.json
    "time": "required", "start_time": "optional", "end_time": "optional", "count": "optional",
    "duration": "optional", "timezone_offset": "recommended",
    # profiles/cloud.json
    "cloud": "required", "api": "optional",
    # profiles/datetime.json
    "time_dt": "optional",
    # profiles/host.json
    "device": "optional", "actor": "optional",
    # profiles/security_control.json
    "action": "optional", "action_id": "optional", "disposition": "optional",
    "disposition_id": "optional", "attacks": "optional", "authorizations": "optional",
    "firewall_rule": "optional", "malware": "optional",
}
ACTION_IDS = {0, 1, 2, 99}
DISPOSITION_IDS = set(range(0, 22)) | {99}

schema = json.loads((importlib.resources.files("ocsf") / "schemas" / "v1_1_0.json").read_text())
EVENTS, OBJECTS = schema["events"], schema["objects"]
DICTIONARY = schema["dictionary"]["attributes"]


def merged(defs, name):
    chain = []
    while name:
        chain.append(defs[name])
        name = defs[name].get("extends")
    attrs = {}
    for d in reversed(chain):
        for key, value in d.get("attributes", {}).items():
            if not key.startswith("$"):
                attrs.setdefault(key, {}).update(value)
    return attrs


def check_object(obj_type, value, path, problems):
    if obj_type not in OBJECTS or obj_type == "object":
        return  # `object` is free-form JSON (unmapped, data)
    if isinstance(value, list):
        for i, item in enumerate(value):
            check_object(obj_type, item, f"{path}[{i}]", problems)
        return
    if not isinstance(value, dict):
        problems.append(f"{path}: expected an object")
        return
    attrs = merged(OBJECTS, obj_type)
    for key, spec in attrs.items():
        if spec.get("requirement") == "required" and key not in value:
            problems.append(f"{path}: missing required {key}")
    for key, child in value.items():
        if key not in attrs:
            problems.append(f"{path}: {key} is not an attribute of {obj_type}")
            continue
        enum = attrs[key].get("enum")
        if enum and DICTIONARY.get(key, {}).get("type") == "string_t" and child not in enum:
            problems.append(f"{path}.{key}: {child!r} not in {sorted(enum)}")
        kind = DICTIONARY.get(key, {}).get("type")
        if kind in OBJECTS:
            check_object(kind, child, f"{path}.{key}", problems)


def check(record, problems, where):
    class_uid = record.get("class_uid")
    if class_uid not in MODELS:
        problems.append(f"{where}: unexpected class_uid {class_uid}")
        return
    # pydantic-ocsf 3.0.0 models http_method as an integer enum, but the schema it ships says a
    # string enum (GET, POST, ...): that one attribute is checked against the schema below.
    for_model = json.loads(json.dumps(record))
    for_model.get("http_request", {}).pop("http_method", None)
    try:
        MODELS[class_uid].model_validate(for_model)
    except Exception as error:  # pydantic.ValidationError
        problems.append(f"{where}: {error}")
    name = CLASSES[class_uid]
    attrs = dict(INCLUDED)
    for key, spec in merged(EVENTS, name).items():
        attrs[key] = spec.get("requirement") or attrs.get(key, "optional")
    for key, requirement in attrs.items():
        if requirement == "required" and key not in record:
            problems.append(f"{where}: missing required {key}")
    activities = merged(EVENTS, name).get("activity_id", {}).get("enum", {})
    if str(record.get("activity_id")) not in set(activities) | {"0", "99"}:
        problems.append(f"{where}: activity_id {record.get('activity_id')} not in {sorted(activities)}")
    category = EVENTS[name].get("category") or EVENTS[EVENTS[name]["extends"]].get("category")
    cat_uid = schema["categories_meta"]["attributes"][category]["uid"]
    uid = EVENTS[name]["uid"]
    if class_uid != cat_uid * 1000 + uid or record.get("category_uid") != cat_uid:
        problems.append(f"{where}: class/category uid mismatch")
    if record.get("type_uid") != class_uid * 100 + record.get("activity_id", -1):
        problems.append(f"{where}: type_uid is not class_uid * 100 + activity_id")
    if str(record.get("severity_id")) not in DICTIONARY["severity_id"]["enum"]:
        problems.append(f"{where}: bad severity_id")
    if record.get("action_id", 0) not in ACTION_IDS or record.get("disposition_id", 0) not in DISPOSITION_IDS:
        problems.append(f"{where}: bad action_id/disposition_id")
    if not isinstance(record.get("time"), int):
        problems.append(f"{where}: time is not an integer timestamp")
    for key, value in record.items():
        if key not in attrs:
            problems.append(f"{where}: {key} is not an attribute of {name}")
            continue
        kind = DICTIONARY.get(key, {}).get("type")
        if kind in OBJECTS:
            check_object(kind, value, f"{where}.{key}", problems)


def main():
    problems = []
    count = 0
    with open(sys.argv[1], encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                count += 1
                check(json.loads(line), problems, f"line {number}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"valid {count}")


main()
