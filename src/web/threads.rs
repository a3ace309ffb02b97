//! Which build this is, and how many threads rayon has.
//!
//! The threaded build (feature `threads`) proves on a rayon pool of Web Workers that share the
//! module's memory. JS starts the pool once with `await initThreadPool(n)` (from
//! wasm-bindgen-rayon, re-exported in [`super`]) right after instantiating the module, inside a
//! dedicated Worker of a cross-origin isolated page. Nothing that uses rayon may run before it:
//! rayon would start its one-thread fallback pool, and `initThreadPool` would then fail.

use serde::Serialize;
use wasm_bindgen::prelude::*;

/// Build flavour and pool size, as `threadingInfo()` returns them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadingInfo {
    /// Whether this is the threaded build (rayon over Web Workers, shared memory).
    pub threaded: bool,
    /// Threads that proving runs on: the rayon pool size, 1 in the single-threaded build.
    pub threads: usize,
}

#[wasm_bindgen(typescript_custom_section)]
const TS_THREADING_INFO: &str = r#"
/** Build flavour and pool size. */
export interface ThreadingInfo {
  /** Whether this is the threaded build (rayon over Web Workers, shared memory). */
  threaded: boolean;
  /** Threads that proving runs on: the rayon pool size, 1 in the single-threaded build. */
  threads: number;
}
"#;

impl ThreadingInfo {
    /// The values for this build. In the threaded build, only after `initThreadPool` resolved
    /// (see the module docs).
    pub fn current() -> Self {
        #[cfg(feature = "parallel")]
        let threads = rayon::current_num_threads();
        #[cfg(not(feature = "parallel"))]
        let threads = 1;
        ThreadingInfo {
            threaded: cfg!(feature = "threads"),
            threads,
        }
    }
}

/// `threadingInfo(): ThreadingInfo` — whether this is the threaded build, and the rayon pool
/// size. In the threaded build call it only after `await initThreadPool(n)`.
#[wasm_bindgen(js_name = threadingInfo, unchecked_return_type = "ThreadingInfo")]
pub fn threading_info() -> JsValue {
    let info = ThreadingInfo::current();
    super::js::object(&[
        ("threaded", info.threaded.into()),
        ("threads", (info.threads as u32).into()),
    ])
}
