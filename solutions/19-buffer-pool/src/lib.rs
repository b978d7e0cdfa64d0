//! The receive path of a network driver, simulated, with two pools of buffers.
//!
//! A frame is a length byte, a checksum byte (the wrapping sum of the payload), then the payload. [`Rx::receive`]
//! copies a frame into a packet buffer leased from a pool, as a network driver does with socket buffers, checks
//! it, and has a device decode the payload in a buffer leased from a second pool: device memory is scarce, like a
//! GPU's, so `receive` fails with [`RxError::DeviceBusy`] while all its slots are leased. Both buffers go back.
//!
//! This is the fixed version: a lease is a guard that gives its buffer back when it is dropped, so every way
//! out of `receive`, `?` included, returns both buffers to their pools.

use std::ops::{Deref, DerefMut};

/// The size of a packet buffer.
pub const PACKET_BUFFER: usize = 2048;
/// The size of a device buffer: the largest payload the device decodes.
pub const DEVICE_BUFFER: usize = 64;

/// Why a frame was not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxError {
    /// The frame is shorter or longer than its length byte says.
    BadLength,
    /// The payload does not add up to the checksum byte.
    BadChecksum,
    /// The payload does not fit in a device buffer.
    TooLarge,
    /// Every device buffer is leased.
    DeviceBusy,
}

/// A receive path: its packet buffers and its share of the device.
pub struct Rx {
    packets: PacketPool,
    device: DevicePool,
}

impl Rx {
    /// A receive path with `device_slots` device buffers.
    pub fn new(device_slots: usize) -> Rx {
        let slots = (0..device_slots).map(|_| None).collect();
        Rx {
            packets: PacketPool::default(),
            device: DevicePool { slots },
        }
    }

    /// How many packet buffers the pool has made so far: a driver shows this in its statistics.
    pub fn packet_buffers(&self) -> usize {
        self.packets.buffers.len()
    }
}

// ANCHOR: fix
/// Packet buffers: the pool keeps each one it made (boxed, so it never moves) for its whole life. A lease is an index.
#[derive(Default)]
struct PacketPool {
    buffers: Vec<Box<[u8]>>,
    free: Vec<usize>,
}

impl PacketPool {
    /// Leases a free buffer, or a new one when every buffer is leased.
    fn lease(&mut self) -> PacketLease<'_> {
        let index = self.free.pop().unwrap_or_else(|| {
            self.buffers.push(vec![0; PACKET_BUFFER].into_boxed_slice());
            self.buffers.len() - 1
        });
        PacketLease { pool: self, index }
    }
}

/// A leased packet buffer. Dropping the lease gives the buffer back to its pool.
struct PacketLease<'a> {
    pool: &'a mut PacketPool,
    index: usize,
}

impl Deref for PacketLease<'_> {
    type Target = [u8];

    fn deref(&self) -> &Self::Target {
        &self.pool.buffers[self.index]
    }
}

impl DerefMut for PacketLease<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.pool.buffers[self.index]
    }
}

impl Drop for PacketLease<'_> {
    fn drop(&mut self) {
        self.pool.free.push(self.index);
    }
}

/// Device memory: a fixed number of slots, each holding its buffer while the slot is leased.
struct DevicePool {
    slots: Vec<Option<Box<[u8; DEVICE_BUFFER]>>>,
}

impl DevicePool {
    fn acquire(&mut self) -> Result<DeviceLease<'_>, RxError> {
        let slot = self.slots.iter().position(Option::is_none).ok_or(RxError::DeviceBusy)?;
        self.slots[slot] = Some(Box::new([0; DEVICE_BUFFER]));
        Ok(DeviceLease { pool: self, slot })
    }
}

/// A leased device buffer. Dropping the lease unmaps the buffer and frees its slot.
struct DeviceLease<'a> {
    pool: &'a mut DevicePool,
    slot: usize,
}

impl DeviceLease<'_> {
    fn buffer(&mut self) -> &mut [u8; DEVICE_BUFFER] {
        self.pool.slots[self.slot]
            .as_deref_mut()
            .expect("a leased slot holds its buffer until the lease is dropped")
    }
}

impl Drop for DeviceLease<'_> {
    fn drop(&mut self) {
        self.pool.slots[self.slot] = None;
    }
}

impl Rx {
    /// Receives one frame and returns its payload as the device decoded it (ASCII case swapped).
    ///
    /// # Errors
    /// A damaged frame, a payload too large for a device buffer, or a busy device.
    pub fn receive(&mut self, frame: &[u8]) -> Result<Vec<u8>, RxError> {
        // Both leases are dropped, and their buffers given back, however this function returns.
        let mut packet = self.packets.lease();
        let len = frame.len().min(PACKET_BUFFER);
        packet[..len].copy_from_slice(&frame[..len]); // what the card's DMA does
        let payload = check(&packet[..len])?;
        let mut device = self.device.acquire()?;
        let on_device = device.buffer().get_mut(..payload.len()).ok_or(RxError::TooLarge)?;
        on_device.copy_from_slice(payload);
        Ok(on_device.iter().map(|byte| byte ^ 0x20).collect())
    }
}
// ANCHOR_END: fix

/// The payload of a well-formed frame.
fn check(frame: &[u8]) -> Result<&[u8], RxError> {
    match frame {
        [len, sum, payload @ ..] if payload.len() == usize::from(*len) => {
            let total = payload.iter().fold(0u8, |acc, byte| acc.wrapping_add(*byte));
            (total == *sum).then_some(payload).ok_or(RxError::BadChecksum)
        }
        _ => Err(RxError::BadLength),
    }
}
