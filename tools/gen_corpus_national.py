"""National identifiers for the independent detector corpus (called by tools/gen_corpus.py).

Positives come from Faker's locale providers (`ssn()` of en_GB, en_CA, fr_FR, it_IT, ko_KR,
nl_NL, sv_SE, pl_PL, zh_CN; `nif()`/`nie()`, `cpf()`/`cnpj()`, `aadhaar_id()`, `curp()`,
`itin()`, `passport_number()`) or from random digits, and are kept only when python-stdnum's
validator (the oracle) accepts them. Each is written as people write it and placed next to a
keyword of its locale or in a tag whose key names it. Negatives: the same shapes with a broken
check character (rejected by the oracle), valid numbers with no keyword, and keywords next to
dates, phone-like runs, account ids and ARNs. Nothing here is shared with the Rust detectors or
their unit tests.
"""
import string

from faker import Faker
from stdnum import luhn
from stdnum.au import tfn
from stdnum.br import cnpj, cpf
from stdnum.ca import sin
from stdnum.cn import ric
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.in_ import aadhaar, pan
from stdnum.iso7064 import mod_11_10
from stdnum.it import codicefiscale
from stdnum.jp import in_ as mynumber
from stdnum.kr import rrn
from stdnum.mx import curp
from stdnum.nl import bsn
from stdnum.pl import pesel
from stdnum.se import personnummer
from stdnum.us import itin

# Keywords as people write them, per identifier, in the locale's languages and English.
KEYWORDS = {
    "uk-nino": ["NINO", "National Insurance number", "NI number", "national insurance no."],
    "ca-sin": ["SIN", "Social Insurance Number", "numéro d'assurance sociale", "NAS"],
    "fr-nir": ["NIR", "numéro de sécurité sociale", "N° INSEE", "Sécurité Sociale"],
    "de-tax-id": ["Steuer-ID", "Steueridentifikationsnummer", "steuerliche Identifikationsnummer",
                  "IdNr"],
    "it-codice-fiscale": ["Codice Fiscale", "C.F.", "cod. fisc.", "codice fiscale n."],
    "es-dni": ["DNI", "NIE", "Documento Nacional de Identidad", "NIF"],
    "br-cpf": ["CPF", "CPF nº", "Cadastro de Pessoas Físicas"],
    "br-cnpj": ["CNPJ", "CNPJ nº", "Cadastro Nacional da Pessoa Jurídica"],
    "in-aadhaar": ["Aadhaar", "Aadhaar No.", "आधार संख्या", "aadhar number"],
    "in-pan": ["PAN", "PAN No.", "Permanent Account Number"],
    "cn-resident-id": ["身份证号码", "居民身份证", "公民身份号码", "Resident ID"],
    "jp-my-number": ["マイナンバー", "個人番号", "My Number"],
    "kr-rrn": ["주민등록번호", "주민번호", "RRN"],
    "au-tfn": ["TFN", "Tax File Number", "tax file no."],
    "mx-curp": ["CURP", "Clave Única de Registro de Población"],
    "nl-bsn": ["BSN", "Burgerservicenummer", "BSN-nummer"],
    "se-personnummer": ["Personnummer", "personnr", "Pnr"],
    "pl-pesel": ["PESEL", "numer PESEL", "Numer PESEL:"],
    "us-itin": ["ITIN", "Individual Taxpayer Identification Number", "ITIN#"],
    "passport-number": ["Passport No.", "passport", "Reisepass Nr.", "N° de passeport",
                        "número de pasaporte", "numero passaporto", "护照号码", "旅券番号",
                        "여권번호", "paspoortnummer", "Номер паспорта"],
    "drivers-license-number": ["Driver's License", "DL#", "driving licence no.",
                               "Führerschein-Nr.", "permis de conduire", "licencia de conducir",
                               "rijbewijsnummer", "numer prawa jazdy", "運転免許証番号", "驾驶证号",
                               "운전면허번호", "CNH", "körkortsnummer"],
}
# Tag keys that name the identifier.
KEYS = {
    "uk-nino": ["nino", "national_insurance_number", "NationalInsuranceNumber"],
    "ca-sin": ["sin", "employee-sin", "SocialInsuranceNumber"],
    "fr-nir": ["nir", "numero-securite-sociale", "insee"],
    "de-tax-id": ["steuer-id", "SteuerIdentifikationsnummer", "tax_id"],
    "it-codice-fiscale": ["codice_fiscale", "CodiceFiscale", "cf"],
    "es-dni": ["dni", "nie", "DocumentoNacionalDeIdentidad"],
    "br-cpf": ["cpf", "cliente-cpf"],
    "br-cnpj": ["cnpj", "empresa_cnpj"],
    "in-aadhaar": ["aadhaar", "AadhaarNumber"],
    "in-pan": ["pan", "pan_number"],
    "cn-resident-id": ["身份证", "resident-id"],
    "jp-my-number": ["マイナンバー", "my_number"],
    "kr-rrn": ["주민등록번호", "rrn"],
    "au-tfn": ["tfn", "TaxFileNumber"],
    "mx-curp": ["curp"],
    "nl-bsn": ["bsn", "burgerservicenummer"],
    "se-personnummer": ["personnummer"],
    "pl-pesel": ["pesel"],
    "us-itin": ["itin", "ITIN"],
    "passport-number": ["passport", "PassportNumber", "passport_no"],
    "drivers-license-number": ["drivers_license", "DriversLicenseNumber", "dl#"],
}
LOCALES = ["en_GB", "en_CA", "fr_FR", "it_IT", "es_ES", "pt_BR", "en_IN", "zh_CN", "ko_KR",
           "es_MX", "nl_NL", "sv_SE", "pl_PL", "en_US", "de_DE", "ja_JP", "en_AU"]


def spaced(digits, groups, sep=" "):
    """`digits` split into groups of the given sizes."""
    out, i = [], 0
    for g in groups:
        out.append(digits[i:i + g])
        i += g
    return sep.join(out)


def nino(r):
    first = r.choice([c for c in string.ascii_uppercase if c not in "DFIQUV"])
    second = r.choice([c for c in string.ascii_uppercase if c not in "DFIOQUV"])
    if first + second in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"):
        return None
    d = "".join(r.choice(string.digits) for _ in range(6))
    suffix = r.choice("ABCD")
    return r.choice([f"{first}{second}{d}{suffix}", f"{first}{second} {spaced(d, [2, 2, 2])} {suffix}",
                     f"{first}{second} {d} {suffix}"])


def digits_valid(r, length, oracle, first="123456789"):
    """Random digits of `length` the oracle accepts (None after 200 tries)."""
    for _ in range(200):
        d = r.choice(first) + "".join(r.choice(string.digits) for _ in range(length - 1))
        if oracle(d):
            return d
    return None


def pan_number(r):
    up = string.ascii_uppercase
    value = ("".join(r.choice(up) for _ in range(3)) + r.choice("PCHFATBLJG") + r.choice(up)
             + f"{r.randint(1, 9999):04d}" + r.choice(up))
    return value if pan.is_valid(value) else None


def license_number(r):
    up, d = string.ascii_uppercase, string.digits
    style = r.randrange(4)
    if style == 0:  # California style: a letter and seven digits.
        return r.choice(up) + "".join(r.choice(d) for _ in range(7))
    if style == 1:  # New York style: nine digits.
        return "".join(r.choice(d) for _ in range(9))
    if style == 2:  # Florida style: D123-456-78-901-0.
        body = "".join(r.choice(d) for _ in range(12))
        return f"{r.choice(up)}{body[:3]}-{body[3:6]}-{body[6:8]}-{body[8:11]}-{body[11]}"
    name = "".join(r.choice(up) for _ in range(5))  # UK style, 16 characters.
    return (name + "".join(r.choice(d) for _ in range(6)) + r.choice(up) + r.choice(up)
            + r.choice(d) + r.choice(up) + r.choice(up))


def passport_number(fakers, r):
    value = r.choice(fakers).passport_number()
    letters = sum(c.isalpha() for c in value)
    digits = sum(c.isdigit() for c in value)
    plausible = (6 <= len(value) <= 9 and value.isalnum() and value.upper() == value
                 and letters <= 3 and digits >= 5 and len(set(value)) > 1
                 and value not in "0123456789")
    return value if plausible else None


def generators(f, r, fakers):
    """(rule, make a valid formatted value, oracle on the compact value, check-char breaker)."""
    def faker_of(loc):
        return f[loc]

    def fr_nir():
        v = faker_of("fr_FR").ssn()
        if r.random() < 0.2:  # Corsica: department 2A/2B, key recomputed by the oracle.
            v = v[:5] + r.choice(["2A", "2B"]) + v[7:13]
            v += nir.calc_check_digits(v + "00")
        if r.random() < 0.5:
            v = spaced(v, [1, 2, 2, 2, 3, 3, 2])
        return v

    def de_id():
        for _ in range(500):
            head = r.choice("123456789") + "".join(r.choice(string.digits) for _ in range(9))
            v = head + mod_11_10.calc_check_digit(head)
            if idnr.is_valid(v):
                return v if r.random() < 0.5 else spaced(v, [2, 3, 3, 3])
        return None

    def jp():
        head = "".join(r.choice(string.digits) for _ in range(11))
        v = head + mynumber.calc_check_digit(head)
        return v if r.random() < 0.5 else spaced(v, [4, 4, 4], r.choice([" ", "-"]))

    def se():
        v = faker_of("sv_SE").ssn()
        if r.random() < 0.3:
            v = ("19" if int(v[:2]) > 25 else "20") + v
        return v

    def aadhaar_id():
        v = faker_of("en_IN").aadhaar_id()
        return v if r.random() < 0.5 else spaced(v, [4, 4, 4])

    def tfn_number():
        v = digits_valid(r, r.choice([8, 9, 9]), tfn.is_valid)
        return v if v is None or len(v) == 8 or r.random() < 0.5 else spaced(v, [3, 3, 3])

    def cpf_number():
        v = faker_of("pt_BR").cpf()
        return v if r.random() < 0.6 else cpf.compact(v)

    def cnpj_number():
        v = faker_of("pt_BR").cnpj()
        return v if r.random() < 0.6 else cnpj.compact(v)

    return [
        ("uk-nino", lambda: nino(r), None),
        ("ca-sin", lambda: faker_of("en_CA").ssn(), sin.is_valid),
        ("fr-nir", fr_nir, nir.is_valid),
        ("de-tax-id", de_id, idnr.is_valid),
        ("it-codice-fiscale", lambda: faker_of("it_IT").ssn(), codicefiscale.is_valid),
        ("es-dni", lambda: r.choice([faker_of("es_ES").nif, faker_of("es_ES").nie])(),
         lambda v: dni.is_valid(v) or nie.is_valid(v)),
        ("br-cpf", cpf_number, cpf.is_valid),
        ("br-cnpj", cnpj_number, cnpj.is_valid),
        ("in-aadhaar", aadhaar_id, aadhaar.is_valid),
        ("in-pan", lambda: pan_number(r), None),
        ("cn-resident-id", lambda: faker_of("zh_CN").ssn(), ric.is_valid),
        ("jp-my-number", jp, mynumber.is_valid),
        ("kr-rrn", lambda: faker_of("ko_KR").ssn(), rrn.is_valid),
        ("au-tfn", tfn_number, tfn.is_valid),
        ("mx-curp", lambda: faker_of("es_MX").curp(), curp.is_valid),
        ("nl-bsn", lambda: faker_of("nl_NL").ssn(), bsn.is_valid),
        ("se-personnummer", se, personnummer.is_valid),
        ("pl-pesel", lambda: faker_of("pl_PL").ssn(), pesel.is_valid),
        ("us-itin", lambda: faker_of("en_US").itin(), itin.is_valid),
        ("passport-number", lambda: passport_number(fakers, r), None),
        ("drivers-license-number", lambda: license_number(r), None),
    ]


def broken(r, value, oracle, rule):
    """`value` with its last check character changed so that the oracle rejects it."""
    if rule == "kr-rrn" and value[7] in "3478" and int(value[:2]) >= 20:
        return None  # Numbers of 2020+ births carry no check digit.
    last = value[-1]
    pool = string.ascii_uppercase if last.isalpha() else string.digits
    for _ in range(20):
        c = r.choice(pool)
        cand = value[:-1] + c
        if c != last and not oracle(cand.replace(" ", "")):
            return cand
    return None


def records(r, n):
    """(value, expected rules, note, tag key or None) for every national identifier."""
    f = {loc: Faker(loc) for loc in LOCALES}
    for i, fk in enumerate(f.values()):
        fk.seed_instance(r.randint(0, 10**9) + i)
    fakers = list(f.values())
    out = []
    for rule, make, oracle in generators(f, r, fakers):
        made = tries = 0
        while made < n and tries < n * 30:
            tries += 1
            value = make()
            if value is None or (oracle is not None and not oracle(value)):
                continue
            made += 1
            placement = made % 3
            if placement == 0:
                out.append((value, [rule], rule, r.choice(KEYS[rule])))
            else:
                sep = r.choice([" ", ": ", " ", " #"])
                out.append((f"{r.choice(KEYWORDS[rule])}{sep}{value}", [rule], rule, None))
            # Negatives: the valid value with no keyword; a broken check character with one.
            if made % 4 == 0:
                out.append((f"ref {value}", [], f"{rule} unkeyed", None))
            if oracle is not None and made % 2 == 0:
                bad = broken(r, value, oracle, rule)
                if bad is not None:
                    out.append((f"{r.choice(KEYWORDS[rule])} {bad}", [], f"{rule} bad-check", None))
    # Shapes the keyword does not save: Faker's en_GB NINOs use the unallocated prefix ZZ (HMRC's
    # documentation prefix), ITIN groups 89 and 93 were never assigned.
    for i in range(n // 3):
        out.append((f"{r.choice(KEYWORDS['uk-nino'])} {f['en_GB'].ssn()}", [], "uk-nino ZZ", None))
        group = r.choice(["89", "93", "00", "45"])
        bad_itin = f"9{r.randint(0, 99):02d}-{group}-{r.randint(1, 9999):04d}"
        out.append((f"{r.choice(KEYWORDS['us-itin'])} {bad_itin}", [], "us-itin bad-group", None))
    # Keywords next to what is not an identifier.
    for i in range(n * 2):
        rule = r.choice(sorted(KEYWORDS))
        word = r.choice(KEYWORDS[rule])
        fk = fakers[i % len(fakers)]
        other = r.choice([
            fk.date(),
            fk.date().replace("-", ""),
            f"arn:aws:iam::{r.randint(10**11, 10**12 - 1)}:role/{fk.word()}",
            f"({r.randint(200, 999)}) {r.randint(200, 999)}-{r.randint(1000, 9999)}",
            f"v{r.randint(1, 9)}.{r.randint(0, 99)}.{r.randint(0, 999)}",
            f"build {r.randint(10**10, 10**11 - 1)}-{r.randint(1, 99)}",
            "123456789",
            "000000000",
        ])
        out.append((f"{word} updated {other}", [], "national keyword negative", None))
    return out
