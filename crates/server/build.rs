//! Embeds the built portal SPA into the binary, so that `partlogic serve` serves the portal
//! with no files beside it (`--static-dir` still serves a directory instead).
//!
//! The SPA is whatever `scripts/build-frontend` left in `frontend/dist` (or the directory named
//! by `PARTLOGIC_SPA_DIST`) when the server is compiled: each file with its gzip twin (`X.gz`,
//! written by that script) and an ETag. A build without a built SPA embeds nothing and works
//! the same otherwise (tests and `cargo check` need no frontend toolchain); the server then says
//! so at start-up.

use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-env-changed=PARTLOGIC_SPA_DIST");
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let dist = env::var_os("PARTLOGIC_SPA_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../../frontend/dist"));
    let mut files = Vec::new();
    if dist.join("index.html").is_file() {
        println!("cargo:rerun-if-changed={}", dist.display());
        collect(&dist, &dist, &mut files)?;
    } else if let Some(parent) = dist.parent().filter(|p| p.is_dir()) {
        // Watch where the SPA would appear: a path that does not exist would rerun this
        // script (and rebuild the server) on every build.
        println!("cargo:rerun-if-changed={}", parent.display());
    }
    files.sort();
    let mut code = String::from("&[\n");
    for (path, file) in &files {
        let body = fs::read(file)?;
        let gz = PathBuf::from(format!("{}.gz", file.display()));
        let gzip = if gz.is_file() {
            format!(
                "Some(include_bytes!({:?}))",
                gz.canonicalize()?.display().to_string()
            )
        } else {
            "None".to_owned()
        };
        writeln!(
            code,
            "    EmbeddedFile {{ path: {path:?}, body: include_bytes!({:?}), gzip: {gzip}, etag: \"\\\"{:016x}\\\"\" }},",
            file.canonicalize()?.display().to_string(),
            fnv1a(&body),
        )?;
    }
    code.push(']');
    fs::write(
        PathBuf::from(env::var("OUT_DIR")?).join("spa_files.rs"),
        code,
    )?;
    Ok(())
}

/// Every file below `dir` but the gzip twins, by path relative to `root` (with `/`).
fn collect(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), Box<dyn Error>> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, out)?;
        } else if path.extension().is_none_or(|e| e != "gz") {
            let rel = path.strip_prefix(root)?;
            let parts: Vec<String> = rel
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            out.push((parts.join("/"), path));
        }
    }
    Ok(())
}

/// A 64-bit FNV-1a digest: enough to tell versions of a file apart for an ETag.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
