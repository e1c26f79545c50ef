//! `expect: 100-continue` on HTTP/2 client connections. hyper's HTTP/2 server cannot send an
//! interim response (hyper#2743: the `h2` crate under it can, hyper does not expose it), so a
//! client that waits for `100` before it sends a body (the JS SDK's `NodeHttp2Handler` for S3
//! uploads over 2 MB, curl for large bodies) would stall until its own timeout.
//!
//! [`ContinueH2`] sits between the client's TLS stream and hyper. It follows the client's frames
//! as they pass (header blocks decoded with HPACK, so the dynamic table stays in step), and for a
//! request whose headers carry the expectation and whose body is still to come it writes a
//! `HEADERS :status 100` frame to the client between two of hyper's frames: before hyper can have
//! answered that stream, since hyper has not read the request yet when the frame is queued. The
//! interim header block is a literal without indexing, which leaves the client's HPACK decoder,
//! and so hyper's encoder, as they were. Anything it cannot follow (a block that does not decode,
//! a header block larger than it keeps) turns it into a plain pass-through for the rest of the
//! connection: its clients then wait for their timeout, as without it.
//!
//! Written here because no crate does it: it stands in for the one call hyper does not expose.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What every HTTP/2 client sends first (RFC 9113 §3.4).
const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const FRAME_HEAD: usize = 9;
const HEADERS: u8 = 0x1;
const CONTINUATION: u8 = 0x9;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY: u8 = 0x20;
/// Largest header block followed (a HEADERS frame and its CONTINUATIONs); hyper's own limit on
/// the decoded list is far below what this many bytes can carry.
const MAX_BLOCK: usize = 256 * 1024;
/// The HPACK table size hyper's server advertises (the protocol default): a client that asks for
/// more is refused by hyper too.
const TABLE_SIZE: usize = 4096;

/// The client-to-server direction: where frames begin, and which requests expect a `100`.
struct Inbound {
    preface_left: usize,
    head: [u8; FRAME_HEAD],
    head_have: usize,
    /// Payload bytes of the current frame still to come (0 while reading a frame head).
    left: usize,
    in_payload: bool,
    /// The current frame, when it is a HEADERS or CONTINUATION frame: (type, flags, stream).
    collecting: Option<(u8, u8, u32)>,
    frame: Vec<u8>,
    /// The header block being put together, its stream and whether its HEADERS ended the stream.
    block: Vec<u8>,
    block_stream: u32,
    block_ends_stream: bool,
    decoder: loona_hpack::Decoder<'static>,
    /// Set once something could not be followed: nothing is looked at any more.
    off: bool,
}

impl Inbound {
    fn new() -> Self {
        let mut decoder = loona_hpack::Decoder::new();
        decoder.set_max_allowed_table_size(TABLE_SIZE);
        Inbound {
            preface_left: PREFACE.len(),
            head: [0; FRAME_HEAD],
            head_have: 0,
            left: 0,
            in_payload: false,
            collecting: None,
            frame: Vec::new(),
            block: Vec::new(),
            block_stream: 0,
            block_ends_stream: false,
            decoder,
            off: false,
        }
    }

    /// Follows `bytes`, the next bytes from the client, and pushes to `expecting` every stream
    /// whose request expects a `100`.
    fn feed(&mut self, mut bytes: &[u8], expecting: &mut Vec<u32>) {
        while !bytes.is_empty() && !self.off {
            if self.preface_left > 0 {
                let n = self.preface_left.min(bytes.len());
                let at = PREFACE.len() - self.preface_left;
                if PREFACE.get(at..at + n) != bytes.get(..n) {
                    self.off = true;
                    return;
                }
                self.preface_left -= n;
                bytes = &bytes[n..];
            } else if !self.in_payload {
                let n = (FRAME_HEAD - self.head_have).min(bytes.len());
                self.head[self.head_have..self.head_have + n].copy_from_slice(&bytes[..n]);
                self.head_have += n;
                bytes = &bytes[n..];
                if self.head_have == FRAME_HEAD {
                    self.head_have = 0;
                    self.start_frame();
                }
            } else {
                let n = self.left.min(bytes.len());
                if self.collecting.is_some() {
                    self.frame.extend_from_slice(&bytes[..n]);
                }
                self.left -= n;
                bytes = &bytes[n..];
                if self.left == 0 {
                    self.end_frame(expecting);
                }
            }
        }
    }

    fn start_frame(&mut self) {
        let [l0, l1, l2, kind, flags, s0, s1, s2, s3] = self.head;
        let len = usize::from(l0) << 16 | usize::from(l1) << 8 | usize::from(l2);
        let stream = u32::from_be_bytes([s0 & 0x7f, s1, s2, s3]);
        self.left = len;
        self.in_payload = true;
        self.frame.clear();
        self.collecting = matches!(kind, HEADERS | CONTINUATION).then_some((kind, flags, stream));
        if self.collecting.is_some() && self.block.len() + len > MAX_BLOCK {
            self.off = true;
            return;
        }
        if len == 0 {
            // An empty frame ends here: `feed` only ends frames when payload bytes arrive.
            self.end_frame(&mut Vec::new());
        }
    }

    fn end_frame(&mut self, expecting: &mut Vec<u32>) {
        self.in_payload = false;
        let Some((kind, flags, stream)) = self.collecting.take() else {
            return;
        };
        if kind == HEADERS {
            let Some(fragment) = fragment(&self.frame, flags) else {
                self.off = true;
                return;
            };
            self.block.clear();
            self.block.extend_from_slice(fragment);
            self.block_stream = stream;
            self.block_ends_stream = flags & END_STREAM != 0;
        } else if stream == self.block_stream {
            self.block.extend_from_slice(&self.frame);
        } else {
            self.off = true;
            return;
        }
        if flags & END_HEADERS == 0 {
            return;
        }
        let mut expects = false;
        let decoded = self.decoder.decode_with_cb(&self.block, |name, value| {
            expects |= name.as_ref() == b"expect" && value.eq_ignore_ascii_case(b"100-continue");
        });
        self.block.clear();
        if decoded.is_err() {
            self.off = true;
        } else if expects && !self.block_ends_stream {
            expecting.push(self.block_stream);
        }
    }
}

/// The header block fragment of a HEADERS frame's payload (padding and priority taken off).
fn fragment(payload: &[u8], flags: u8) -> Option<&[u8]> {
    let mut rest = payload;
    let mut pad = 0;
    if flags & PADDED != 0 {
        pad = usize::from(*rest.first()?);
        rest = rest.get(1..)?;
    }
    if flags & PRIORITY != 0 {
        rest = rest.get(5..)?;
    }
    rest.get(..rest.len().checked_sub(pad)?)
}

/// The server-to-client direction: where hyper's frames begin and end.
#[derive(Default)]
struct Outbound {
    head: [u8; 3],
    head_have: usize,
    left: usize,
}

impl Outbound {
    fn at_boundary(&self) -> bool {
        self.head_have == 0 && self.left == 0
    }

    /// How many bytes may be written before the next point where a frame may be put in (the
    /// rest of a frame head, whose length is not known yet, counts as its own stretch).
    fn to_boundary(&self) -> usize {
        if self.left > 0 {
            self.left
        } else {
            FRAME_HEAD - self.head_have
        }
    }

    fn advance(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.left > 0 {
                let n = self.left.min(bytes.len());
                self.left -= n;
                bytes = &bytes[n..];
                continue;
            }
            if let Some(slot) = self.head.get_mut(self.head_have) {
                *slot = bytes[0];
            }
            self.head_have += 1;
            bytes = &bytes[1..];
            if self.head_have == FRAME_HEAD {
                let [l0, l1, l2] = self.head;
                self.left = usize::from(l0) << 16 | usize::from(l1) << 8 | usize::from(l2);
                self.head_have = 0;
            }
        }
    }
}

/// `HEADERS` with `:status: 100` for `stream`: static-table name `:status` (index 8), literal
/// value, without indexing (RFC 7541 §6.2.2).
fn continue_frame(stream: u32) -> [u8; FRAME_HEAD + 5] {
    let s = stream.to_be_bytes();
    [
        0,
        0,
        5,
        HEADERS,
        END_HEADERS,
        s[0] & 0x7f,
        s[1],
        s[2],
        s[3],
        0x08,
        3,
        b'1',
        b'0',
        b'0',
    ]
}

/// A client's HTTP/2 connection that answers `expect: 100-continue` (see the module's doc).
pub(crate) struct ContinueH2<T> {
    inner: T,
    inbound: Inbound,
    outbound: Outbound,
    /// Streams owed a `100`, written at the next frame boundary.
    owed: Vec<u32>,
    /// Interim frames being written, and how much of them is out.
    pending: Vec<u8>,
    sent: usize,
}

impl<T> ContinueH2<T> {
    pub(crate) fn new(inner: T) -> Self {
        ContinueH2 {
            inner,
            inbound: Inbound::new(),
            outbound: Outbound::default(),
            owed: Vec::new(),
            pending: Vec::new(),
            sent: 0,
        }
    }
}

impl<T: AsyncWrite + Unpin> ContinueH2<T> {
    /// Writes the interim frames owed, if hyper is between two frames, before anything else.
    fn poll_interim(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.outbound.at_boundary() && !self.owed.is_empty() {
            for stream in self.owed.drain(..) {
                self.pending.extend_from_slice(&continue_frame(stream));
            }
        }
        while self.sent < self.pending.len() {
            let rest = &self.pending[self.sent..];
            match ready!(Pin::new(&mut self.inner).poll_write(cx, rest)) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(n) => self.sent += n,
                Err(error) => return Poll::Ready(Err(error)),
            }
        }
        self.pending.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }

    fn has_interim(&self) -> bool {
        !self.pending.is_empty() || (!self.owed.is_empty() && self.outbound.at_boundary())
    }

    /// Sends owed frames now, from the read side: hyper may have nothing to write until the
    /// body it waits for arrives. A write that cannot finish is retried on the next call.
    fn push_interim(&mut self, cx: &mut Context<'_>) {
        if self.has_interim() {
            if let Poll::Ready(Ok(())) = self.poll_interim(cx) {
                let _ = Pin::new(&mut self.inner).poll_flush(cx);
            }
        }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRead for ContinueH2<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.push_interim(cx);
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            if let Some(read) = buf.filled().get(before..) {
                this.inbound.feed(read, &mut this.owed);
            }
            this.push_interim(cx);
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ContinueH2<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_interim(cx))?;
        // With a frame owed, stop at the end of hyper's current frame to put it in there.
        let limit = if this.owed.is_empty() {
            buf.len()
        } else {
            this.outbound.to_boundary().min(buf.len())
        };
        let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &buf[..limit]))?;
        this.outbound.advance(&buf[..n]);
        this.push_interim(cx);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_interim(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_interim(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = payload.len().to_be_bytes();
        let mut out = vec![len[5], len[6], len[7], kind, flags];
        out.extend_from_slice(&stream.to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    fn block(headers: &[(&[u8], &[u8])], encoder: &mut loona_hpack::Encoder<'_>) -> Vec<u8> {
        encoder.encode(headers.iter().copied())
    }

    const REQUEST: &[(&[u8], &[u8])] = &[
        (b":method", b"PUT"),
        (b":scheme", b"https"),
        (b":authority", b"bucket.s3.us-east-1.amazonaws.com"),
        (b":path", b"/key"),
    ];

    fn with_expect() -> Vec<(&'static [u8], &'static [u8])> {
        let mut h = REQUEST.to_vec();
        h.push((b"expect", b"100-continue"));
        h
    }

    /// Feeds `bytes` in pieces of `step` bytes.
    fn streams_owed(bytes: &[u8], step: usize) -> (Vec<u32>, bool) {
        let mut inbound = Inbound::new();
        let mut owed = Vec::new();
        for piece in bytes.chunks(step) {
            inbound.feed(piece, &mut owed);
        }
        (owed, inbound.off)
    }

    #[test]
    fn finds_expecting_requests_however_the_bytes_are_cut() {
        let mut enc = loona_hpack::Encoder::new();
        let mut wire = PREFACE.to_vec();
        wire.extend(frame(0x4, 0, 0, &[0, 3, 0, 0, 0, 100]));
        // Stream 1 expects; stream 3 has no body; stream 5 expects, split into a CONTINUATION
        // after padding and priority; stream 7 does not expect.
        let b1 = block(&with_expect(), &mut enc);
        wire.extend(frame(HEADERS, END_HEADERS, 1, &b1));
        wire.extend(frame(0x0, 0, 1, &[7; 300]));
        let b3 = block(&with_expect(), &mut enc);
        wire.extend(frame(HEADERS, END_HEADERS | END_STREAM, 3, &b3));
        let b5 = block(&with_expect(), &mut enc);
        let (first, second) = b5.split_at(b5.len() / 2);
        let mut padded = vec![2, 0, 0, 0, 0, 16];
        padded.extend_from_slice(first);
        padded.extend_from_slice(&[0, 0]);
        wire.extend(frame(HEADERS, PADDED | PRIORITY, 5, &padded));
        wire.extend(frame(CONTINUATION, END_HEADERS, 5, second));
        let b7 = block(REQUEST, &mut enc);
        wire.extend(frame(HEADERS, END_HEADERS, 7, &b7));
        for step in [1, 2, 7, 9, 64, wire.len()] {
            assert_eq!(streams_owed(&wire, step), (vec![1, 5], false), "{step}");
        }
    }

    #[test]
    fn indexed_expectations_are_found_in_later_requests() {
        // `:method: GET`, `:path: /` (static), then `expect: 100-continue` added to the dynamic
        // table; the second request names it by index 62, the first dynamic entry.
        let mut first = vec![0x82, 0x84, 0x40, 6];
        first.extend_from_slice(b"expect");
        first.push(12);
        first.extend_from_slice(b"100-continue");
        let second = [0x82, 0x84, 0x80 | 62];
        let mut wire = PREFACE.to_vec();
        wire.extend(frame(HEADERS, END_HEADERS, 1, &first));
        wire.extend(frame(HEADERS, END_HEADERS, 3, &second));
        assert_eq!(streams_owed(&wire, 5), (vec![1, 3], false));
    }

    #[test]
    fn what_cannot_be_followed_turns_it_off() {
        let mut bad_preface = b"GET / HTTP/1.1\r\n".to_vec();
        bad_preface.extend_from_slice(&[0; 16]);
        assert_eq!(streams_owed(&bad_preface, 4), (vec![], true));
        let mut wire = PREFACE.to_vec();
        wire.extend(frame(HEADERS, END_HEADERS, 1, &[0xff, 0xff, 0xff, 0xff]));
        assert_eq!(streams_owed(&wire, 3), (vec![], true));
        let mut wire = PREFACE.to_vec();
        wire.extend(frame(HEADERS, PADDED | END_HEADERS, 1, &[9, 1]));
        assert_eq!(streams_owed(&wire, 3), (vec![], true));
        let mut huge = PREFACE.to_vec();
        huge.extend_from_slice(&[0x10, 0, 0, HEADERS, 0, 0, 0, 0, 1]);
        assert_eq!(streams_owed(&huge, 64), (vec![], true));
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_client_bytes(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
            step in 1usize..50,
        ) {
            let mut wire = PREFACE.to_vec();
            wire.extend_from_slice(&bytes);
            let _ = streams_owed(&wire, step);
        }
    }

    #[test]
    fn outbound_boundaries_follow_frame_lengths() {
        let mut out = Outbound::default();
        assert!(out.at_boundary());
        let mut wire = frame(0x4, 0, 0, &[0; 6]);
        wire.extend(frame(0x0, 0, 1, &[1; 20]));
        out.advance(&wire[..4]);
        assert!(!out.at_boundary());
        assert_eq!(out.to_boundary(), 5);
        out.advance(&wire[4..9]);
        assert_eq!(out.to_boundary(), 6);
        out.advance(&wire[9..15]);
        assert!(out.at_boundary());
        out.advance(&wire[15..30]);
        assert_eq!(out.to_boundary(), 14);
        out.advance(&wire[30..]);
        assert!(out.at_boundary());
    }

    #[test]
    fn the_interim_frame_decodes_as_status_100() {
        let frame = continue_frame(5);
        assert_eq!(&frame[..9], &[0, 0, 5, HEADERS, END_HEADERS, 0, 0, 0, 5]);
        let mut dec = loona_hpack::Decoder::new();
        let headers = dec.decode(&frame[9..]).unwrap();
        assert_eq!(headers, vec![(b":status".to_vec(), b"100".to_vec())]);
    }
}
