//! Fuzz target `key_format`: see `partlogic_server::fuzzing::key_format` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| partlogic_server::fuzzing::key_format(data));
