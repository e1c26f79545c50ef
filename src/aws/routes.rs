//! REST operation routing: which operation of a rest-json / rest-xml service a method + path +
//! query string is, by matching the model's request URI templates.
//!
//! Built once per service when the models load ([`crate::aws::models`]); used by
//! [`crate::aws::identify`]. Routes are indexed by method and first path segment, so a lookup
//! looks at a handful of candidates. When several match, the most specific wins: more literal
//! segments, then more literal query keys, then non-greedy over greedy.

use std::borrow::Cow;
use std::collections::HashMap;

use http::HeaderMap;
use percent_encoding::percent_decode_str;

/// One operation's route as the model gives it.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Request URI template (`/{Bucket}/{Key+}?tagging`).
    pub template: &'a str,
    /// Query parameters the input requires (`uploadId`).
    pub required_query: &'a [String],
    /// Headers the input requires, lowercase (`x-amz-copy-source`).
    pub required_headers: &'a [String],
    /// Deprecated: loses ties against the operation that replaced it.
    pub deprecated: bool,
}

/// The parts of a request a route looks at.
#[derive(Debug, Clone, Copy)]
pub struct RouteRequest<'a> {
    /// HTTP method, uppercase.
    pub method: &'a str,
    /// Raw (percent-encoded) path, path-style (the S3 bucket first).
    pub path: &'a str,
    /// Raw query string.
    pub query: Option<&'a str>,
    /// Request headers.
    pub headers: &'a HeaderMap,
}

/// Query keys whose literal value in a template is only a hint (`?x-id=GetObject`): clients may
/// omit them, and a request carrying one is matched on its value.
const OPTIONAL_QUERY_KEYS: &[&str] = &["x-id"];

/// Most path segments considered; longer paths are rare and still match greedy labels.
const MAX_SEGMENTS: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Label,
    Greedy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct QueryLiteral {
    key: String,
    value: Option<String>,
    optional: bool,
}

/// Specificity of a route: compared field by field, larger wins. Comparable across services,
/// so identification can pick the best route among several candidate services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rank {
    literal_segments: usize,
    literal_query: usize,
    required: usize,
    not_greedy: bool,
    segments: usize,
    current: bool,
}

#[derive(Debug, Clone)]
struct Route {
    operation: usize,
    segments: Vec<Segment>,
    query: Vec<QueryLiteral>,
    required_headers: Vec<String>,
    rank: Rank,
}

#[derive(Debug, Clone, Default)]
struct MethodIndex {
    by_first: HashMap<String, Vec<usize>>,
    any_first: Vec<usize>,
}

/// The routes of one service, indexed by method and first path segment.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
    by_method: HashMap<String, MethodIndex>,
}

impl RouteTable {
    /// Build the table from the operations' routes; the result of [`RouteTable::route`] is an
    /// index into this sequence.
    pub fn new<'a>(specs: impl IntoIterator<Item = RouteSpec<'a>>) -> RouteTable {
        let mut table = RouteTable::default();
        for (operation, spec) in specs.into_iter().enumerate() {
            let route = parse_route(operation, &spec);
            let id = table.routes.len();
            let index = table
                .by_method
                .entry(spec.method.to_ascii_uppercase())
                .or_default();
            match route.segments.first() {
                Some(Segment::Literal(first)) => {
                    index.by_first.entry(first.clone()).or_default().push(id)
                }
                _ => index.any_first.push(id),
            }
            table.routes.push(route);
        }
        table
    }

    /// The operation index whose route matches best, if any.
    pub fn route(&self, request: &RouteRequest<'_>) -> Option<usize> {
        self.route_ranked(request).map(|(operation, _)| operation)
    }

    /// Like [`RouteTable::route`], with the specificity of the winning route.
    pub fn route_ranked(&self, request: &RouteRequest<'_>) -> Option<(usize, Rank)> {
        let index = self.by_method.get(request.method)?;
        let segments = split_path(request.path);
        let params = parse_query(request.query.unwrap_or(""));
        let first = segments.first().map(|s| decode(s)).unwrap_or_default();
        let literal_first = index
            .by_first
            .get(first.as_ref())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        // Cheapest test first: most routes of a big REST service (S3) differ by query literal.
        literal_first
            .iter()
            .chain(&index.any_first)
            .filter_map(|&id| self.routes.get(id))
            .filter(|route| {
                query_matches(&route.query, &params)
                    && path_matches(&route.segments, &segments)
                    && route
                        .required_headers
                        .iter()
                        .all(|h| request.headers.contains_key(h.as_str()))
            })
            .max_by(|a, b| a.rank.cmp(&b.rank).then(b.operation.cmp(&a.operation)))
            .map(|route| (route.operation, route.rank))
    }
}

fn parse_route(operation: usize, spec: &RouteSpec<'_>) -> Route {
    let (path, query) = spec.template.split_once('?').unwrap_or((spec.template, ""));
    let segments: Vec<Segment> = split_path(path)
        .into_iter()
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(label) if label.ends_with('+') => Segment::Greedy,
                Some(_) => Segment::Label,
                None => Segment::Literal(s.to_owned()),
            },
        )
        .collect();
    let mut query: Vec<QueryLiteral> = query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (key, value) = kv
                .split_once('=')
                .map_or((kv, None), |(k, v)| (k, Some(v.to_owned())));
            QueryLiteral {
                key: key.to_owned(),
                value,
                optional: OPTIONAL_QUERY_KEYS.contains(&key),
            }
        })
        .collect();
    let literal_query = query.iter().filter(|q| !q.optional).count();
    query.extend(spec.required_query.iter().map(|key| QueryLiteral {
        key: key.clone(),
        value: None,
        optional: false,
    }));
    let rank = Rank {
        literal_segments: segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count(),
        literal_query,
        required: spec.required_query.len() + spec.required_headers.len(),
        not_greedy: !segments.contains(&Segment::Greedy),
        segments: segments.len(),
        current: !spec.deprecated,
    };
    Route {
        operation,
        segments,
        query,
        required_headers: spec.required_headers.to_vec(),
        rank,
    }
}

/// Path segments after the leading `/`, without trailing empty ones.
fn split_path(path: &str) -> Vec<&str> {
    let mut segments: Vec<&str> = path.split('/').skip(1).take(MAX_SEGMENTS).collect();
    while segments.last().is_some_and(|s| s.is_empty()) {
        segments.pop();
    }
    segments
}

/// A path segment percent-decoded; borrowed when it has no escapes.
fn decode(segment: &str) -> Cow<'_, str> {
    percent_decode_str(segment).decode_utf8_lossy()
}

fn segment_matches(template: &Segment, segment: &str) -> bool {
    match template {
        Segment::Literal(literal) => {
            literal == segment || (segment.contains('%') && *literal == decode(segment))
        }
        Segment::Label | Segment::Greedy => !segment.is_empty(),
    }
}

/// Match with at most one greedy label: the segments before it from the front, the segments
/// after it from the back, and at least one segment in between.
fn path_matches(template: &[Segment], segments: &[&str]) -> bool {
    let Some(greedy) = template.iter().position(|s| *s == Segment::Greedy) else {
        return template.len() == segments.len()
            && template
                .iter()
                .zip(segments)
                .all(|(t, s)| segment_matches(t, s));
    };
    let (Some(before), Some(after)) = (template.get(..greedy), template.get(greedy + 1..)) else {
        return false;
    };
    if segments.len() < before.len() + after.len() + 1 || after.contains(&Segment::Greedy) {
        return false;
    }
    let Some(tail) = segments.get(segments.len() - after.len()..) else {
        return false;
    };
    before
        .iter()
        .zip(segments)
        .all(|(t, s)| segment_matches(t, s))
        && after.iter().zip(tail).all(|(t, s)| segment_matches(t, s))
}

/// The decoded query parameters, in order (borrowed where nothing was escaped). Requests carry a
/// few, so routes look them up by scanning rather than hashing.
fn parse_query(query: &str) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    url::form_urlencoded::parse(query.as_bytes())
        .take(MAX_SEGMENTS)
        .collect()
}

/// Whether every query literal of a route is satisfied; a repeated parameter counts by its
/// last value.
fn query_matches(literals: &[QueryLiteral], params: &[(Cow<'_, str>, Cow<'_, str>)]) -> bool {
    let param = |key: &str| {
        params
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_ref())
    };
    literals
        .iter()
        .all(|lit| match (param(&lit.key), &lit.value) {
            (None, _) => lit.optional,
            (Some(_), None) => true,
            (Some(got), Some(want)) => got == want,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(routes: &[(&str, &str)]) -> RouteTable {
        RouteTable::new(routes.iter().map(|(method, template)| RouteSpec {
            method,
            template,
            required_query: &[],
            required_headers: &[],
            deprecated: false,
        }))
    }

    trait Route {
        fn route3(&self, method: &str, path: &str, query: Option<&str>) -> Option<usize>;
    }

    impl Route for RouteTable {
        fn route3(&self, method: &str, path: &str, query: Option<&str>) -> Option<usize> {
            self.route(&RouteRequest {
                method,
                path,
                query,
                headers: &HeaderMap::new(),
            })
        }
    }

    fn s3_like() -> RouteTable {
        table(&[
            ("GET", "/{Bucket}"),                                // 0 ListObjects
            ("GET", "/{Bucket}?list-type=2"),                    // 1 ListObjectsV2
            ("GET", "/{Bucket}/{Key+}?x-id=GetObject"),          // 2 GetObject
            ("GET", "/{Bucket}/{Key+}?tagging"),                 // 3 GetObjectTagging
            ("GET", "/{Bucket}?tagging"),                        // 4 GetBucketTagging
            ("GET", "/"),                                        // 5 ListBuckets
            ("PUT", "/{Bucket}/{Key+}"),                         // 6 PutObject
            ("GET", "/v20180820/mrap/instances/{name+}/policy"), // 7 greedy in the middle
            ("GET", "/v20180820/{Id}/policy"),                   // 8
        ])
    }

    #[test]
    fn literal_query_keys_pick_the_operation() {
        let t = s3_like();
        assert_eq!(t.route3("GET", "/bucket", None), Some(0));
        assert_eq!(
            t.route3("GET", "/bucket", Some("list-type=2&prefix=a")),
            Some(1)
        );
        assert_eq!(t.route3("GET", "/bucket/", Some("tagging")), Some(4));
        assert_eq!(t.route3("GET", "/bucket/a/b.txt", Some("tagging")), Some(3));
        assert_eq!(t.route3("GET", "/", None), Some(5));
    }

    #[test]
    fn x_id_is_optional_but_must_agree() {
        let t = s3_like();
        assert_eq!(t.route3("GET", "/bucket/key", None), Some(2));
        assert_eq!(
            t.route3("GET", "/bucket/key", Some("x-id=GetObject")),
            Some(2)
        );
        assert_eq!(t.route3("GET", "/bucket/key", Some("x-id=Other")), None);
    }

    #[test]
    fn greedy_labels_span_segments_and_need_one() {
        let t = s3_like();
        assert_eq!(t.route3("PUT", "/b/a//c/d", None), Some(6));
        assert_eq!(t.route3("PUT", "/b", None), None);
        assert_eq!(
            t.route3("GET", "/v20180820/mrap/instances/a/b/policy", None),
            Some(7)
        );
        // Too short for route 7, so it falls to the generic object route.
        assert_eq!(
            t.route3("GET", "/v20180820/mrap/instances/policy", None),
            Some(2)
        );
    }

    #[test]
    fn more_literal_segments_win() {
        let t = table(&[
            ("GET", "/things/{Id}"),
            ("GET", "/things/latest"),
            ("GET", "/{A}/{B}"),
        ]);
        assert_eq!(t.route3("GET", "/things/latest", None), Some(1));
        assert_eq!(t.route3("GET", "/things/abc", None), Some(0));
        assert_eq!(t.route3("GET", "/other/abc", None), Some(2));
        assert_eq!(t.route3("POST", "/things/abc", None), None);
    }

    #[test]
    fn required_query_and_headers_tell_routes_apart() {
        let none: Vec<String> = Vec::new();
        let part = vec!["partNumber".to_owned(), "uploadId".to_owned()];
        let copy = vec!["x-amz-copy-source".to_owned()];
        let spec = |required_query, required_headers| RouteSpec {
            method: "PUT",
            template: "/{Bucket}/{Key+}",
            required_query,
            required_headers,
            deprecated: false,
        };
        let t = RouteTable::new([
            spec(&none, &none),
            spec(&part, &none),
            spec(&none, &copy),
            spec(&part, &copy),
        ]);
        let mut headers = HeaderMap::new();
        let put = |q, h: &HeaderMap| {
            t.route(&RouteRequest {
                method: "PUT",
                path: "/b/k",
                query: q,
                headers: h,
            })
        };
        assert_eq!(put(None, &headers), Some(0));
        assert_eq!(put(Some("partNumber=1&uploadId=x"), &headers), Some(1));
        headers.insert(
            "x-amz-copy-source",
            http::HeaderValue::from_static("src/key"),
        );
        assert_eq!(put(None, &headers), Some(2));
        assert_eq!(put(Some("partNumber=1&uploadId=x"), &headers), Some(3));
    }

    #[test]
    fn deprecated_operations_lose_ties() {
        let spec = |deprecated| RouteSpec {
            method: "GET",
            template: "/{Bucket}?lifecycle",
            required_query: &[],
            required_headers: &[],
            deprecated,
        };
        let request = RouteRequest {
            method: "GET",
            path: "/b",
            query: Some("lifecycle"),
            headers: &HeaderMap::new(),
        };
        assert_eq!(
            RouteTable::new([spec(true), spec(false)]).route(&request),
            Some(1)
        );
        assert_eq!(
            RouteTable::new([spec(false), spec(true)]).route(&request),
            Some(0)
        );
    }

    #[test]
    fn percent_encoded_literals_match() {
        let t = table(&[("POST", "/tags/{Arn}"), ("POST", "/a:b/x")]);
        assert_eq!(t.route3("POST", "/tags/arn%3Aaws%3Asqs", None), Some(0));
        assert_eq!(t.route3("POST", "/a%3Ab/x", None), Some(1));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_requests_never_panic(path in ".{0,200}", query in ".{0,100}", template in ".{0,100}") {
            let t = table(&[("GET", template.as_str()), ("GET", "/{A}/{B+}/c")]);
            let _ = t.route3("GET", &path, Some(&query));
        }
    }
}
