//! The embedded AWS endpoint catalogue: partitions, DNS suffixes and every host endpoints.json
//! names, parsed once on first use.
//!
//! `data/endpoints.tsv.gz` is written by `tools/gen_endpoints.py` from botocore's data; the format
//! is described in its header. Only [`super`] and [`crate::aws::host`] read the catalogue: they
//! ask for a host's record ([`Catalogue::endpoint`]), the suffix a host sits under
//! ([`Catalogue::suffix_of`]) and which partition owns a region ([`Catalogue::partition_for`]).

use std::collections::{HashMap, HashSet};

use std::io::Read;
use std::sync::OnceLock;

use regex::{Regex, RegexBuilder};

/// The gzip-compressed catalogue text.
const EMBEDDED: &[u8] = include_bytes!("../../../data/endpoints.tsv.gz");
/// Upper bound on the decompressed size, so a corrupt build can never allocate without limit.
const MAX_TEXT: u64 = 16 * 1024 * 1024;

/// Why the embedded catalogue could not be read (only possible with a corrupt build).
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    /// The gzip stream did not decompress.
    #[error("endpoint catalogue does not decompress")]
    Decompress(#[source] std::io::Error),
    /// A line does not have the fields its kind needs.
    #[error("endpoint catalogue line {line} is malformed")]
    BadLine {
        /// 1-based line number.
        line: usize,
    },
    /// Host lines are not sorted, so lookups could miss.
    #[error("endpoint catalogue host lines are not sorted")]
    Unsorted,
    /// A partition's region pattern does not compile.
    #[error("region pattern of partition {partition} does not compile")]
    BadRegex {
        /// The partition name.
        partition: String,
        /// The compile error.
        #[source]
        source: regex::Error,
    },
}

/// One AWS partition (aws, aws-cn, aws-us-gov, aws-iso, ...).
#[derive(Debug)]
pub(crate) struct Partition {
    /// Partition id, e.g. `aws-us-gov`.
    pub(crate) name: &'static str,
    /// Standard DNS suffix, e.g. `amazonaws.com`.
    pub(crate) dns_suffix: &'static str,
    /// Dual-stack DNS suffix, e.g. `api.aws`.
    pub(crate) dualstack_suffix: &'static str,
    regions: HashSet<&'static str>,
    region_shape: Regex,
}

impl Partition {
    /// True when `region` is listed for the partition or has its region shape.
    pub(crate) fn has_region(&self, region: &str) -> bool {
        self.regions.contains(region) || self.region_shape.is_match(region)
    }
}

/// What the catalogue knows about one host.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Endpoint {
    /// Index into [`Catalogue::partitions`].
    pub(crate) partition: usize,
    /// Endpoint prefix (the endpoints.json service key), e.g. `api.ecr`.
    pub(crate) service: &'static str,
    /// Signing region (credential scope), already free of fips markers.
    pub(crate) region: Option<&'static str>,
    /// The host is a FIPS endpoint.
    pub(crate) fips: bool,
    /// The host is a dual-stack endpoint.
    pub(crate) dualstack: bool,
    /// For a standard host: the FIPS host of the same service and region, if one exists.
    pub(crate) fips_host: Option<&'static str>,
}

/// The parsed catalogue; see the module docs.
///
/// Host lines stay as text: loading only collects them (they are sorted by host) and a lookup
/// binary-searches them and parses the one line it finds, so start-up does not pay for ten
/// thousand map inserts.
#[derive(Debug, Default)]
pub(crate) struct Catalogue {
    partitions: Vec<Partition>,
    /// (suffix, partition index), longest suffix first.
    suffix_owners: Vec<(&'static str, usize)>,
    /// Distinct suffixes, longest first.
    suffixes: Vec<&'static str>,
    /// `H` lines without their tag, split into (host, the other fields), sorted by host.
    host_lines: Vec<(&'static str, &'static str)>,
    services: HashSet<&'static str>,
    /// (partition, service, region) -> FIPS host, for hosts the catalogue does not list.
    fips_by_region: HashMap<FipsKey, &'static str>,
}

/// The catalogue, parsed on first use. A corrupt embedded file yields an empty catalogue (every
/// host is then unknown) rather than a panic; [`check`] reports it.
pub(crate) fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| match text() {
        Ok(text) => Catalogue::parse(text).unwrap_or_default(),
        Err(_) => Catalogue::default(),
    })
}

/// Load the catalogue now and validate every line; the number of hosts, or what is wrong.
pub(crate) fn check() -> Result<usize, CatalogueError> {
    let text = text()?;
    let cat = Catalogue::parse(text)?;
    for (n, line) in text.lines().enumerate() {
        if let Some(rest) = line.strip_prefix("H\t") {
            let fields = rest.split_once('\t').map(|(_, f)| f);
            fields
                .and_then(|f| parse_host_fields(f, cat.partitions.len()))
                .ok_or(CatalogueError::BadLine { line: n + 1 })?;
        }
    }
    Ok(catalogue().len())
}

fn text() -> Result<&'static str, CatalogueError> {
    static TEXT: OnceLock<Result<String, String>> = OnceLock::new();
    let stored = TEXT.get_or_init(|| decompress(EMBEDDED).map_err(|e| e.to_string()));
    match stored {
        Ok(text) => Ok(text.as_str()),
        Err(msg) => Err(CatalogueError::Decompress(std::io::Error::other(
            msg.clone(),
        ))),
    }
}

fn decompress(bytes: &[u8]) -> Result<String, std::io::Error> {
    let mut out = String::with_capacity(bytes.len() * 12);
    flate2::read::GzDecoder::new(bytes)
        .take(MAX_TEXT)
        .read_to_string(&mut out)?;
    Ok(out)
}

impl Catalogue {
    /// Parse catalogue text (see the generator for the format). Host lines are only collected
    /// and checked for order; [`check`] validates their fields.
    pub(crate) fn parse(text: &'static str) -> Result<Catalogue, CatalogueError> {
        let mut cat = Catalogue::default();
        let mut extras = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let bad = || CatalogueError::BadLine { line: n + 1 };
            let Some((tag, rest)) = line.split_once('\t') else {
                continue;
            };
            match tag {
                "H" => cat.host_lines.push(rest.split_once('\t').ok_or_else(bad)?),
                "P" => cat.partitions.push(parse_partition(rest).ok_or_else(bad)??),
                "X" => extras.push(rest.split_once('\t').ok_or_else(bad)?),
                "S" => {
                    cat.services.insert(rest);
                }
                "F" => {
                    let (key, host) =
                        parse_fips_line(rest, cat.partitions.len()).ok_or_else(bad)?;
                    cat.fips_by_region.insert(key, host);
                }
                _ => {}
            }
        }
        let sorted = cat.host_lines.windows(2).all(|w| match w {
            [a, b] => a.0 < b.0,
            _ => true,
        });
        if !sorted {
            return Err(CatalogueError::Unsorted);
        }
        cat.index_suffixes(&extras);
        Ok(cat)
    }

    fn index_suffixes(&mut self, extras: &[(&'static str, &'static str)]) {
        let mut owners = Vec::new();
        for (i, p) in self.partitions.iter().enumerate() {
            owners.push((p.dns_suffix, i));
            owners.push((p.dualstack_suffix, i));
        }
        for (suffix, name) in extras {
            if let Some(i) = self.partitions.iter().position(|p| p.name == *name) {
                owners.push((suffix, i));
            }
        }
        // Longest first; equal suffixes keep partition order (aws before aws-us-gov).
        owners.sort_by(|a, b| {
            b.0.len()
                .cmp(&a.0.len())
                .then(a.0.cmp(b.0))
                .then(a.1.cmp(&b.1))
        });
        owners.dedup();
        let mut suffixes: Vec<&'static str> = owners.iter().map(|(s, _)| *s).collect();
        suffixes.dedup();
        self.suffix_owners = owners;
        self.suffixes = suffixes;
    }

    /// The record for an exact (normalised) host: a binary search over the sorted host lines.
    pub(crate) fn endpoint(&self, host: &str) -> Option<Endpoint> {
        let at = self
            .host_lines
            .binary_search_by(|(h, _)| (*h).cmp(host))
            .ok()?;
        let (_, fields) = self.host_lines.get(at)?;
        parse_host_fields(fields, self.partitions.len())
    }

    /// All partitions, in data order.
    pub(crate) fn partitions(&self) -> &[Partition] {
        &self.partitions
    }

    /// Every distinct DNS suffix, longest first.
    pub(crate) fn suffixes(&self) -> &[&'static str] {
        &self.suffixes
    }

    /// True when `service` is an endpoint prefix the data names.
    pub(crate) fn is_service(&self, service: &str) -> bool {
        self.services.contains(service)
    }

    /// The longest suffix `host` sits strictly under (at least one label before it).
    pub(crate) fn suffix_of(&self, host: &str) -> Option<&'static str> {
        self.suffixes.iter().copied().find(|s| is_under(host, s))
    }

    /// The partition for a host under `suffix` whose region label is `region` (if any): the first
    /// partition owning the suffix whose regions match, else the first owning it at all.
    pub(crate) fn partition_for(&self, suffix: &str, region: Option<&str>) -> Option<usize> {
        let mut owners = self.suffix_owners.iter().filter(|(s, _)| *s == suffix);
        let first = owners.clone().next().map(|(_, i)| *i);
        let Some(region) = region else {
            return first;
        };
        owners
            .find(|(_, i)| {
                self.partitions
                    .get(*i)
                    .is_some_and(|p| p.has_region(region))
            })
            .map(|(_, i)| *i)
            .or(first)
    }

    /// True when some partition owning `suffix` has the region.
    pub(crate) fn is_region_under(&self, suffix: &str, region: &str) -> bool {
        self.suffix_owners
            .iter()
            .filter(|(s, _)| *s == suffix)
            .any(|(_, i)| {
                self.partitions
                    .get(*i)
                    .is_some_and(|p| p.has_region(region))
            })
    }

    /// The explicit FIPS host of a service in a region, if the data lists one.
    pub(crate) fn fips_for(
        &self,
        partition: usize,
        service: &str,
        region: &str,
    ) -> Option<&'static str> {
        self.fips_by_region
            .get(&(partition, service, region))
            .copied()
    }

    /// Number of hosts listed.
    pub(crate) fn len(&self) -> usize {
        self.host_lines.len()
    }
}

/// True when `host` ends with `.suffix` and has at least one label before it.
pub(crate) fn is_under(host: &str, suffix: &str) -> bool {
    host.len() > suffix.len() + 1
        && host.ends_with(suffix)
        && host.as_bytes().get(host.len() - suffix.len() - 1) == Some(&b'.')
}

fn parse_partition(line: &'static str) -> Option<Result<Partition, CatalogueError>> {
    let mut f = line.split('\t');
    let (name, dns_suffix, dualstack_suffix) = (f.next()?, f.next()?, f.next()?);
    let (pattern, regions) = (f.next()?, f.next()?);
    let region_shape = match RegexBuilder::new(pattern).unicode(false).build() {
        Ok(re) => re,
        Err(source) => {
            let partition = name.to_string();
            return Some(Err(CatalogueError::BadRegex { partition, source }));
        }
    };
    let regions = regions.split(',').filter(|r| !r.is_empty()).collect();
    Some(Ok(Partition {
        name,
        dns_suffix,
        dualstack_suffix,
        regions,
        region_shape,
    }))
}

type FipsKey = (usize, &'static str, &'static str);

fn parse_fips_line(line: &'static str, partitions: usize) -> Option<(FipsKey, &'static str)> {
    let mut f = line.split('\t');
    let partition: usize = f.next()?.parse().ok().filter(|i| *i < partitions)?;
    let (service, region, host) = (f.next()?, f.next()?, f.next()?);
    Some(((partition, service, region), host))
}

/// The fields of an `H` line after its host.
fn parse_host_fields(fields: &'static str, partitions: usize) -> Option<Endpoint> {
    let mut f = fields.split('\t');
    let partition: usize = f.next()?.parse().ok().filter(|i| *i < partitions)?;
    let (service, region, flags, target) = (f.next()?, f.next()?, f.next()?, f.next()?);
    let some = |s: &'static str| (s != "-").then_some(s);
    let ep = Endpoint {
        partition,
        service,
        region: some(region),
        fips: flags.contains('f'),
        dualstack: flags.contains('d'),
        fips_host: some(target),
    };
    Some(ep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalogue_loads() {
        let hosts = check().unwrap_or(0);
        assert!(hosts > 10_000, "{hosts} hosts: {:?}", check());
        let names: Vec<&str> = catalogue().partitions().iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            [
                "aws",
                "aws-cn",
                "aws-eusc",
                "aws-iso",
                "aws-iso-b",
                "aws-iso-e",
                "aws-iso-f",
                "aws-us-gov"
            ]
        );
    }

    #[test]
    fn malformed_fips_line_is_reported_with_its_number() {
        let text = "P\taws\tamazonaws.com\tapi.aws\t^us-\\w+-\\d+$\tus-east-1\nF\t7\tsqs\n";
        let err = Catalogue::parse(text).err();
        assert!(
            matches!(err, Some(CatalogueError::BadLine { line: 2 })),
            "{err:?}"
        );
    }

    const SMALL: &str = "P\taws\tamazonaws.com\tapi.aws\t^us-\\w+-\\d+$\tus-east-1\n\
                         H\ta.us-east-1.amazonaws.com\t0\ta\tus-east-1\t-\t-\n\
                         H\tb.us-east-1.amazonaws.com\t9\tb\tus-east-1\t-\t-\n\
                         H\tc.us-east-1.amazonaws.com\t0\tc\tus-east-1\tfd\t-\n";

    #[test]
    fn lookup_binary_searches_the_host_lines() {
        let cat = Catalogue::parse(SMALL).unwrap_or_default();
        let c = cat.endpoint("c.us-east-1.amazonaws.com");
        assert_eq!(
            c.map(|e| (e.service, e.fips, e.dualstack)),
            Some(("c", true, true))
        );
        assert_eq!(
            cat.endpoint("a.us-east-1.amazonaws.com").map(|e| e.service),
            Some("a")
        );
        assert!(cat.endpoint("d.us-east-1.amazonaws.com").is_none());
        // A line naming a partition that does not exist is never returned.
        assert!(cat.endpoint("b.us-east-1.amazonaws.com").is_none());
        assert_eq!(cat.len(), 3);
    }

    #[test]
    fn unsorted_host_lines_are_rejected() {
        let text = "H\tb.x\t0\tb\t-\t-\t-\nH\ta.x\t0\ta\t-\t-\t-\n";
        let err = Catalogue::parse(text).err();
        assert!(matches!(err, Some(CatalogueError::Unsorted)), "{err:?}");
    }

    #[test]
    fn bad_region_pattern_is_reported() {
        let text = "P\taws\tamazonaws.com\tapi.aws\t(\tus-east-1\n";
        let err = Catalogue::parse(text).err();
        assert!(
            matches!(err, Some(CatalogueError::BadRegex { .. })),
            "{err:?}"
        );
    }

    #[test]
    fn shared_suffix_goes_to_the_partition_owning_the_region() {
        let cat = catalogue();
        let name = |i: Option<usize>| i.and_then(|i| cat.partitions().get(i)).map(|p| p.name);
        assert_eq!(
            name(cat.partition_for("amazonaws.com", Some("us-gov-west-1"))),
            Some("aws-us-gov")
        );
        assert_eq!(
            name(cat.partition_for("amazonaws.com", Some("us-east-1"))),
            Some("aws")
        );
        assert_eq!(name(cat.partition_for("amazonaws.com", None)), Some("aws"));
        assert_eq!(name(cat.partition_for("on.aws", None)), Some("aws"));
        assert_eq!(name(cat.partition_for("example.com", None)), None);
    }

    #[test]
    fn suffix_must_sit_on_a_label_boundary() {
        assert!(is_under("sqs.amazonaws.com", "amazonaws.com"));
        assert!(!is_under("evilamazonaws.com", "amazonaws.com"));
        assert!(!is_under("amazonaws.com", "amazonaws.com"));
        assert!(!is_under(".amazonaws.com", "amazonaws.com"));
    }

    mod prop {
        use super::super::*;
        use proptest::prelude::*;

        fn leak(text: String) -> &'static str {
            Box::leak(text.into_boxed_str())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]

            #[test]
            fn arbitrary_text_never_panics(text in any::<String>(), host in "[a-z.]{0,20}") {
                if let Ok(cat) = Catalogue::parse(leak(text)) {
                    let _ = cat.endpoint(&host);
                    let _ = cat.suffix_of(&host);
                }
            }

            #[test]
            fn catalogue_shaped_lines_never_panic(
                lines in proptest::collection::vec("[PXSFH#]?\t?[a-z0-9.,^$|()\\-]{0,12}(\t[a-z0-9.,-]{0,12}){0,7}", 0..12),
                host in "[a-z0-9.]{0,12}",
            ) {
                if let Ok(cat) = Catalogue::parse(leak(lines.join("\n"))) {
                    let _ = cat.endpoint(&host);
                    let _ = cat.partition_for(&host, Some(&host));
                    let _ = cat.is_region_under(&host, &host);
                }
            }

            #[test]
            fn arbitrary_bytes_never_panic_the_decompressor(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
                let _ = decompress(&bytes);
            }
        }
    }
}
