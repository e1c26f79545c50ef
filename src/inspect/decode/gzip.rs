//! Bounded `Content-Encoding` decoding: gzip bodies (CloudWatch `PutMetricData`, …) are
//! inflated up to a hard limit.
//!
//! Called by [`super::extract`] before the body decoders. The output buffer only grows as
//! data actually inflates and reading stops one byte past the limit, so a gzip bomb costs at
//! most `max_decompressed` bytes and the time to inflate them.

use std::io::Read;

use flate2::read::MultiGzDecoder;

use super::DecodeError;

/// What a `Content-Encoding` header asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// No coding, or `identity`.
    Identity,
    /// One layer of `gzip` (or `x-gzip`).
    Gzip,
}

/// Parses a `Content-Encoding` value; anything but at most one gzip layer is unsupported.
pub(crate) fn encoding(value: Option<&[u8]>) -> Result<Encoding, DecodeError> {
    let Some(value) = value else {
        return Ok(Encoding::Identity);
    };
    let value = std::str::from_utf8(value).map_err(|_| DecodeError::UnsupportedEncoding)?;
    let mut result = Encoding::Identity;
    for coding in value.split(',').map(str::trim) {
        match coding.to_ascii_lowercase().as_str() {
            "" | "identity" => {}
            "gzip" | "x-gzip" if result == Encoding::Identity => result = Encoding::Gzip,
            _ => return Err(DecodeError::UnsupportedEncoding),
        }
    }
    Ok(result)
}

/// Inflates a gzip body (all members), failing past `max` bytes of output.
pub(crate) fn gunzip(body: &[u8], max: usize) -> Result<Vec<u8>, DecodeError> {
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    let mut out = Vec::new();
    MultiGzDecoder::new(body)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|_| DecodeError::InvalidGzip)?;
    if out.len() > max {
        return Err(DecodeError::DecompressedTooLarge);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn content_encoding_values() {
        assert_eq!(encoding(None), Ok(Encoding::Identity));
        assert_eq!(encoding(Some(b"identity")), Ok(Encoding::Identity));
        assert_eq!(encoding(Some(b"GZIP")), Ok(Encoding::Gzip));
        assert_eq!(encoding(Some(b"x-gzip, identity")), Ok(Encoding::Gzip));
        assert_eq!(
            encoding(Some(b"gzip, gzip")),
            Err(DecodeError::UnsupportedEncoding)
        );
        assert_eq!(encoding(Some(b"br")), Err(DecodeError::UnsupportedEncoding));
        assert_eq!(
            encoding(Some(b"aws-chunked")),
            Err(DecodeError::UnsupportedEncoding)
        );
    }

    #[test]
    fn round_trip_and_exact_limit() {
        let body = gzip(b"Action=PutMetricData");
        assert_eq!(gunzip(&body, 20).unwrap(), b"Action=PutMetricData");
        assert_eq!(gunzip(&body, 19), Err(DecodeError::DecompressedTooLarge));
        let mut two = gzip(b"a=1&");
        two.extend(gzip(b"b=2"));
        assert_eq!(gunzip(&two, 100).unwrap(), b"a=1&b=2");
    }

    #[test]
    fn bomb_stops_at_the_limit() {
        let bomb = gzip(&vec![0u8; 64 << 20]);
        assert!(bomb.len() < 100_000, "{}", bomb.len());
        assert_eq!(
            gunzip(&bomb, 8 << 20),
            Err(DecodeError::DecompressedTooLarge)
        );
    }

    #[test]
    fn corrupt_streams_are_errors() {
        assert_eq!(gunzip(b"not gzip", 100), Err(DecodeError::InvalidGzip));
        let body = gzip(b"hello world");
        assert_eq!(
            gunzip(&body[..body.len() - 3], 100),
            Err(DecodeError::InvalidGzip)
        );
    }
}
