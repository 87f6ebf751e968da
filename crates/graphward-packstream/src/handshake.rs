//! Bolt version negotiation: the legacy four-slot handshake and the manifest v1 handshake.

use std::fmt;

/// The Bolt preamble.
pub const MAGIC: [u8; 4] = [0x60, 0x60, 0xB0, 0x17];

/// The slot asking for a manifest v1 handshake.
pub const MANIFEST_V1: [u8; 4] = [0x00, 0x00, 0x01, 0xFF];

/// A Bolt protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u8,
    pub minor: u8,
}

impl Version {
    pub const fn new(major: u8, minor: u8) -> Self {
        Version { major, minor }
    }
    /// The 4-byte wire form `00 00 minor major`.
    pub fn to_bytes(self) -> [u8; 4] {
        [0, 0, self.minor, self.major]
    }
    pub fn at_least(self, major: u8, minor: u8) -> bool {
        self >= Version::new(major, minor)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Whether graphward speaks `v`: 4.1-4.4, 5.0-5.4 and 5.6-5.8 (never 5.5).
pub fn is_supported(v: Version) -> bool {
    matches!((v.major, v.minor), (4, 1..=4) | (5, 0..=4) | (5, 6..=8))
}

/// The ranges offered in a manifest reply: `[00, range, minor, major]`.
pub const MANIFEST_OFFER: [[u8; 4]; 3] = [[0, 2, 8, 5], [0, 4, 4, 5], [0, 3, 4, 4]];

/// Result of reading the four proposals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Negotiation {
    /// Reply with this version (legacy handshake).
    Version(Version),
    /// The client asked for the manifest handshake; reply with [`manifest_reply`].
    Manifest,
    /// Nothing matched: reply `00 00 00 00` and close.
    NoMatch,
}

/// Picks a version from the 16 proposal bytes: the first slot that matches, and within a
/// range the highest supported version.
pub fn negotiate(proposals: &[u8; 16]) -> Negotiation {
    for slot in proposals.chunks_exact(4) {
        let &[_, range, minor, major] = slot else {
            continue;
        };
        if [0, range, minor, major] == MANIFEST_V1 {
            return Negotiation::Manifest;
        }
        if major == 0 {
            continue;
        }
        let low = minor.saturating_sub(range);
        for m in (low..=minor).rev() {
            let v = Version::new(major, m);
            if is_supported(v) {
                return Negotiation::Version(v);
            }
        }
    }
    Negotiation::NoMatch
}

/// Appends an unsigned LEB128 varint.
pub fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7F) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// The complete manifest reply (one buffer, written in one go).
pub fn manifest_reply() -> Vec<u8> {
    let mut out = MANIFEST_V1.to_vec();
    write_varint(&mut out, MANIFEST_OFFER.len() as u64);
    for o in MANIFEST_OFFER {
        out.extend_from_slice(&o);
    }
    write_varint(&mut out, 0);
    out
}

/// Checks the client's manifest choice `00 00 minor major`.
pub fn manifest_choice(choice: [u8; 4]) -> Option<Version> {
    let [0, 0, minor, major] = choice else {
        return None;
    };
    let v = Version::new(major, minor);
    is_supported(v).then_some(v)
}

/// Human-readable rendering of the proposals, for logs.
pub fn describe_proposals(proposals: &[u8; 16]) -> String {
    proposals
        .chunks_exact(4)
        .map(|s| {
            s.iter()
                .map(|b| format!("{b:02X}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join(" | ")
}
