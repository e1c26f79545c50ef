//! Redaction of matched values into excerpts that identify a finding without revealing it.
//!
//! Detectors call these to build [`crate::inspect::Finding::excerpt`]; the event writer calls
//! [`access_key_id`] for `userIdentity.accessKeyId`. Every function keeps at most a few characters
//! of the original at each end, so no excerpt holds an 8-character run of the secret.

/// Keep the first `head` and last `tail` characters, joined by `…`; values too short to keep
/// anything safely become `****`.
pub fn ends(value: &str, head: usize, tail: usize) -> String {
    let count = value.chars().count();
    if count < (head + tail) * 2 {
        return "****".to_string();
    }
    let first: String = value.chars().take(head).collect();
    let last: String = value.chars().skip(count - tail).collect();
    format!("{first}…{last}")
}

/// An AWS access key id as `AKIA…WXYZ` (first four and last four characters).
pub fn access_key_id(value: &str) -> String {
    ends(value, 4, 4)
}

/// An email address as `j***@e***.com`: first character of the local part and of the domain,
/// and the public suffix.
pub fn email(local: &str, domain: &str, suffix: &str) -> String {
    let l: String = local.chars().take(1).collect();
    let d: String = domain.chars().take(1).collect();
    format!("{l}***@{d}***.{suffix}")
}

/// A card number as `4111 **** **** 1111` from its digits.
pub fn card(digits: &str) -> String {
    let first = digits.get(..4).unwrap_or("");
    let last = digits.get(digits.len().saturating_sub(4)..).unwrap_or("");
    format!("{first} **** **** {last}")
}

/// A URL with its password masked: `https://deploy:****@git.example.com`. A long user name is
/// shortened too, since tokens are often passed as the user.
pub fn url_userinfo(scheme: &str, user: &str, has_password: bool, host: &str) -> String {
    let host = short(host);
    let user = if user.chars().count() > 16 {
        ends(user, 3, 0)
    } else {
        user.to_string()
    };
    if has_password {
        format!("{scheme}://{user}:****@{host}")
    } else {
        format!("{scheme}://{user}@{host}")
    }
}

/// A URL with a secret query parameter masked: `https://host/…?X-Amz-Signature=****`. The path
/// is dropped: it may hold personal data of its own.
pub fn url_parameter(scheme: &str, host: &str, name: &str) -> String {
    let host = short(host);
    let name: String = name.chars().take(40).collect();
    format!("{scheme}://{host}/…?{name}=****")
}

/// Hosts are not secret, but an excerpt stays one line long.
fn short(host: &str) -> String {
    const MAX_HOST: usize = 100;
    if host.chars().count() > MAX_HOST {
        host.chars().take(MAX_HOST).chain(['…']).collect()
    } else {
        host.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_keeps_head_and_tail() {
        assert_eq!(ends("AKIAIOSFODNN7ABCWXYZ", 4, 4), "AKIA…WXYZ");
        assert_eq!(access_key_id("ASIAY34FZKBOKMUTVV7A"), "ASIA…VV7A");
        assert_eq!(ends("short", 4, 4), "****");
        assert_eq!(ends("ghp_abcdefghijklmnop", 3, 0), "ghp…");
    }

    #[test]
    fn email_card_and_urls() {
        assert_eq!(email("john.doe", "example", "com"), "j***@e***.com");
        assert_eq!(card("4111111111111111"), "4111 **** **** 1111");
        assert_eq!(
            url_userinfo("https", "deploy", true, "git.example.com"),
            "https://deploy:****@git.example.com"
        );
        assert_eq!(
            url_userinfo("https", "ghp_0123456789abcdefghij", false, "github.com"),
            "https://ghp…@github.com"
        );
        let long_host = "h".repeat(150);
        let shown = url_userinfo("https", "u", true, &long_host);
        assert_eq!(shown, format!("https://u:****@{}…", "h".repeat(100)));
        assert_eq!(
            url_parameter("https", "b.s3.amazonaws.com", "X-Amz-Signature"),
            "https://b.s3.amazonaws.com/…?X-Amz-Signature=****"
        );
    }
}
