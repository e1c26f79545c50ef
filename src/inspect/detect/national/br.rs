//! `br-cpf` and `br-cnpj`: Brazilian taxpayer numbers of people (CPF, `390.533.447-05`, eleven
//! digits) and companies (CNPJ, `11.222.333/0001-81`, fourteen), each with two mod-11 check
//! digits; a number of one repeated digit passes the check but is never issued.

use super::{all_digits, digit, repeated, weighted, Spec};

pub(super) const CPF: Spec = Spec {
    rule: "br-cpf",
    lens: &[11],
    seps: b".-",
    valid: valid_cpf,
    distance: super::KEYWORD_DISTANCE,
};

pub(super) const CNPJ: Spec = Spec {
    rule: "br-cnpj",
    lens: &[14],
    seps: b".-/",
    valid: valid_cnpj,
    distance: super::KEYWORD_DISTANCE,
};

fn valid_cpf(n: &[u8]) -> bool {
    if n.len() != 11 || !all_digits(n) || repeated(n) {
        return false;
    }
    let check = |len: usize| {
        let weights: Vec<u32> = (2..=len as u32 + 1).rev().collect();
        weighted(&n[..len], &weights) * 10 % 11 % 10
    };
    check(9) == digit(n[9]) && check(10) == digit(n[10])
}

fn valid_cnpj(n: &[u8]) -> bool {
    if n.len() != 14 || !all_digits(n) || repeated(n) {
        return false;
    }
    const WEIGHTS: [u32; 13] = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
    let check = |len: usize| {
        let r = weighted(&n[..len], &WEIGHTS[13 - len..]) % 11;
        if r < 2 {
            0
        } else {
            11 - r
        }
    };
    check(12) == digit(n[12]) && check(13) == digit(n[13])
}

#[cfg(test)]
mod tests {
    use super::super::found;

    #[test]
    fn finds_keyed_numbers() {
        assert_eq!(found("CPF: 390.533.447-05"), ["br-cpf"]);
        assert_eq!(found("cpf 39053344705"), ["br-cpf"]);
        assert_eq!(found("CNPJ 11.222.333/0001-81"), ["br-cnpj"]);
        assert_eq!(
            found("Cadastro de Pessoas Físicas 390.533.447-05"),
            ["br-cpf"]
        );
    }

    #[test]
    fn rejects_wrong_checks_and_repeats() {
        for v in [
            "CPF 390.533.447-06",
            "CPF 111.111.111-11",
            "CNPJ 11.222.333/0001-82",
            "CNPJ 00.000.000/0000-00",
            "390.533.447-05",
        ] {
            assert!(found(v).is_empty(), "{v}");
        }
    }
}
