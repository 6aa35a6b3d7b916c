//! Fuzz target `leak_report`: see `partlogic_server::fuzzing::leak_report` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| partlogic_server::fuzzing::leak_report(data));
