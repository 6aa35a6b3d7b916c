//! Serving the portal SPA (the `trunk` build in `frontend/dist`): its hashed assets cached for a
//! year, `index.html` never cached (so a deploy is picked up at once), and `index.html` for every
//! client-side route (`/integrations/keys/7` is a page of the app, not a file).

use std::path::{Path, PathBuf};

use actix_files::NamedFile;
use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::ApiError;

/// Where the built SPA lives.
#[derive(Clone, Debug)]
pub struct StaticDir(pub Option<PathBuf>);

/// Whether a file name carries trunk's content hash (`app-1a2b3c4d5e6f7a8b_bg.wasm`): such a
/// file never changes, so browsers may keep it for good.
fn is_hashed(name: &str) -> bool {
    name.split(['-', '_', '.'])
        .any(|part| part.len() >= 16 && part.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A request path as a file below the static directory, refusing anything that could climb out.
fn file_below(dir: &Path, path: &str) -> Option<PathBuf> {
    let mut out = dir.to_path_buf();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        if segment.starts_with('.') || segment.contains('\\') || segment.contains('\0') {
            return None;
        }
        out.push(segment);
    }
    out.is_file().then_some(out)
}

fn send(req: &HttpRequest, path: &Path, cache: &'static str) -> Result<HttpResponse, ApiError> {
    let file = NamedFile::open(path)
        .map_err(|e| ApiError::Internal(format!("{}: {e}", path.display())))?;
    let mut res = file
        .use_etag(true)
        .use_last_modified(true)
        .into_response(req);
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static(cache),
    );
    Ok(res)
}

/// Everything outside `/api` and `/portal/api`.
pub async fn serve(req: HttpRequest, dir: web::Data<StaticDir>) -> Result<HttpResponse, ApiError> {
    let Some(dir) = dir.0.as_deref() else {
        return Err(ApiError::NotFound(
            "page (the portal web app is not built; see the README)",
        ));
    };
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return Err(ApiError::MethodNotAllowed {
            method: req.method().to_string(),
            allow: "GET, HEAD".to_owned(),
        });
    }
    let path = req.path();
    if path != "/" && path != "/index.html" {
        if let Some(file) = file_below(dir, path) {
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let cache = if is_hashed(name) {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            return send(&req, &file, cache);
        }
        // A missing asset (a name with an extension) is a 404, not the app.
        let last = path.rsplit('/').next().unwrap_or_default();
        if last.contains('.') {
            return Err(ApiError::NotFound("file"));
        }
    }
    let index = dir.join("index.html");
    let mut res = send(&req, &index, "no-cache")?;
    // The loader script's hash as the file is now: a rebuilt SPA needs no restart.
    let hashes = inline_script_hashes(Some(dir));
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        crate::middleware::SecurityHeaders::portal_csp(&hashes),
    );
    Ok(res)
}

/// The CSP sources (`'sha256-…'`) of the inline scripts in the SPA's `index.html`: trunk writes
/// the WebAssembly loader inline, and the Content-Security-Policy allows exactly that script and
/// no other inline one.
pub fn inline_script_hashes(dir: Option<&Path>) -> Vec<String> {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let Some(html) = dir.and_then(|d| std::fs::read_to_string(d.join("index.html")).ok()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut rest = html.as_str();
    while let Some(open) = rest.find("<script") {
        let after_open = &rest[open..];
        let Some(tag_end) = after_open.find('>') else {
            break;
        };
        let body_and_more = &after_open[tag_end + 1..];
        let Some(close) = body_and_more.find("</script>") else {
            break;
        };
        let body = &body_and_more[..close];
        let tag = &after_open[..tag_end];
        if !tag.contains(" src=") && !body.trim().is_empty() {
            let digest = Sha256::digest(body.as_bytes());
            out.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        rest = &body_and_more[close..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_trunk_hashes() {
        assert!(is_hashed("partlogic-frontend-3f2a1b4c5d6e7f80_bg.wasm"));
        assert!(is_hashed("style-0123456789abcdef.css"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("favicon.ico"));
    }

    #[test]
    fn hashes_inline_scripts_only() {
        let dir = std::env::temp_dir().join(format!("pl-spa-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(
            dir.join("index.html"),
            "<script src=\"/a.js\"></script><script type=\"module\">init()</script>",
        );
        let hashes = inline_script_hashes(Some(&dir));
        assert_eq!(hashes.len(), 1);
        // echo -n 'init()' | openssl dgst -sha256 -binary | base64
        assert!(hashes[0].starts_with("'sha256-"), "{hashes:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn refuses_paths_that_climb_out() {
        let dir = std::env::temp_dir();
        assert!(file_below(&dir, "/../etc/passwd").is_none());
        assert!(file_below(&dir, "/.hidden").is_none());
    }
}
