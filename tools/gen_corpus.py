#!/usr/bin/env python3
"""Write an independent labelled detector corpus (JSON lines) for tests/detect_corpus.rs.

Values come from generators that share no code or examples with the detectors or their unit tests:
Faker in 30+ locales (emails, phone numbers, IBANs, cards, SSNs), `phonenumbers`' example numbers
for every region and number type, `python-stdnum` as the checksum oracle (Luhn, IBAN mod 97, SSN),
detect-secrets-style secret formats, and national identifiers (tools/gen_corpus_national.py).
Deterministic: one seed per run (--seed).

Usage: python3 tools/gen_corpus.py [--seed N] [--per-family N] [--out FILE]
Default output: target/detect-corpus/fields.jsonl, which `cargo test --test detect_corpus
independent -- --nocapture` reads (or the file named by AWSGUARD_DETECT_CORPUS).
"""
import argparse
import base64
import json
import os
import random
import string
import urllib.parse
import zlib

import phonenumbers
from faker import Faker
from stdnum import iban as std_iban
from stdnum import luhn
from stdnum.us import ssn as std_ssn

import gen_corpus_national

LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR", "pt_PT", "nl_NL",
           "pl_PL", "cs_CZ", "sv_SE", "da_DK", "fi_FI", "ru_RU", "uk_UA", "el_GR",
           "tr_TR", "ja_JP", "ko_KR", "zh_CN", "zh_TW", "hi_IN", "en_IN", "en_AU", "en_CA",
           "es_MX", "ro_RO", "hu_HU", "he_IL", "ar_AA", "th_TH", "vi_VN", "id_ID", "fr_CH"]
# Phone keywords per language, as people write them before a number.
PHONE_WORDS = ["phone", "Tel.", "Handy", "téléphone", "telefone", "teléfono", "телефон", "电话",
               "電話", "전화", "telefon", "mobile", "τηλέφωνο", "Tel:", "cell"]
NEUTRAL_KEYS = ["owner", "team", "project", "env", "Name", "app", "notes", "cost-center"]
TAG_LOCS = ["body:Tags.member.1.Value", "body:Tags[0].Value", "body:tags[1].value",
            "body:Tagging.TagSet.Tag[0].Value", "body:TagSpecification.1.Tag.1.Value"]


B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
HEX = "0123456789abcdef"


def base62_crc(random_part):
    """The six base-62 characters of CRC-32 GitHub and npm append to a token's random part."""
    n, out = zlib.crc32(random_part.encode()), ""
    for _ in range(6):
        n, d = divmod(n, 62)
        out = B62[d] + out
    return out


def saas_secrets(r, add, n):
    """`n` tokens of each SaaS format (random per the published shape, checksums computed here)
    and as many hard negatives: documentation stand-ins, wrong checksums, test keys, truncations."""
    def rs(k, alphabet=ALNUM):
        return "".join(r.choice(alphabet) for _ in range(k))

    def checksummed(prefix):
        body = rs(30)
        return prefix + body + base62_crc(body)

    def upper_alnum(k):
        return rs(k, string.ascii_uppercase + string.digits)

    azure_key = lambda: base64.b64encode(bytes(r.getrandbits(8) for _ in range(64))).decode()
    sas_sig = lambda: urllib.parse.quote(
        base64.b64encode(bytes(r.getrandbits(8) for _ in range(32))).decode(), safe="")
    makers = [
        ("github-token", lambda: checksummed(r.choice(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]))),
        ("github-token", lambda: f"github_pat_{rs(22)}_{rs(59)}"),
        ("gitlab-token", lambda: r.choice(["glpat-", "gldt-", "glrt-", "glptt-"]) + rs(20, URLSAFE)),
        ("slack-token", lambda: f"{r.choice(['xoxb', 'xoxp', 'xoxa-2', 'xoxe-1'])}-"
                                f"{rs(11, string.digits)}-{rs(12, string.digits)}-{rs(24)}"),
        ("slack-webhook-url", lambda: "https://hooks.slack.com/services/"
                                      f"T{upper_alnum(8)}/B{upper_alnum(10)}/{rs(24)}"),
        ("stripe-secret-key", lambda: r.choice(["sk_live_", "rk_live_"]) + rs(r.choice([24, 99]))),
        ("google-api-key", lambda: "AIza" + rs(35, URLSAFE)),
        ("azure-storage-key", lambda: f"DefaultEndpointsProtocol=https;AccountName=acct{rs(6, HEX)};"
                                      f"AccountKey={azure_key()};EndpointSuffix=core.windows.net"),
        ("azure-sas-signature", lambda: f"https://acct{rs(6, HEX)}.blob.core.windows.net/c/f.csv?"
                                        f"sv=2022-11-02&ss=b&srt=o&sp=r&se=2027-0{r.randint(1, 9)}-01"
                                        f"T00:00:00Z&spr=https&sig={sas_sig()}"),
        ("npm-token", lambda: checksummed("npm_")),
        ("pypi-token", lambda: "pypi-AgEIcHlwaS5vcmc" + rs(r.randint(60, 180), URLSAFE)),
        ("openai-api-key", lambda: r.choice([f"sk-proj-{rs(74, URLSAFE)}",
                                             f"sk-{rs(20)}T3BlbkFJ{rs(20)}"])),
        ("anthropic-api-key", lambda: f"sk-ant-api03-{rs(93, URLSAFE)}AA"),
        ("twilio-credential", lambda: r.choice([f"twilio api key SK{rs(32, HEX)}",
                                                f"TWILIO_AUTH_TOKEN={rs(32, HEX)}"])),
        ("sendgrid-api-key", lambda: f"SG.{rs(22, URLSAFE)}.{rs(43, URLSAFE)}"),
        ("vault-token", lambda: r.choice(["hvs.", "hvb.", "hvr."]) + rs(r.choice([24, 91]), URLSAFE)),
        ("datadog-api-key", lambda: r.choice([f"DD_API_KEY={rs(32, HEX)}",
                                              f"datadog app key {rs(40, HEX)}"])),
    ]
    for i in range(n):
        for rule, make in makers:
            value = make()
            # A random body can come out all digits or all letters where a keyword-gated hex
            # key needs both; such a draw is not a key of that shape.
            if rule in ("twilio-credential", "datadog-api-key") and (
                    not any(c.isdigit() for c in value.split()[-1][-32:])
                    or not any(c in "abcdef" for c in value.split()[-1][-32:])):
                continue
            context = r.choice(["{}", "token: {}", "export TOKEN={}", "auth {} (rotated)"])
            add(context.format(value), [rule], f"saas {rule}")
    good = checksummed("ghp_")
    negatives = [
        lambda: good[:-1] + r.choice([c for c in B62 if c != good[-1]]),
        lambda: "ghp_" + "x" * 36,
        lambda: "ghp_" + rs(35),
        lambda: f"github_pat_{rs(22)}_{rs(50)}",
        lambda: checksummed("npm_")[:-2] + "zz",
        lambda: "glpat-" + "x" * 20,
        lambda: "glpat-<your-token>",
        lambda: "xoxb-your-bot-token",
        lambda: "xoxb-" + "x" * 10 + "-" + "x" * 12 + "-" + "x" * 24,
        lambda: "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        lambda: "sk_test_" + rs(24),
        lambda: "pk_live_" + rs(24),
        lambda: "sk_live_" + rs(12),
        lambda: "AIza" + rs(30, URLSAFE),
        lambda: "AccountKey=<storage-account-key>",
        lambda: f"backup blob {azure_key()}",
        lambda: "sv=2022-11-02&se=2027-01-01&sp=r&sig=<signature>",
        lambda: "pypi-AgEIcHlwaS5vcmc...",
        lambda: "sk-" + rs(32, HEX),
        lambda: "task-runner-nightly-build-for-the-payments-service-in-eu-west-1",
        lambda: "sk-ant-api03-" + "x" * 95,
        lambda: f"account AC{rs(32, HEX)}",
        lambda: f"build {rs(32, HEX)}",
        lambda: f"commit {rs(40, HEX)}",
        lambda: "SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        lambda: "hvs.CAESIxxxx",
        lambda: "msg.reply sg.example sig=abc",
        lambda: "DD_API_KEY=<your-datadog-api-key>",
        lambda: "DD_API_KEY=" + "0" * 32,
    ]
    for i in range(n):
        for make in negatives:
            add(make(), [], "saas-negative")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--per-family", type=int, default=300)
    ap.add_argument("--out", default="target/detect-corpus/fields.jsonl")
    args = ap.parse_args()
    r = random.Random(args.seed)
    Faker.seed(args.seed)
    fakers = [Faker(loc) for loc in LOCALES]
    out = []

    def add(value, expected, note, key=None):
        kind = "tag-value" if key else r.choice(["tag-value", "tag-value", "free-text"])
        if kind == "tag-value":
            loc, key = r.choice(TAG_LOCS), key or r.choice(NEUTRAL_KEYS)
        else:
            loc, key = "body:Description", None
        out.append({"kind": kind, "location": loc, "tag_key": key, "value": value,
                    "expected": sorted(expected), "note": note})

    n = args.per_family
    # Email: Faker's addresses in every locale, some with internationalized parts.
    for i in range(n):
        f = fakers[i % len(fakers)]
        addr = f.email() if i % 4 else f.free_email()
        add(f"contact: {addr}", ["email-address"], "email")
    for local, dom in [("josé", "correo.es"), ("user", "пример.рф"), ("info", "例子.中国"),
                       ("müller", "firma.de"), ("θανάσης", "παράδειγμα.ελ")]:
        add(f"{local}@{dom}", ["email-address"], "email-idn")
    # Phone: example numbers of every region and type, international and national + keyword.
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    types = [phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE]
    examples = []
    for reg in regions:
        for t in types:
            ex = phonenumbers.example_number_for_type(reg, t)
            if ex is not None:
                examples.append((reg, ex))
    r.shuffle(examples)
    for reg, ex in examples[: n * 2]:
        if r.random() < 0.5:
            text = phonenumbers.format_number(ex, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
            add(f"call {text}", ["phone-number"], f"phone-intl {reg}")
        else:
            text = phonenumbers.format_number(ex, phonenumbers.PhoneNumberFormat.NATIONAL)
            add(f"{r.choice(PHONE_WORDS)} {text}", ["phone-number"], f"phone-national {reg}")
    # SSN: stdnum decides which numbers are valid.
    made, tries = 0, 0
    while made < n and tries < n * 20:
        tries += 1
        d = f"{r.randint(1, 899):03d}{r.randint(1, 99):02d}{r.randint(1, 9999):04d}"
        if not std_ssn.is_valid(d):
            continue
        sep = r.choice(["-", " ", ".", "-"])
        text = f"{d[:3]}{sep}{d[3:5]}{sep}{d[5:]}"
        word = r.choice(["SSN", "SS#", "Soc. Sec. #", "social security no.", "ssn:"])
        add(f"{word} {text}", ["us-ssn"], "ssn")
        made += 1
    # Cards: Faker's card numbers (12-digit Maestro excluded: indistinguishable from account ids).
    made, tries = 0, 0
    while made < n and tries < n * 20:
        tries += 1
        f = fakers[tries % len(fakers)]
        num = f.credit_card_number()
        if len(num) < 13 or not luhn.is_valid(num):
            continue
        grouped = " ".join(num[i:i + 4] for i in range(0, len(num), 4)) if made % 2 else num
        tail = f" {r.randint(1, 12):02d}/{r.randint(25, 32)}" if made % 3 == 0 else ""
        add(f"card {grouped}{tail}", ["credit-card-number"], "card")
        made += 1
    # IBAN: Faker's per-locale IBANs, checked by stdnum.
    made, tries = 0, 0
    while made < n and tries < n * 20:
        tries += 1
        f = fakers[tries % len(fakers)]
        try:
            value = f.iban()
        except AttributeError:
            value = fakers[0].iban()
        if not std_iban.is_valid(value):
            continue
        shown = std_iban.format(value) if made % 2 else std_iban.compact(value)
        add(f"payout {shown}", ["iban"], "iban")
        made += 1
    # Secrets, detect-secrets style.
    b32 = string.ascii_uppercase + "234567"
    b64 = string.ascii_letters + string.digits + "+/"
    for i in range(n // 3):
        add("AKIA" + "".join(r.choice(b32) for _ in range(16)), ["aws-access-key-id"], "akid")
        secret = "".join(r.choice(b64) for _ in range(40))
        if any(c.isupper() for c in secret) and any(c.islower() for c in secret) \
                and any(c.isdigit() for c in secret):
            add(secret, ["aws-secret-access-key"], "secret", key="aws_secret_access_key")
        pw = "".join(r.choice(string.ascii_letters + string.digits + "!$%") for _ in range(12))
        if pw.startswith("$"):
            pw = "x" + pw
        add(f"postgres://app:{pw}@db{i}.example.com:5432/app", ["url-credentials"], "url-creds")
        head = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=").decode()
        body = base64.urlsafe_b64encode(
            json.dumps({"sub": str(r.randint(1, 10**9))}).encode()).rstrip(b"=").decode()
        sig = base64.urlsafe_b64encode(bytes(r.getrandbits(8) for _ in range(32)))
        add(f"{head}.{body}.{sig.rstrip(b'=').decode()}", ["json-web-token"], "jwt")
    # National identifiers: Faker locales and python-stdnum (the oracle), next to a keyword of
    # the locale or in a tag whose key names them; broken check digits and unkeyed values as
    # negatives (tools/gen_corpus_national.py).
    for value, expected, note, key in gen_corpus_national.records(r, n // 2):
        add(value, expected, note, key=key)
    saas_secrets(r, add, n // 10)
    # Hard negatives: Faker text, dates, ids, numbers that fail the oracles.
    for i in range(n * 3):
        f = fakers[i % len(fakers)]
        choice = i % 8
        if choice == 0:
            value = f.sentence(nb_words=12)
        elif choice == 1:
            value = f"phone rota {f.date()} build {f.date().replace('-', '')}"
        elif choice == 2:
            value = f"arn:aws:iam::{r.randint(10**11, 10**12 - 1)}:role/{f.word()}"
        elif choice == 3:
            num = f.credit_card_number()
            bad = num[:-1] + str((int(num[-1]) + 1) % 10)
            value = f"order {bad}"
        elif choice == 4:
            value = f"ssn {r.choice(['000', '666', '900'])}-{r.randint(10, 99)}-{r.randint(1000, 9999)}"
        elif choice == 5:
            value = f"https://user:{r.choice(['%s', '$(DB_PASS)', '${PASSWORD}', '****'])}@db.example.com"
        elif choice == 6:
            value = f"v{r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 99)}+{f.date().replace('-', '')}"
        else:
            value = f"icon@2x.png {f.uuid4()}"
        add(value, [], "negative")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        for rec in out:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"{len(out)} fields -> {args.out}")


if __name__ == "__main__":
    main()
