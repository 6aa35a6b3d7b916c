//! The server's panic hook: a panic is logged with where it happened, never with its message,
//! which could quote request data. Its own test binary, since a panic hook is process-wide.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_panic_is_logged_without_its_message() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    partlogic_server::telemetry::install_panic_hook();
    let key = "pl_Zq7CkP1vN2mB8xR4tY6uW0sE3dF5gH9jK2lA7qZ1cV8bN4mT0";
    let outcome = std::thread::spawn(move || {
        panic!("could not route /api/{key}");
    })
    .join();
    assert!(outcome.is_err());
    let log = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("panic"), "{log}");
    assert!(
        log.contains("panic_hook.rs"),
        "the location is logged: {log}"
    );
    assert!(!log.contains(&key[3..]), "the message is not: {log}");
}
