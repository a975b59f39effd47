//! The one map type of the client-side state (`LocalState`, `WritePlan`, `MemoryStore`): one
//! hasher, so the wasm carries one set of map code. Keys are conversation IDs from the user's own
//! server, so a fast non-keyed hash is enough; the server keeps std's maps. FNV, not FxHash: its
//! byte loop is 0.9 KB gzip smaller in the wasm than rustc-hash's string hashing, and IDs are short.

pub type HashMap<K, V> = std::collections::HashMap<K, V, fnv::FnvBuildHasher>;
