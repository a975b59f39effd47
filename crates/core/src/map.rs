//! The one map type of the client-side state (`LocalState`, `WritePlan`, `MemoryStore`): one
//! hasher, so the wasm carries one set of map code. Keys are conversation IDs from the user's own
//! server, so a fast non-keyed hash (FxHash) is enough; the server keeps std's maps.

pub type HashMap<K, V> = std::collections::HashMap<K, V, rustc_hash::FxBuildHasher>;
