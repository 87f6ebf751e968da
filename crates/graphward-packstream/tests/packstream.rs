//! PackStream round trips, wire forms and malformed input.

use std::collections::BTreeMap;

use graphward_core::temporal::{Date, DateTime, Duration, LocalDateTime, LocalTime, Time, Zone};
use graphward_core::{Node, Path, Point, Relationship, Value};
use graphward_packstream::{decode, encode, Flavor};

fn node(id: i64, label: &str) -> Node {
    let mut properties = BTreeMap::new();
    properties.insert("name".to_string(), Value::from(format!("n{id}")));
    Node {
        id,
        element_id: id.to_string(),
        labels: vec![label.to_string()],
        properties,
    }
}

fn rel(id: i64, start: i64, end: i64) -> Relationship {
    Relationship {
        id,
        element_id: id.to_string(),
        start,
        end,
        start_element_id: start.to_string(),
        end_element_id: end.to_string(),
        rel_type: "KNOWS".into(),
        properties: BTreeMap::new(),
    }
}

fn samples() -> Vec<Value> {
    let mut m = BTreeMap::new();
    m.insert("a".to_string(), Value::Int(1));
    m.insert(
        "b".to_string(),
        Value::List(vec![Value::Null, Value::Bool(true)]),
    );
    let mut v = vec![
        Value::Null,
        Value::Bool(true),
        Value::Bool(false),
        Value::Float(1.5),
        Value::Float(f64::INFINITY),
        Value::String(String::new()),
        Value::String("hé".into()),
        Value::String("x".repeat(15)),
        Value::String("x".repeat(16)),
        Value::String("x".repeat(256)),
        Value::String("x".repeat(70_000)),
        Value::Bytes(vec![]),
        Value::Bytes(vec![1, 2, 3]),
        Value::Bytes(vec![7; 300]),
        Value::Bytes(vec![7; 70_000]),
        Value::List(vec![]),
        Value::List((0..16).map(Value::Int).collect()),
        Value::List((0..300).map(Value::Int).collect()),
        Value::List((0..70_000).map(Value::Int).collect()),
        Value::Map(m),
        Value::Map((0..20).map(|i| (format!("k{i}"), Value::Int(i))).collect()),
        Value::Date(Date { days: -719_162 }),
        Value::Time(Time {
            nanos: 3_600_000_000_123,
            offset_seconds: -3600,
        }),
        Value::LocalTime(LocalTime {
            nanos: 86_399_999_999_999,
        }),
        Value::DateTime(DateTime {
            seconds: 1_700_000_000,
            nanos: 5,
            zone: Zone::Offset(7200),
        }),
        Value::DateTime(DateTime {
            seconds: 1_700_000_000,
            nanos: 999_999_999,
            zone: Zone::Named("Europe/Stockholm".into()),
        }),
        Value::DateTime(DateTime {
            seconds: 1_690_000_000,
            nanos: 0,
            zone: Zone::Named("America/New_York".into()),
        }),
        Value::LocalDateTime(LocalDateTime {
            seconds: -5,
            nanos: 1,
        }),
        Value::Duration(Duration {
            months: 14,
            days: -3,
            seconds: 86_401,
            nanos: -5,
        }),
        Value::Point(Point {
            srid: 7203,
            x: 1.0,
            y: -2.5,
            z: None,
        }),
        Value::Point(Point {
            srid: 4979,
            x: 1.0,
            y: 2.0,
            z: Some(3.0),
        }),
        Value::Node(Box::new(node(1, "Person"))),
        Value::Relationship(Box::new(rel(10, 1, 2))),
        Value::Path(Path {
            nodes: vec![node(1, "A"), node(2, "B"), node(3, "C"), node(2, "B")],
            relationships: vec![rel(10, 1, 2), rel(11, 3, 2), rel(11, 3, 2)],
        }),
        Value::Path(Path {
            nodes: vec![node(5, "Solo")],
            relationships: vec![],
        }),
    ];
    for i in [
        0i64,
        1,
        -1,
        -16,
        -17,
        127,
        128,
        -128,
        -129,
        32_767,
        32_768,
        -32_768,
        -32_769,
        2_147_483_647,
        2_147_483_648,
        -2_147_483_648,
        -2_147_483_649,
        i64::MAX,
        i64::MIN,
    ] {
        v.push(Value::Int(i));
    }
    v
}

#[test]
fn round_trip_every_type_in_every_flavor() {
    for flavor in [
        Flavor::V4,
        Flavor::V5,
        Flavor {
            element_ids: false,
            utc: true,
        },
    ] {
        for v in samples() {
            let bytes = encode(&v, flavor).unwrap();
            let back = decode(&bytes, flavor).unwrap_or_else(|e| panic!("{v:?}: {e}"));
            assert_eq!(back, v, "flavor {flavor:?}");
        }
    }
}

#[test]
fn integer_markers_are_minimal() {
    let f = Flavor::V5;
    assert_eq!(encode(&Value::Int(1), f).unwrap(), vec![0x01]);
    assert_eq!(encode(&Value::Int(-16), f).unwrap(), vec![0xF0]);
    assert_eq!(encode(&Value::Int(-17), f).unwrap(), vec![0xC8, 0xEF]);
    assert_eq!(encode(&Value::Int(128), f).unwrap(), vec![0xC9, 0x00, 0x80]);
    assert_eq!(
        encode(&Value::Int(1 << 16), f).unwrap(),
        vec![0xCA, 0, 1, 0, 0]
    );
    assert_eq!(encode(&Value::Int(1 << 40), f).unwrap()[0], 0xCB);
    assert_eq!(
        encode(&Value::String("a".into()), f).unwrap(),
        vec![0x81, b'a']
    );
    assert_eq!(encode(&Value::Null, f).unwrap(), vec![0xC0]);
    assert_eq!(
        encode(&Value::Float(1.0), f).unwrap(),
        vec![0xC1, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0]
    );
}

#[test]
fn node_shape_follows_version() {
    let n = Value::Node(Box::new(node(1, "A")));
    let v4 = encode(&n, Flavor::V4).unwrap();
    assert_eq!(&v4[..2], &[0xB3, 0x4E]);
    let v5 = encode(&n, Flavor::V5).unwrap();
    assert_eq!(&v5[..2], &[0xB4, 0x4E]);
    let r = Value::Relationship(Box::new(rel(1, 2, 3)));
    assert_eq!(&encode(&r, Flavor::V4).unwrap()[..2], &[0xB5, 0x52]);
    assert_eq!(&encode(&r, Flavor::V5).unwrap()[..2], &[0xB8, 0x52]);
}

#[test]
fn datetime_tags_follow_version() {
    let dt = Value::DateTime(DateTime {
        seconds: 3600,
        nanos: 0,
        zone: Zone::Offset(3600),
    });
    let legacy = encode(&dt, Flavor::V4).unwrap();
    // 'F': local seconds (3600 + 3600), nanos, offset.
    assert_eq!(
        legacy,
        vec![0xB3, 0x46, 0xC9, 0x1C, 0x20, 0x00, 0xC9, 0x0E, 0x10]
    );
    let utc = encode(&dt, Flavor::V5).unwrap();
    assert_eq!(
        utc,
        vec![0xB3, 0x49, 0xC9, 0x0E, 0x10, 0x00, 0xC9, 0x0E, 0x10]
    );
    // A 4.x decoder refuses the 5.x form and vice versa.
    assert!(decode(&utc, Flavor::V4).is_err());
    assert!(decode(&legacy, Flavor::V5).is_err());
    let named = Value::DateTime(DateTime {
        seconds: 0,
        nanos: 0,
        zone: Zone::Named("Europe/Stockholm".into()),
    });
    let legacy = encode(&named, Flavor::V4).unwrap();
    assert_eq!(&legacy[..4], &[0xB3, 0x66, 0xC9, 0x0E]); // local = 3600 (CET)
}

#[test]
fn path_decodes_with_direction() {
    // Path a-[r1]->b<-[r2]-c encoded by hand in the 4.x shape.
    let p = Path {
        nodes: vec![node(1, "A"), node(2, "B"), node(3, "C")],
        relationships: vec![rel(10, 1, 2), rel(11, 3, 2)],
    };
    let bytes = encode(&Value::Path(p.clone()), Flavor::V4).unwrap();
    let tail = &bytes[bytes.len() - 5..];
    assert_eq!(tail, &[0x94, 0x01, 0x01, 0xFE, 0x02]);
    assert_eq!(decode(&bytes, Flavor::V4).unwrap(), Value::Path(p));
}

#[test]
fn malformed_inputs_are_errors() {
    let f = Flavor::V5;
    let cases: Vec<Vec<u8>> = vec![
        vec![],
        vec![0xC1, 0, 0],                   // truncated float
        vec![0xD0, 5, b'a'],                // truncated string
        vec![0x82, 0xFF, 0xFE],             // invalid UTF-8
        vec![0xD6, 0xFF, 0xFF, 0xFF, 0xFF], // list too big
        vec![0xD6, 0x7F, 0xFF, 0xFF, 0xFF], // huge list, no data
        vec![0xA1, 0x01, 0x01],             // non-string key
        vec![0xC4],                         // reserved marker
        vec![0xE0],                         // reserved marker (PackStream v2 UUID)
        vec![0xDC, 0x01, 0x44, 0x01],       // struct 8 marker never accepted
        vec![0xB1, 0x44],                   // missing field
        vec![0xB2, 0x44, 0x01, 0x01],       // too many fields
        vec![0xB1, 0x41, 0x01],             // unknown tag
        vec![0xB1, 0x72],                   // bare unbound relationship
        vec![0xB3, 0x49, 0x01, 0xCA, 0x7F, 0xFF, 0xFF, 0xFF, 0x00], // nanos out of range
        vec![0x01, 0x02],                   // trailing bytes
        vec![0xB3, 0x69, 0x00, 0x00, 0x83, b'X', b'/', b'Y'], // unknown zone
        // path with an out-of-range relationship index
        vec![
            0xB3, 0x50, 0x91, 0xB4, 0x4E, 0x01, 0x90, 0xA0, 0x81, b'1', 0x90, 0x92, 0x05, 0x00,
        ],
    ];
    for c in cases {
        assert!(decode(&c, f).is_err(), "{c:02X?} should fail");
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowing() {
    let mut bytes = vec![0x91; 100_000];
    bytes.push(0xC0);
    assert!(decode(&bytes, Flavor::V5).is_err());
    let mut v = Value::Null;
    for _ in 0..1000 {
        v = Value::List(vec![v]);
    }
    assert!(encode(&v, Flavor::V5).is_err());
}

#[test]
fn random_bytes_never_panic() {
    // A small deterministic fuzz loop (xorshift); the cargo-fuzz targets in fuzz/ go further.
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let seeds: Vec<Vec<u8>> = samples()
        .iter()
        .filter_map(|v| encode(v, Flavor::V5).ok())
        .filter(|b| b.len() < 2000)
        .collect();
    for i in 0..20_000 {
        let mut b = seeds[i % seeds.len()].clone();
        let flips = 1 + (next() % 4) as usize;
        for _ in 0..flips {
            if b.is_empty() {
                break;
            }
            let pos = (next() as usize) % b.len();
            b[pos] = next() as u8;
        }
        if next() % 3 == 0 {
            let cut = (next() as usize) % (b.len() + 1);
            b.truncate(cut);
        }
        let _ = decode(&b, Flavor::V5);
        let _ = decode(&b, Flavor::V4);
    }
}

/// Random value trees round-trip in every flavor (a hand-rolled property test).
#[test]
fn random_values_round_trip() {
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }
    fn gen(r: &mut Rng, depth: u32) -> Value {
        let pick = if depth > 3 { r.below(12) } else { r.below(16) };
        match pick {
            0 => Value::Null,
            1 => Value::Bool(r.below(2) == 1),
            2 => Value::Int(r.next() as i64 >> r.below(64)),
            3 => Value::Float(f64::from_bits(r.next() & 0x3FFF_FFFF_FFFF_FFFF)),
            4 => Value::String(
                (0..r.below(40))
                    .map(|i| char::from(b'a' + (i % 26) as u8))
                    .collect(),
            ),
            5 => Value::Bytes((0..r.below(300)).map(|i| i as u8).collect()),
            6 => Value::Date(Date {
                days: r.next() as i32 as i64,
            }),
            7 => Value::Time(Time {
                nanos: r.below(86_400_000_000_000) as i64,
                offset_seconds: r.below(64_800) as i32 - 32_400,
            }),
            8 => Value::DateTime(DateTime {
                seconds: r.next() as i32 as i64,
                nanos: r.below(1_000_000_000) as u32,
                zone: Zone::Offset(r.below(64_800) as i32 - 32_400),
            }),
            9 => Value::Duration(Duration {
                months: r.next() as i32 as i64,
                days: r.next() as i32 as i64,
                seconds: r.next() as i32 as i64,
                nanos: r.below(1_000_000_000) as i32,
            }),
            10 => Value::Point(Point {
                srid: 4326,
                x: 1.5,
                y: r.below(90) as f64,
                z: None,
            }),
            11 => Value::LocalDateTime(LocalDateTime {
                seconds: r.next() as i32 as i64,
                nanos: r.below(1_000_000_000) as u32,
            }),
            12 | 13 => Value::List((0..r.below(20)).map(|_| gen(r, depth + 1)).collect()),
            14 => Value::Map(
                (0..r.below(20))
                    .map(|i| (format!("k{i}"), gen(r, depth + 1)))
                    .collect(),
            ),
            _ => {
                let n = node(r.below(1000) as i64, "L");
                Value::Node(Box::new(n))
            }
        }
    }
    let mut r = Rng(0xDEAD_BEEF_1234_5678);
    for _ in 0..3000 {
        let v = gen(&mut r, 0);
        for flavor in [
            Flavor::V4,
            Flavor::V5,
            Flavor {
                element_ids: false,
                utc: true,
            },
        ] {
            let bytes = encode(&v, flavor).unwrap();
            assert_eq!(decode(&bytes, flavor).unwrap(), v);
        }
    }
}
