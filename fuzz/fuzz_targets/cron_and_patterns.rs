#![no_main]
//! See nexus_store::fuzz::cron_and_patterns.

libfuzzer_sys::fuzz_target!(|data: &[u8]| nexus_store::fuzz::cron_and_patterns(data));
