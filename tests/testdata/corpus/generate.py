#!/usr/bin/env python3
"""Generate the labelled detector corpus (fields.jsonl) for tests/detect_corpus.rs.

Deterministic (fixed seed). Each line: kind, location, tag_key, value, expected (rule ids), note.
Field locations follow the shapes the decoders emit for each AWS protocol. Positives are planted
from generators that build valid values (Luhn, mod-97, libphonenumber via the `phonenumbers`
package as an independent oracle); negatives are the look-alikes the detectors must ignore.
Run: python3 generate.py > fields.jsonl
"""
import base64
import json
import random
import string
import sys

import phonenumbers

R = random.Random(20261123)
OUT = []

# Where content sits, per protocol: (kind, location) pairs.
TAG_VALUE_LOCS = [
    "body:Tags.member.1.Value",            # query (IAM, SNS)
    "body:Tag.1.Value",                    # query (SQS legacy)
    "body:TagSpecification.1.Tag.1.Value", # ec2
    "body:Tags[0].Value",                  # json (DynamoDB, ECS)
    "body:tags[1].value",                  # json lower-case members
    "body:Tagging.TagSet.Tag[0].Value",    # rest-xml (S3 PutBucketTagging)
    "header:x-amz-tagging",                # rest-xml (S3 PutObject)
    "body:Tags[2].Value",                  # rpcv2-cbor (CloudWatch)
]
NAME_LOCS = ["body:QueueName", "body:RoleName", "body:FunctionName", "body:Name", "body:TopicName",
             "body:TableName", "body:GroupName", "body:KeyName"]
TEXT_LOCS = ["body:Description", "body:Comment", "body:Message", "body:Attributes.entry.1.value"]
OTHER_LOCS = ["body:Endpoint", "body:TemplateURL", "body:Environment.Variables.DB_URL",
              "body:Attributes.RedrivePolicy", "body:Policy", "body:NextToken"]
NEUTRAL_KEYS = ["owner", "team", "project", "cost-center", "env", "Name", "app", "contact", "notes"]


def add(kind, location, value, expected, note, tag_key=None):
    OUT.append({"kind": kind, "location": location, "tag_key": tag_key, "value": value,
                "expected": sorted(set(expected)), "note": note})


def content(value, expected, note, key=None, kind=None):
    """Plant a value in a random content field (tag value with key, name or free text)."""
    kind = kind or R.choice(["tag-value", "tag-value", "name", "free-text"])
    if kind == "tag-value":
        loc = R.choice(TAG_VALUE_LOCS)
        if loc == "header:x-amz-tagging" or loc.startswith("body:tags."):
            pass
        add(kind, loc, value, expected, note, tag_key=key or R.choice(NEUTRAL_KEYS))
    elif kind == "name":
        add(kind, R.choice(NAME_LOCS), value, expected, note)
    else:
        add(kind, R.choice(TEXT_LOCS), value, expected, note)


def rnd(chars, n):
    return "".join(R.choice(chars) for _ in range(n))


B64 = string.ascii_letters + string.digits + "+/"
B32 = string.ascii_uppercase + "234567"
HEX = "0123456789abcdef"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def luhn_complete(prefix, length):
    body = prefix + rnd(string.digits, length - len(prefix) - 1)
    for d in string.digits:
        n = body + d
        s = 0
        for i, c in enumerate(reversed(n)):
            v = int(c)
            if i % 2 == 1:
                v = v * 2 - 9 if v * 2 > 9 else v * 2
            s += v
        if s % 10 == 0:
            return n
    raise AssertionError


def luhn_ok(n):
    s = 0
    for i, c in enumerate(reversed(n)):
        v = int(c)
        if i % 2 == 1:
            v = v * 2 - 9 if v * 2 > 9 else v * 2
        s += v
    return s % 10 == 0


def group(digits, sep, sizes=(4, 4, 4, 4, 4)):
    parts, i = [], 0
    for s in sizes:
        if i >= len(digits):
            break
        parts.append(digits[i:i + s])
        i += s
    if i < len(digits):
        parts.append(digits[i:])
    return sep.join(parts)


# ---------------------------------------------------------------- email
DOMAINS = ["example.com", "gmail.com", "corp.co.uk", "acme.io", "mail.example.org", "firma.de",
           "uni.edu", "startup.ai", "société.fr", "company.com.au", "agency.gov", "shop.co.jp"]
FIRST = ["john", "jane", "a.smith", "ops", "devops", "m.garcia", "li.wei", "noreply", "alerts",
         "kumar.r", "o.brien", "billing", "sre-team", "first.last", "x"]


def emails():
    for i in range(40):
        addr = f"{R.choice(FIRST)}{R.choice(['', str(R.randint(1, 99)), '+aws'])}@{R.choice(DOMAINS)}"
        if "société" in addr:
            addr = addr.replace("société", "societe")
        form = R.choice(["{}", "owner: {}", "Contact {} for access", "mailto:{}", "<{}>", "{};"])
        content(form.format(addr), ["email-address"], "email")
    negatives = [
        "icon@2x.png", "logo@3x.jpg", "user@localhost", "root@localhost.localdomain", "node@18.17.0",
        "@aws-sdk/client-s3@3.400.0", "pkg@^1.2.3", "git@github.com:org/repo.git",
        "https://deploy@git.example.com/org/repo.git", "ssh://git@bitbucket.org/team/repo",
        "image@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "admin@host.internal", "svc@cluster.local", "user@", "@example.com", "a..b@example.com",
        "team@@example.com", "arn:aws:iam::123456789012:role/service-role/lambda",
        "name@domain", "build@v2.3.4", "release@2024.01.15", "x@y.z", "foo@bar.invalidtld",
        "user@co.uk", "@channel please review", "price @ 30.00", "meet @ 10am",
        "alias/aws/s3", "s3://my-bucket/@logs/2024", "queue@fifo.fifo",
    ]
    for n in negatives:
        content(n, [], "email-negative")
    for i in range(30):
        n = R.choice([f"asset{i}@{R.choice(['2x', '3x', '1.5x'])}.{R.choice(['png', 'jpg', 'svg', 'webp'])}",
                      f"worker-{i}@localhost", f"lib{i}@{R.randint(0, 9)}.{R.randint(0, 20)}.{R.randint(0, 9)}",
                      f"svc{i}@node{i}.internal"])
        content(n, [], "email-negative")


# ---------------------------------------------------------------- AWS keys
def aws_keys():
    for i in range(35):
        key = R.choice(["AKIA", "ASIA", "ABIA", "ACCA"]) + rnd(B32, 16)
        if key.endswith("EXAMPLE"):
            continue
        form = R.choice(["{}", "key={}", "aws_access_key_id = {}", "used {} for deploy"])
        content(form.format(key), ["aws-access-key-id"], "access-key-id")
    secret_keys = ["aws_secret_access_key", "SecretAccessKey", "secret", "AWS_SECRET_KEY", "deploy-secret"]
    for i in range(35):
        while True:
            s = rnd(B64, 40)
            if any(c.isupper() for c in s) and any(c.islower() for c in s) and any(c.isdigit() for c in s):
                break
        if i % 2 == 0:
            add("tag-value", R.choice(TAG_VALUE_LOCS), s, ["aws-secret-access-key"], "secret-key-tag",
                tag_key=R.choice(secret_keys))
        else:
            content(f"aws_secret_access_key={s}", ["aws-secret-access-key"], "secret-key-inline",
                    kind=R.choice(["free-text", "tag-value"]))
    negatives = [
        ("AKIAIOSFODNN7EXAMPLE", None), ("ASIAIOSFODNN7EXAMPLE", None),
        ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key"),
        ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", None),
        ("AIDAJQABLZS4A3QDU576Q", None), ("AROADBQP57FF2AEXAMPLE", None), ("AGPAIOSFODNN7EXAMPL", None),
        ("akiaiosfodnn7abcdefg", None), ("AKIA1234567890123456", None), ("AKIAIOSFODNN7ABCDEFGH", None),
    ]
    for v, k in negatives:
        content(v, [], "aws-key-negative", key=k, kind="tag-value")
    for i in range(25):
        sha = rnd(HEX, 40)
        content(sha, [], "git-sha", key=R.choice(["commit", "secret-version", "build"]), kind="tag-value")
    for i in range(20):
        s = rnd(B64, 40)
        content(s, [], "40-char-blob-no-keyword", key=R.choice(NEUTRAL_KEYS), kind="tag-value")
    for i in range(15):
        blob = base64.b64encode(bytes(R.randrange(256) for _ in range(R.choice([45, 60, 96])))).decode()
        content(f"secret config blob {blob}", [], "long-base64-with-keyword", kind="free-text")
    for i in range(10):
        uid = "AIDA" + rnd(B32, 17)
        content(uid, [], "iam-unique-id", kind="tag-value")


# ---------------------------------------------------------------- private keys
def pem_body(lines=3):
    return "\n".join(rnd(B64, 64) for _ in range(lines))


def private_keys():
    labels = ["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY",
              "ENCRYPTED PRIVATE KEY", "DSA PRIVATE KEY", "PGP PRIVATE KEY BLOCK"]
    for i in range(35):
        label = labels[i % len(labels)]
        if i % 5 == 4:
            v = f"PuTTY-User-Key-File-{R.choice([2, 3])}: ssh-{R.choice(['rsa', 'ed25519'])}\nEncryption: none\nComment: key-{i}\nPublic-Lines: 2\n{pem_body(2)}"
        else:
            sep = R.choice(["\n", "\\n", " "])
            v = f"-----BEGIN {label}-----{sep}{pem_body(2).replace(chr(10), sep)}{sep}-----END {label}-----"
        add("free-text", R.choice(TEXT_LOCS), v, ["private-key"], "private-key")
    negs = []
    for i in range(20):
        negs.append(f"-----BEGIN CERTIFICATE-----\n{pem_body(2)}\n-----END CERTIFICATE-----")
        negs.append(f"-----BEGIN PUBLIC KEY-----\n{pem_body(2)}\n-----END PUBLIC KEY-----")
        negs.append(f"ssh-rsa AAAAB3NzaC1yc2E{rnd(B64, 60)} user@host")
    negs += ["-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
             "Paste your -----BEGIN PRIVATE KEY----- block here",
             "-----BEGIN PRIVATE KEY-----<your key>-----END PRIVATE KEY-----",
             "PuTTY-User-Key-File format is documented", "-----BEGIN CERTIFICATE REQUEST-----"]
    for n in negs:
        add("free-text", R.choice(TEXT_LOCS), n, [], "private-key-negative")


# ---------------------------------------------------------------- JWT
def jwts():
    algs = ["HS256", "RS256", "ES256", "HS512", "PS256", "EdDSA"]
    for i in range(35):
        header = {"alg": R.choice(algs)}
        if R.random() < 0.7:
            header["typ"] = "JWT"
        if R.random() < 0.4:
            header["kid"] = rnd(HEX, 8)
        payload = {"sub": str(R.randint(1, 10**9)), "iat": 1700000000 + i, "name": R.choice(FIRST)}
        tok = ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(payload).encode()),
                        b64url(bytes(R.randrange(256) for _ in range(32)))])
        form = R.choice(["{}", "Bearer {}", "token: {}", "{} (expires soon)"])
        content(form.format(tok), ["json-web-token"], "jwt")
    for i in range(70):
        choice = i % 5
        if choice == 0:   # pagination token: base64 JSON without dots
            v = base64.b64encode(json.dumps({"v": 1, "c": rnd(HEX, 20), "o": i}).encode()).decode()
        elif choice == 1:  # header without alg
            v = ".".join([b64url(b'{"typ":"JWT"}'), b64url(b'{"sub":"1"}'), rnd(B64.replace("+", "").replace("/", ""), 20)])
        elif choice == 2:  # two parts only
            v = b64url(b'{"alg":"HS256"}') + "." + b64url(json.dumps({"n": i}).encode())
        elif choice == 3:  # dotted base64 that is not JSON
            v = "eyJ" + rnd(string.ascii_letters, 12) + "." + rnd(string.ascii_letters, 12) + "." + rnd(string.ascii_letters, 12)
        else:  # version-like dotted strings
            v = f"eyJ.{i}.{i + 1}"
        content(v, [], "jwt-negative")


# ---------------------------------------------------------------- cards
ISSUERS = [("4", 16), ("4", 13), ("4", 19), ("51", 16), ("55", 16), ("2221", 16), ("2720", 16), ("34", 15),
           ("37", 15), ("6011", 16), ("65", 16), ("644", 16), ("3528", 16), ("3589", 16), ("36", 14),
           ("300", 14), ("62", 16), ("62", 19), ("2200", 16), ("6759", 16)]


def cards():
    for i in range(40):
        prefix, length = ISSUERS[i % len(ISSUERS)]
        n = luhn_complete(prefix, length)
        sizes = (4, 6, 5) if length == 15 else (4, 6, 4) if length == 14 else (4, 4, 4, 4, 4)
        v = group(n, R.choice(["", " ", "-"]), sizes) if R.random() < 0.7 else n
        form = R.choice(["{}", "card {}", "pay with {}.", "cc={}"])
        content(form.format(v), ["credit-card-number"], "card")
    for i in range(70):
        choice = i % 7
        if choice == 0:   # Luhn-invalid with a card prefix
            n = luhn_complete("4", 16)
            n = n[:-1] + str((int(n[-1]) + 1) % 10)
        elif choice == 1:  # ms / ns timestamps
            n = str(1700000000000 + R.randint(0, 10**10)) if i % 2 else str(1732374000123456789 + i)
        elif choice == 2:  # account ids, ARNs
            n = f"arn:aws:iam::{R.randint(10**11, 10**12 - 1)}:role/app-{i}"
        elif choice == 3:  # Luhn-valid but no issuer
            n = luhn_complete(R.choice(["1", "7", "8", "9"]), 16)
        elif choice == 4:  # versions / decimals / ids with letters
            n = R.choice([f"1.{luhn_complete('4', 16)}", f"v{luhn_complete('4', 16)}", f"order-{rnd(string.digits, 16)}x"])
        elif choice == 5:  # UUID, IPs, phone
            n = R.choice([f"{rnd(HEX, 8)}-{rnd(HEX, 4)}-4{rnd(HEX, 3)}-a{rnd(HEX, 3)}-{rnd(HEX, 12)}",
                          f"10.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(0, 255)}",
                          f"{R.randint(1000, 9999)} {R.randint(1000, 9999)} {R.randint(1000, 9999)}"])
        else:  # too many digits
            n = luhn_complete("4", 16) + rnd(string.digits, 5)
        if choice == 3 or choice == 0 or choice == 6:
            assert not (n.isdigit() and 13 <= len(n) <= 19 and luhn_ok(n) and n[0] == "4")
        content(n, [], "card-negative")


# ---------------------------------------------------------------- IBAN
IBAN_SPECS = {"DE": "n18", "GB": "a4n14", "FR": "n10a11n2", "NL": "a4n10", "ES": "n20", "IT": "a1n10a12",
              "BE": "n12", "CH": "n17", "AT": "n16", "NO": "n11", "PL": "n24", "SE": "n20", "IE": "a4n14",
              "PT": "n21", "DK": "n14", "FI": "n14"}


def bban(spec):
    out, i = "", 0
    while i < len(spec):
        t = spec[i]
        j = i + 1
        while j < len(spec) and spec[j].isdigit():
            j += 1
        n = int(spec[i + 1:j])
        out += rnd(string.digits if t == "n" else string.ascii_uppercase if t == "a" else string.ascii_uppercase + string.digits, n)
        i = j
    return out


def iban_check(country, b):
    s = b + country + "00"
    num = "".join(str(int(c, 36)) for c in s)
    return f"{98 - int(num) % 97:02d}"


def ibans():
    countries = list(IBAN_SPECS)
    for i in range(40):
        c = countries[i % len(countries)]
        b = bban(IBAN_SPECS[c])
        iban = c + iban_check(c, b) + b
        v = group(iban, " ") if R.random() < 0.5 else iban
        form = R.choice(["{}", "IBAN {}", "pay to {}.", "account: {}"])
        content(form.format(v), ["iban"], "iban")
    for i in range(65):
        c = countries[i % len(countries)]
        b = bban(IBAN_SPECS[c])
        good = iban_check(c, b)
        choice = i % 5
        if choice == 0:
            bad = f"{(int(good) + 1) % 100:02d}"
            v = c + bad + b
        elif choice == 1:
            v = c + good + b[:-1]
        elif choice == 2:
            v = c + good + b + "7"
        elif choice == 3:
            v = "AIDA" + rnd(B32, 17) if i % 2 else "QQ" + good + b
        else:
            v = R.choice(["GB2024Q1REPORT", "DE12 release", f"US{R.randint(10, 99)}{rnd(string.digits, 18)}",
                          f"ID{R.randint(10, 99)}{rnd(string.ascii_uppercase + string.digits, 18)}"])
        content(v, [], "iban-negative")


# ---------------------------------------------------------------- phone
PHONE_REGIONS = [("US", "+1 {} {} {}"), ("GB", None), ("DE", None), ("FR", None), ("IN", None), ("AU", None),
                 ("JP", None), ("BR", None), ("ES", None), ("MX", None)]


def valid_number(region):
    for _ in range(500):
        ex = phonenumbers.example_number_for_type(region, R.choice([phonenumbers.PhoneNumberType.MOBILE,
                                                                    phonenumbers.PhoneNumberType.FIXED_LINE]))
        if ex is None:
            continue
        nat = str(ex.national_number)
        # vary the last digits, keep it only if the oracle still says valid
        cand = nat[:-3] + rnd(string.digits, 3)
        num = phonenumbers.parse(f"+{ex.country_code}{cand}")
        if phonenumbers.is_valid_number(num):
            return num
    raise AssertionError(region)


def phones():
    fmts = [phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.E164]
    for i in range(30):
        region = PHONE_REGIONS[i % len(PHONE_REGIONS)][0]
        num = valid_number(region)
        v = phonenumbers.format_number(num, R.choice(fmts))
        form = R.choice(["{}", "call {}", "on-call: {}", "{} (24/7)"])
        content(form.format(v), ["phone-number"], "phone-intl")
    for i in range(15):
        num = valid_number("US")
        v = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL)
        if i % 2:
            add("tag-value", R.choice(TAG_VALUE_LOCS), v, ["phone-number"], "phone-national-keyed-tag",
                tag_key=R.choice(["phone", "OwnerPhone", "mobile", "on-call-phone"]))
        else:
            content(f"{R.choice(['Phone', 'tel:', 'Mobile', 'Fax'])} {v}", ["phone-number"], "phone-national-inline",
                    kind="free-text")
    for i in range(70):
        choice = i % 7
        if choice == 0:  # national number without keyword
            v = phonenumbers.format_number(valid_number("US"), phonenumbers.PhoneNumberFormat.NATIONAL)
        elif choice == 1:  # timestamps with offsets
            v = f"2024-0{R.randint(1, 9)}-1{R.randint(0, 9)}T10:2{R.randint(0, 9)}:00+0{R.randint(0, 9)}:00"
        elif choice == 2:  # + numbers that are not valid
            v = R.choice(["+1 000 000 0000", "+999 1234 5678", "+44 0000 000000", f"+0{rnd(string.digits, 10)}"])
        elif choice == 3:  # versions with build metadata, base64 with +
            v = R.choice([f"1.{i}.0+{rnd(string.digits, 10)}", f"abc+{rnd(string.digits, 11)}x", f"{rnd(B64, 10)}+{rnd(string.digits, 10)}"])
        elif choice == 4:  # account ids and numbers near non-phone words
            v = R.choice([f"{R.randint(10**11, 10**12 - 1)}", f"hotel {rnd(string.digits, 10)}", f"telemetry {rnd(string.digits, 10)}"])
        elif choice == 5:  # dates and durations with keyword
            v = R.choice(["phone rota 2024-01-15", "mobile app v12.4.1 build 20240115", "tel: 12"])
        else:
            v = f"+{R.randint(1, 9)}.{R.randint(0, 9)}% growth in {R.randint(2000, 2030)}"
        content(v, [], "phone-negative")


# ---------------------------------------------------------------- SSN
def ssns():
    def issued():
        while True:
            a = R.randint(1, 899)
            if a != 666:
                return f"{a:03d}", f"{R.randint(1, 99):02d}", f"{R.randint(1, 9999):04d}"
    for i in range(35):
        a, g, s = issued()
        v = R.choice([f"{a}-{g}-{s}", f"{a} {g} {s}", f"{a}{g}{s}"])
        if i % 2:
            add("tag-value", R.choice(TAG_VALUE_LOCS), v, ["us-ssn"], "ssn-keyed-tag",
                tag_key=R.choice(["ssn", "EmployeeSSN", "social-security-number"]))
        else:
            content(f"{R.choice(['SSN', 'ssn:', 'Social Security No.'])} {v}", ["us-ssn"], "ssn-inline", kind="free-text")
    for i in range(70):
        choice = i % 6
        a, g, s = issued()
        if choice == 0:
            v, key = f"{a}-{g}-{s}", R.choice(NEUTRAL_KEYS)  # no keyword
        elif choice == 1:
            v, key = f"SSN {R.choice(['000', '666', '9' + rnd(string.digits, 2)])}-{g}-{s}", None
        elif choice == 2:
            v, key = f"SSN {a}-00-{s}" if i % 2 else f"SSN {a}-{g}-0000", None
        elif choice == 3:
            v, key = R.choice(["SSN 078-05-1120", "ssn 123-45-6789", "SSN 219-09-9999"]), None
        elif choice == 4:
            v, key = R.choice([f"ssn rotated 2024-0{R.randint(1, 9)}-1{R.randint(0, 9)}", f"ssn {a}{g}{s}1", f"ssn v{a}{g}{s}"]), None
        else:
            v, key = f"{a}{g}{s}", "classname"
        content(v, [], "ssn-negative", key=key, kind="tag-value")


# ---------------------------------------------------------------- URLs
SCHEMES = ["https", "http", "postgres", "postgresql", "mysql", "mongodb", "mongodb+srv", "redis", "rediss",
           "amqp", "amqps", "ftp", "sftp", "smtp", "ldap", "jdbc:postgresql"]
HOSTS = ["git.example.com", "db.internal:5432", "cluster0.ab1cd.mongodb.net", "cache.local:6379",
         "mq.example.org:5672", "files.example.net", "10.0.3.17:3306", "smtp.mail.example.com:587"]


def password():
    return rnd(string.ascii_letters + string.digits, R.randint(8, 20)) + R.choice(["", "!", "%40x", "%2Fq"])


def url_creds():
    for i in range(40):
        scheme = SCHEMES[i % len(SCHEMES)]
        url = f"{scheme}://{R.choice(['deploy', 'admin', 'app', 'svc_user', 'root', ''])}:{password()}@{R.choice(HOSTS)}/{R.choice(['', 'db', 'org/repo.git', 'vhost'])}"
        form = R.choice(["{}", "clone {} now", "DATABASE_URL={}", "\"{}\""])
        kind = R.choice(["tag-value", "free-text", "other", "other", "header", "query"])
        loc = {"tag-value": R.choice(TAG_VALUE_LOCS), "free-text": R.choice(TEXT_LOCS), "other": R.choice(OTHER_LOCS),
               "header": "header:x-forwarded-url", "query": "query:source"}[kind]
        add(kind, loc, form.format(url), ["url-credentials"], "url-credentials",
            tag_key=R.choice(NEUTRAL_KEYS) if kind == "tag-value" else None)
    for i in range(5):
        tok = "ghp_" + rnd(string.ascii_letters + string.digits, 36)
        add("other", R.choice(OTHER_LOCS), f"https://{tok}@github.com/org/repo.git", ["url-credentials"], "token-as-user")
    placeholders = ["${DB_PASSWORD}", "****", "%2A%2A%2A%2A", "<password>", "{{ db_pass }}", "$PASS", "xxx",
                    "password", "YOUR_PASSWORD", "[secret]"]
    for i in range(40):
        p = placeholders[i % len(placeholders)]
        v = f"{SCHEMES[i % len(SCHEMES)]}://user:{p}@{R.choice(HOSTS)}/db"
        add("other", R.choice(OTHER_LOCS), v, [], "url-placeholder")
    plain = ["https://sqs.us-east-1.amazonaws.com/123456789012/orders", "s3://my-bucket/path/to/object.json",
             "https://deploy@git.example.com/org/repo.git", "https://example.com/a/b?x=1&y=2",
             "arn:aws:sns:us-east-1:123456789012:topic", "https://my-bucket.s3.amazonaws.com/@key",
             "ssh://git@github.com/org/repo", "https://user@example.com", "http://localhost:8080/health",
             "https://console.aws.amazon.com/cloudwatch/home?region=us-east-1#logs:",
             "file:///etc/hosts", "https://[::1]:443/", "mailto:ops@example.com", "https://a.com/p@th:x"]
    for i in range(40):
        add(R.choice(["other", "tag-value", "free-text"]), R.choice(OTHER_LOCS), plain[i % len(plain)] if i < len(plain) else
            f"https://{R.choice(['api', 'www', 'cdn'])}.example.com/{rnd(string.ascii_lowercase, 6)}?page={i}&lang=en",
            [], "plain-url", tag_key="link")


PARAMS = ["token", "access_token", "api_key", "apikey", "password", "passwd", "pwd", "secret", "client_secret",
          "signature", "sig", "X-Amz-Signature", "X-Amz-Security-Token", "refresh_token", "auth_token", "id_token"]


def url_params():
    for i in range(36):
        name = PARAMS[i % len(PARAMS)]
        val = rnd(string.ascii_letters + string.digits, R.randint(16, 40))
        if name == "X-Amz-Signature":
            val = rnd(HEX, 64)
        host = R.choice(["api.example.com", "hooks.example.net", "my-bucket.s3.us-east-1.amazonaws.com", "example.org:8443"])
        url = f"https://{host}/{R.choice(['v1/items', 'cb', 'report.csv'])}?{R.choice(['a=1&', ''])}{name}={val}&{R.choice(['b=2', 'format=json'])}"
        kind = R.choice(["other", "other", "tag-value", "free-text", "query"])
        loc = {"tag-value": R.choice(TAG_VALUE_LOCS), "free-text": R.choice(TEXT_LOCS), "other": R.choice(OTHER_LOCS),
               "query": "query:callback"}[kind]
        add(kind, loc, url, ["url-secret-parameter"], "url-secret-parameter",
            tag_key="link" if kind == "tag-value" else None)
    # presigned S3 URL
    for i in range(6):
        url = (f"https://bucket-{i}.s3.amazonaws.com/key.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
               f"AKIAIOSFODNN7EXAMPLE%2F20240115%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240115T000000Z"
               f"&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature={rnd(HEX, 64)}")
        add("other", "body:Url", url, ["url-secret-parameter"], "presigned-url")
    negs = []
    for i in range(60):
        choice = i % 6
        name = PARAMS[i % len(PARAMS)]
        if choice == 0:
            negs.append(f"https://api.example.com/list?NextToken={rnd(B64, 40)}&max=5")
        elif choice == 1:
            negs.append(f"https://api.example.com/?{name}=")
        elif choice == 2:
            negs.append(f"https://api.example.com/?{name}={R.choice(['${TOKEN}', 'YOUR_API_KEY', '****', '<token>', '{{token}}', 'xxx'])}")
        elif choice == 3:
            negs.append(f"https://api.example.com/?{name}=abc")
        elif choice == 4:
            negs.append(f"https://example.com/search?q=token+{rnd(string.ascii_lowercase, 8)}&page=2")
        else:
            negs.append(f"https://example.com/?continuationToken={rnd(B64, 30)}&pageToken={rnd(B64, 20)}")
    for n in negs:
        add("other", R.choice(OTHER_LOCS), n, [], "url-parameter-negative")
    # SigV4 material outside URLs: headers and query values of the request itself
    for i in range(10):
        key = "AKIA" + rnd(B32, 16)
        add("header", "header:authorization",
            f"AWS4-HMAC-SHA256 Credential={key}/20240115/us-east-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature={rnd(HEX, 64)}",
            [], "sigv4-authorization")
        add("query", "query:X-Amz-Signature", rnd(HEX, 64), [], "sigv4-query-signature")
        add("header", "header:x-amz-security-token", rnd(B64, 300), [], "session-token-header")


# ---------------------------------------------------------------- custom identifier (employee-id)
def custom():
    for i in range(30):
        v = f"EMP-{R.randint(1, 999999):06d}"
        if i % 2:
            add("tag-value", R.choice(TAG_VALUE_LOCS), v, ["custom:employee-id"], "custom-keyed-tag", tag_key="EmployeeId")
        else:
            content(f"employee {R.choice(['id', 'number', '#'])} {v}", ["custom:employee-id"], "custom-inline", kind="free-text")
    for i in range(60):
        choice = i % 4
        v = f"EMP-{R.randint(1, 999999):06d}"
        if choice == 0:
            content(v, [], "custom-no-keyword", key="owner", kind="tag-value")
        elif choice == 1:
            content(f"employee handbook, section {i}, " + "x" * 60 + f" {v}", [], "custom-keyword-too-far", kind="free-text")
        elif choice == 2:
            content("employee EMP-000000", [], "custom-ignore-word", kind="free-text")
        else:
            content(f"employee EMP-{R.randint(1, 99999)}", [], "custom-short", kind="free-text")


# ---------------------------------------------------------------- general AWS negatives
def general():
    samples = [
        lambda: f"arn:aws:lambda:us-east-1:{R.randint(10**11, 10**12 - 1)}:function:handler-{R.randint(1, 99)}",
        lambda: f"{rnd(HEX, 8)}-{rnd(HEX, 4)}-{rnd(HEX, 4)}-{rnd(HEX, 4)}-{rnd(HEX, 12)}",
        lambda: rnd(HEX, 40),
        lambda: f"v{R.randint(0, 9)}.{R.randint(0, 30)}.{R.randint(0, 99)}",
        lambda: str(R.randint(10**11, 10**12 - 1)),
        lambda: f"2024-{R.randint(1, 12):02d}-{R.randint(1, 28):02d}T{R.randint(0, 23):02d}:00:00Z",
        lambda: f"{R.randint(1, 255)}.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(0, 255)}",
        lambda: base64.b64encode(bytes(R.randrange(256) for _ in range(R.randint(20, 80)))).decode(),
        lambda: f"i-{rnd(HEX, 17)}",
        lambda: f"sg-{rnd(HEX, 17)}",
        lambda: f"ami-{rnd(HEX, 17)}",
        lambda: f"s3://{rnd(string.ascii_lowercase, 8)}/{rnd(string.ascii_lowercase, 5)}/{R.randint(1, 10**6)}.parquet",
        lambda: f"{R.choice(['prod', 'dev', 'staging'])}-{rnd(string.ascii_lowercase, 6)}-{R.randint(1, 99)}",
        lambda: f"sha256:{rnd(HEX, 64)}",
        lambda: f"{R.randint(1700000000, 1800000000)}",
        lambda: f"arn:aws:kms:eu-west-1:{R.randint(10**11, 10**12 - 1)}:key/{rnd(HEX, 8)}-{rnd(HEX, 4)}-{rnd(HEX, 4)}-{rnd(HEX, 4)}-{rnd(HEX, 12)}",
    ]
    for i in range(160):
        content(samples[i % len(samples)](), [], "aws-shaped-negative")


# ---------------------------------------------------------------- scope: content rules skip non-content kinds
def scope():
    values = ["ops@example.com", "AKIA" + rnd(B32, 16), "4111 1111 1111 1111", "DE89370400440532013000",
              "+44 20 7946 0958", "SSN 536-22-8726", "employee EMP-123456",
              "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0." + rnd(string.ascii_letters, 30)]
    kinds = [("other", "body:Endpoint"), ("header", "header:x-amz-meta-owner"), ("query", "query:prefix"),
             ("path", "path:Key")]
    for i in range(40):
        kind, loc = kinds[i % len(kinds)]
        add(kind, loc, values[i % len(values)], [], "content-in-non-content-field")


# ---------------------------------------------------------------- hand-written cases (labels fixed before the first run)
HANDWRITTEN = [
    ("free-text", "Contact: JANE.DOE@EXAMPLE.COM", ["email-address"]),
    ("free-text", '{"owner":"bob@corp.example.co.uk"}', ["email-address"]),
    ("tag-value", "+1-415-555-2671", ["phone-number"]),
    ("free-text", "Tel +49 (0)30 901820", ["phone-number"]),
    ("free-text", "Card: 4111-1111-1111-1111 exp 12/27", ["credit-card-number"]),
    ("free-text", "export AWS_SECRET_ACCESS_KEY=h8Qz3mV+pL0sT9wXc2Yb7Rk/Nf5Ja1Ue4Gd6Io0P", ["aws-secret-access-key"]),
    ("tag-value", "AKIA2OGYBAH6TZ3QWXYZ:h8Qz3mV+pL0sT9wXc2Yb7Rk/Nf5Ja1Ue4Gd6Io0P", ["aws-access-key-id"]),
    ("other", "jdbc:mysql://admin:Pa55w0rd!@db.example.com:3306/app", ["url-credentials"]),
    ("other", "https://hooks.example.com/services/T000/B000?token=abcd1234efgh5678", ["url-secret-parameter"]),
    ("header", "amqps://user:p%23ss%21w0rd@mq.example.com/vhost", ["url-credentials"]),
    ("tag-value", "ssn=536-22-8726", ["us-ssn"]),
    ("name", "IBAN: GB82WEST12345698765432", ["iban"]),
    ("free-text", "Authorization: Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJ4In0.c2ln", ["json-web-token"]),
    ("free-text", "Updated 2024-01-15 by ci (build 4411)", []),
    ("other", "https://example.com/reset?token=${RESET_TOKEN}", []),
    ("other", "postgres://localhost/app", []),
    ("free-text", "see RFC 3986 section 3.2.1 on userinfo", []),
    ("free-text", "+1 more reviewer needed", []),
    ("tag-value", "4111 1111 1111 1112", []),
    ("free-text", "price: +15.5% since 2023", []),
    ("free-text", "mailto:", []),
    ("free-text", "Rotate keys every 90 days; never paste secrets here.", []),
]


def handwritten():
    for kind, value, expected in HANDWRITTEN:
        loc = {"tag-value": "body:Tags[0].Value", "free-text": "body:Description", "name": "body:Name",
               "other": "body:Endpoint", "header": "header:x-forwarded-url"}[kind]
        add(kind, loc, value, expected, "handwritten", tag_key="notes" if kind == "tag-value" else None)


def main():
    for gen in [emails, aws_keys, private_keys, jwts, cards, ibans, phones, ssns, url_creds, url_params, custom, general, scope, handwritten]:
        gen()
    for rec in OUT:
        sys.stdout.write(json.dumps(rec, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
