//! The Store conformance suite against the in-memory store, one test per case.

use chat_core::memory_store::MemoryOpener;

chat_core::store_conformance_tests!(
    #[test]
    block_on = futures::executor::block_on,
    opener = MemoryOpener::default(),
    prefix = String::from("mem")
);
