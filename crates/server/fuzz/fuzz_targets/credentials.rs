//! Fuzz target `credentials`: see `partlogic_server::fuzzing::credentials` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| partlogic_server::fuzzing::credentials(data));
