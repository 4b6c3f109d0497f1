#![no_main]
//! See nexus_store::fuzz::stored_records.

libfuzzer_sys::fuzz_target!(|data: &[u8]| nexus_store::fuzz::stored_records(data));
