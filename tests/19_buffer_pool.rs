//! Spec for exercise 19, buffer-pool: the receive path answers like a simple model, and every buffer leased
//! for a frame goes back to its pool, whatever happens to the frame.
//!
//! Compiled into both `exercises/19-buffer-pool` and `solutions/19-buffer-pool` through their `tests/spec.rs`,
//! which names the crate under test `subject`.
//!
//! A pool is meant to keep its buffers, so a region around a fresh receive path would count the pool's first
//! buffers as leaks (and one around a path that is dropped at the end would see nothing, since dropping frees
//! the pool). So each case sends its frames twice through the same long-lived path: the first pass checks the
//! answers against the model and fills the pools with what these frames need; the second pass runs inside a
//! leaklab region, and a path that gets every buffer back needs nothing new for it.

use proptest::prelude::*;
use std::fmt;
use subject::{DEVICE_BUFFER, Rx, RxError};

#[global_allocator]
static GLOBAL: leaklab::LeakLab = leaklab::LeakLab::new();

/// Device slots of the receive path in the property test: more than two passes of frames can use, so even a
/// path that loses every device lease never sees the device busy there (what that looks like is the soak
/// test's business).
const DEVICE_SLOTS: usize = 32;

/// Frames per case, at most.
const MAX_FRAMES: usize = 12;

/// One frame a sender puts on the wire.
#[derive(Clone)]
enum Frame {
    /// A well-formed frame with this payload.
    Good(Vec<u8>),
    /// The checksum byte is off by one.
    BadChecksum(Vec<u8>),
    /// The length byte says one byte more than the payload has.
    BadLength(Vec<u8>),
    /// A well-formed frame whose payload, this many bytes of `x`, does not fit in a device buffer.
    TooLarge(usize),
}

/// Short and readable: `good("Hi")`, `bad-checksum("Hi")`, `bad-length("Hi")`, `too-large(70)`.
impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = |payload: &[u8]| String::from_utf8_lossy(payload).into_owned();
        match self {
            Frame::Good(p) => write!(f, "good({:?})", text(p)),
            Frame::BadChecksum(p) => write!(f, "bad-checksum({:?})", text(p)),
            Frame::BadLength(p) => write!(f, "bad-length({:?})", text(p)),
            Frame::TooLarge(n) => write!(f, "too-large({n})"),
        }
    }
}

fn checksum(payload: &[u8]) -> u8 {
    payload.iter().fold(0u8, |acc, byte| acc.wrapping_add(*byte))
}

impl Frame {
    /// The bytes on the wire.
    fn bytes(&self) -> Vec<u8> {
        let frame = |len: usize, sum: u8, payload: &[u8]| {
            let mut bytes = vec![u8::try_from(len).expect("payloads are short"), sum];
            bytes.extend_from_slice(payload);
            bytes
        };
        match self {
            Frame::Good(p) => frame(p.len(), checksum(p), p),
            Frame::BadChecksum(p) => frame(p.len(), checksum(p).wrapping_add(1), p),
            Frame::BadLength(p) => frame(p.len() + 1, checksum(p), p),
            Frame::TooLarge(n) => {
                let payload = vec![b'x'; *n];
                frame(*n, checksum(&payload), &payload)
            }
        }
    }

    /// The model: what `receive` returns for this frame while the device has a free slot.
    fn expected(&self) -> Result<Vec<u8>, RxError> {
        match self {
            Frame::Good(p) => Ok(p.iter().map(|byte| byte ^ 0x20).collect()),
            Frame::BadChecksum(_) => Err(RxError::BadChecksum),
            Frame::BadLength(_) => Err(RxError::BadLength),
            Frame::TooLarge(_) => Err(RxError::TooLarge),
        }
    }
}

fn frame() -> impl Strategy<Value = Frame> {
    let payload = || "[a-zA-Z]{0,6}".prop_map(String::into_bytes);
    prop_oneof![
        4 => payload().prop_map(Frame::Good),
        1 => payload().prop_map(Frame::BadChecksum),
        1 => payload().prop_map(Frame::BadLength),
        1 => (DEVICE_BUFFER + 1..DEVICE_BUFFER + 20).prop_map(Frame::TooLarge),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every frame gets the model's answer, and a second pass over the same frames keeps nothing: each lease,
    /// packet buffer and device buffer alike, came back to its pool.
    #[test]
    fn frames_match_the_model_and_every_lease_comes_back(frames in prop::collection::vec(frame(), 1..MAX_FRAMES)) {
        let wire: Vec<Vec<u8>> = frames.iter().map(Frame::bytes).collect();
        let mut rx = Rx::new(DEVICE_SLOTS);
        // Behaviour first, outside any region. This pass also fills the packet pool.
        for (i, (frame, bytes)) in frames.iter().zip(&wire).enumerate() {
            let (got, want) = (rx.receive(bytes), frame.expected());
            prop_assert_eq!(&got, &want, "frame {} ({:?})", i, frame);
        }
        // The same frames again: everything allocated in this pass must be freed or given back by its end.
        leaklab::prop_assert_no_leaks!(|| {
            for bytes in &wire {
                let _ = rx.receive(bytes);
            }
        });
    }
}

/// A pool recycles: good frames, one after another, all use the same packet buffer.
#[test]
fn good_frames_one_after_another_share_one_packet_buffer() {
    let mut rx = Rx::new(DEVICE_SLOTS);
    for i in 0..20 {
        let frame = Frame::Good(format!("frame{i}").into_bytes());
        assert_eq!(rx.receive(&frame.bytes()), frame.expected(), "{frame:?}");
    }
    assert_eq!(
        rx.packet_buffers(),
        1,
        "the pool made a new buffer for a frame, though the last one was free"
    );
}

/// What the driver bug looks like on a GPU-like device: a soak of 200 frames, one in four too large for the
/// device, through a path with 8 device slots. Every lease must come back, or the slots run out and good
/// frames are refused with `DeviceBusy`.
#[test]
fn a_soak_with_oversized_frames_leaves_the_device_usable() {
    const SLOTS: usize = 8;
    let frames: Vec<Frame> = (0..200)
        .map(|i| match i % 4 {
            3 => Frame::TooLarge(DEVICE_BUFFER + 1 + i % 7),
            _ => Frame::Good(format!("frame{i}").into_bytes()),
        })
        .collect();
    let wire: Vec<Vec<u8>> = frames.iter().map(Frame::bytes).collect();
    let mut rx = Rx::new(SLOTS);
    // Warm-up, outside the region: the packet pool's first buffer.
    assert_eq!(rx.receive(&wire[0]), frames[0].expected());
    // `wrong` has room for every frame, so noting one in the region allocates nothing.
    let (mut busy, mut first_busy, mut wrong) = (0, None, Vec::with_capacity(frames.len()));
    let report = leaklab::check(|| {
        for (i, bytes) in wire.iter().enumerate() {
            match rx.receive(bytes) {
                Err(RxError::DeviceBusy) => {
                    busy += 1;
                    first_busy.get_or_insert(i);
                }
                got if got != frames[i].expected() => wrong.push(i),
                _ => {}
            }
        }
    });
    if !report.is_clean() {
        let device = match first_busy {
            Some(first) => format!(
                "{busy} of the {} frames were refused with DeviceBusy, from frame {first} on: all {SLOTS} device \
                 slots were leased to frames that had already finished",
                frames.len()
            ),
            None => "the device never ran out of slots".to_owned(),
        };
        panic!("{report}\n  the device: {device}");
    }
    assert_eq!(
        (busy, wrong),
        (0, Vec::new()),
        "DeviceBusy count, and the frames answered wrongly"
    );
}
