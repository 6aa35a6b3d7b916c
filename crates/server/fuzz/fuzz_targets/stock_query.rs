//! Fuzz target `stock_query`: see `partlogic_server::fuzzing::stock_query` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| partlogic_server::fuzzing::stock_query(data));
