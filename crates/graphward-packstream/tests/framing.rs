//! Chunking and handshake negotiation.

use graphward_packstream::chunk::{parse_message, write_message, ChunkError, Parsed};
use graphward_packstream::handshake::{
    describe_proposals, manifest_choice, manifest_reply, negotiate, Negotiation, Version,
};

#[test]
fn chunks_round_trip_and_split_large_messages() {
    for len in [1usize, 100, 65_535, 65_536, 200_000] {
        let msg: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let mut wire = Vec::new();
        write_message(&mut wire, &msg);
        assert_eq!(wire.len(), len + 2 * len.div_ceil(65_535) + 2);
        match parse_message(&wire, 1 << 20).unwrap() {
            Parsed::Message { consumed, payload } => {
                assert_eq!(consumed, wire.len());
                assert_eq!(payload, msg);
            }
            other => panic!("{other:?}"),
        }
        // Every strict prefix is incomplete.
        for cut in [0, 1, 2, wire.len() / 2, wire.len() - 1] {
            assert_eq!(
                parse_message(&wire[..cut], 1 << 20).unwrap(),
                Parsed::Incomplete
            );
        }
    }
}

#[test]
fn noops_are_skipped_and_many_small_chunks_join() {
    let wire = [0, 0, 0, 0, 0, 1, 0xB0, 0, 1, 0x0F, 0, 0, 0, 0];
    match parse_message(&wire, 100).unwrap() {
        Parsed::Message { consumed, payload } => {
            assert_eq!(payload, vec![0xB0, 0x0F]);
            assert_eq!(consumed, 12);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        parse_message(&[0, 0], 100).unwrap(),
        Parsed::Noop { consumed: 2 }
    );
    assert_eq!(
        parse_message(&[0, 0, 0, 5, 1], 100).unwrap(),
        Parsed::Noop { consumed: 2 }
    );
}

#[test]
fn oversized_messages_are_refused_before_buffering() {
    let wire = [0xFF, 0xFF];
    assert_eq!(
        parse_message(&wire, 1000),
        Err(ChunkError::TooLarge { limit: 1000 })
    );
}

fn p(slots: [[u8; 4]; 4]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (i, s) in slots.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(s);
    }
    out
}

#[test]
fn legacy_negotiation() {
    let v = |a, b| Negotiation::Version(Version::new(a, b));
    // Python/JS 6.x legacy path without the manifest: 5.8..5.0 first.
    assert_eq!(
        negotiate(&p([[0, 8, 8, 5], [0, 2, 4, 4], [0, 0, 0, 3], [0; 4]])),
        v(5, 8)
    );
    // pymgclient 1.6.
    assert_eq!(
        negotiate(&p([[0, 0, 4, 4], [0, 0, 3, 4], [0, 0, 1, 4], [0, 0, 0, 1]])),
        v(4, 4)
    );
    // neo4rs 0.8 / mgclient 1.5.
    assert_eq!(
        negotiate(&p([[0, 0, 1, 4], [0, 0, 0, 4], [0; 4], [0; 4]])),
        v(4, 1)
    );
    assert_eq!(
        negotiate(&p([[0, 0, 1, 4], [0, 0, 0, 1], [0; 4], [0; 4]])),
        v(4, 1)
    );
    // 5.5 is never chosen: 5.5 alone fails, a range through 5.5 picks 5.4.
    assert_eq!(
        negotiate(&p([[0, 0, 5, 5], [0; 4], [0; 4], [0; 4]])),
        Negotiation::NoMatch
    );
    assert_eq!(
        negotiate(&p([[0, 1, 5, 5], [0; 4], [0; 4], [0; 4]])),
        v(5, 4)
    );
    // Too new, then a range reaching down into what we serve.
    assert_eq!(
        negotiate(&p([[0, 0, 0, 6], [0, 3, 9, 5], [0; 4], [0; 4]])),
        v(5, 8)
    );
    // Nothing in common.
    assert_eq!(
        negotiate(&p([[0, 0, 0, 3], [0, 0, 0, 1], [0, 0, 0, 4], [0; 4]])),
        Negotiation::NoMatch
    );
    assert_eq!(negotiate(&p([[0; 4]; 4])), Negotiation::NoMatch);
    assert_eq!(
        describe_proposals(&p([[0, 0, 1, 4], [0; 4], [0; 4], [0; 4]])),
        "00 00 01 04 | 00 00 00 00 | 00 00 00 00 | 00 00 00 00"
    );
}

#[test]
fn manifest_negotiation() {
    assert_eq!(
        negotiate(&p([
            [0, 0, 1, 0xFF],
            [0, 8, 8, 5],
            [0, 2, 4, 4],
            [0, 0, 0, 3]
        ])),
        Negotiation::Manifest
    );
    let r = manifest_reply();
    assert_eq!(
        r,
        vec![0, 0, 1, 0xFF, 3, 0, 2, 8, 5, 0, 4, 4, 5, 0, 3, 4, 4, 0]
    );
    assert_eq!(manifest_choice([0, 0, 8, 5]), Some(Version::new(5, 8)));
    assert_eq!(manifest_choice([0, 0, 1, 4]), Some(Version::new(4, 1)));
    assert_eq!(manifest_choice([0, 0, 5, 5]), None);
    assert_eq!(manifest_choice([0, 0, 0, 6]), None);
    assert_eq!(manifest_choice([0, 0, 0, 0]), None);
    assert_eq!(manifest_choice([0, 1, 8, 5]), None);
}
