//! The service's one Redis layer: nothing else in the crate knows a key name, a script or how a
//! consumer group is read.
//!
//! - [`connect`]: the Redis URL (password never shown, from a private file), TLS and its CA.
//! - [`keys`]: every key name, under one prefix.
//! - [`queue`]: the consumer-group queue of prover and relay workers (take-over with the
//!   `XAUTOCLAIM` cursor, refresh only by the owner, acknowledge-and-delete).
//! - [`seal`]: task inputs sealed at rest (an AEAD under the service's sealing key, bound to the
//!   task) and the keyed dedupe index.
//! - [`tasks`]: proof tasks: records, events, once-only and fenced transitions, retries, dead
//!   letters, the worker registry.

pub mod connect;
pub mod keys;
pub mod queue;
pub mod seal;
pub mod tasks;

pub use connect::{RedisTls, RedisUrl};
pub use keys::Keys;
pub use queue::{Entry, Queue};
pub use tasks::{Created, NewTask, Started, Tasks};
