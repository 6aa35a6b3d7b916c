//! Serving the portal SPA (the `trunk` build of `frontend/`): its hashed assets cached for a
//! year, `index.html` never cached (so a deploy is picked up at once), and `index.html` for every
//! client-side route (`/integrations/keys/7` is a page of the app, not a file).
//!
//! The SPA comes compiled into the binary (see `build.rs`), gzipped ahead of time, or from a
//! directory named with `--static-dir`, which wins when given.

use std::path::{Path, PathBuf};

use actix_files::NamedFile;
use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::ApiError;

/// A file of the SPA compiled into the binary.
#[derive(Debug)]
pub struct EmbeddedFile {
    /// Its path below the SPA's root (`index.html`, `app-…_bg.wasm`).
    pub path: &'static str,
    /// Its bytes.
    pub body: &'static [u8],
    /// The same bytes gzipped, for files worth compressing.
    pub gzip: Option<&'static [u8]>,
    /// Its entity tag, quoted.
    pub etag: &'static str,
}

/// The SPA this binary was built with, by path (empty if it was built before the SPA was).
pub static EMBEDDED: &[EmbeddedFile] = include!(concat!(env!("OUT_DIR"), "/spa_files.rs"));

/// Where the portal's files come from.
#[derive(Clone, Debug)]
pub enum Portal {
    /// A directory (`--static-dir`).
    Dir(PathBuf),
    /// Files compiled in, sorted by path.
    Embedded(&'static [EmbeddedFile]),
    /// No portal: every page is a 404 that says why.
    Missing,
}

impl Portal {
    /// The directory if one is given, else the embedded files if there are any.
    pub fn choose(dir: Option<PathBuf>, embedded: &'static [EmbeddedFile]) -> Self {
        match dir {
            Some(dir) => Self::Dir(dir),
            None if embedded.iter().any(|f| f.path == "index.html") => Self::Embedded(embedded),
            None => Self::Missing,
        }
    }
}

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
pub async fn serve(req: HttpRequest, portal: web::Data<Portal>) -> Result<HttpResponse, ApiError> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return Err(ApiError::MethodNotAllowed {
            method: req.method().to_string(),
            allow: "GET, HEAD".to_owned(),
        });
    }
    match portal.get_ref() {
        Portal::Dir(dir) => serve_dir(&req, dir),
        Portal::Embedded(files) => serve_embedded(&req, files),
        Portal::Missing => Err(ApiError::NotFound(
            "page (the portal web app is not built; see docs/operations.md, One binary)",
        )),
    }
}

/// Whether a path that names no file is a page of the app (`index.html`) rather than a missing
/// asset (a last segment with an extension): a 404, not the app.
fn is_app_route(path: &str) -> bool {
    !path.rsplit('/').next().unwrap_or_default().contains('.')
}

fn cache_for(name: &str) -> &'static str {
    if is_hashed(name) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

fn serve_dir(req: &HttpRequest, dir: &Path) -> Result<HttpResponse, ApiError> {
    let path = req.path();
    if path != "/" && path != "/index.html" {
        if let Some(file) = file_below(dir, path) {
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            return send(req, &file, cache_for(name));
        }
        if !is_app_route(path) {
            return Err(ApiError::NotFound("file"));
        }
    }
    let index = dir.join("index.html");
    let mut res = send(req, &index, "no-cache")?;
    // The loader script's hash as the file is now: a rebuilt SPA needs no restart.
    let html = std::fs::read_to_string(&index).unwrap_or_default();
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        crate::http::middleware::SecurityHeaders::portal_csp(&inline_script_hashes(&html)),
    );
    Ok(res)
}

fn serve_embedded(req: &HttpRequest, files: &[EmbeddedFile]) -> Result<HttpResponse, ApiError> {
    let find = |path: &str| {
        files
            .binary_search_by(|f| f.path.cmp(path))
            .ok()
            .and_then(|i| files.get(i))
    };
    let path = req.path().trim_start_matches('/');
    let file = match find(path) {
        Some(file) if path != "index.html" => file,
        _ if !path.is_empty() && path != "index.html" && !is_app_route(path) => {
            return Err(ApiError::NotFound("file"));
        }
        _ => find("index.html").ok_or(ApiError::NotFound("page"))?,
    };
    let name = file.path.rsplit('/').next().unwrap_or_default();
    let is_index = file.path == "index.html";
    let mut res = HttpResponse::Ok();
    res.insert_header((header::ETAG, file.etag)).insert_header((
        header::CACHE_CONTROL,
        if is_index {
            "no-cache"
        } else {
            cache_for(name)
        },
    ));
    if file.gzip.is_some() {
        res.insert_header((header::VARY, "Accept-Encoding"));
    }
    if is_index {
        let html = String::from_utf8_lossy(file.body);
        res.insert_header((
            header::CONTENT_SECURITY_POLICY,
            crate::http::middleware::SecurityHeaders::portal_csp(&inline_script_hashes(&html)),
        ));
    }
    if none_match(req, file.etag) {
        return Ok(res
            .status(actix_web::http::StatusCode::NOT_MODIFIED)
            .finish());
    }
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
    let mime = actix_files::file_extension_to_mime(ext);
    if mime.type_() == "text" || mime.subtype() == "javascript" {
        res.insert_header((header::CONTENT_TYPE, format!("{mime}; charset=utf-8")));
    } else {
        res.insert_header((header::CONTENT_TYPE, mime.to_string()));
    }
    match file.gzip {
        Some(gz) if accepts_gzip(req) => Ok(res
            .insert_header((header::CONTENT_ENCODING, "gzip"))
            .body(gz)),
        _ => Ok(res.body(file.body)),
    }
}

/// Whether `If-None-Match` names `etag` (weakly compared, as for GET) or is `*`.
fn none_match(req: &HttpRequest, etag: &str) -> bool {
    let Some(v) = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    v.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// Whether the client takes gzip (`Accept-Encoding` lists it, or `*`, without `q=0`).
fn accepts_gzip(req: &HttpRequest) -> bool {
    let Some(v) = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    v.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or_default();
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
    })
}

/// The CSP sources (`'sha256-…'`) of the inline scripts in the SPA's `index.html`: trunk writes
/// the WebAssembly loader inline, and the Content-Security-Policy allows exactly that script and
/// no other inline one.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let mut out = Vec::new();
    let mut rest = html;
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
        let hashes = inline_script_hashes(
            "<script src=\"/a.js\"></script><script type=\"module\">init()</script>",
        );
        // echo -n 'init()' | openssl dgst -sha256 -binary | base64
        assert_eq!(
            hashes,
            vec!["'sha256-w4ujnOpjBoH2vcasx+reJRUwYivG8Q3afx/XevGJod8='".to_owned()]
        );
    }

    #[test]
    fn gzip_only_when_accepted() {
        use actix_web::test::TestRequest;
        let with = |v: &str| {
            accepts_gzip(
                &TestRequest::default()
                    .insert_header((header::ACCEPT_ENCODING, v))
                    .to_http_request(),
            )
        };
        assert!(with("gzip, deflate, br, zstd"));
        assert!(with("br;q=1.0, GZIP;q=0.5"));
        assert!(with("*"));
        assert!(!with("gzip;q=0"));
        assert!(!with("br, zstd"));
        assert!(!with("identity"));
        assert!(!accepts_gzip(&TestRequest::default().to_http_request()));
    }

    #[test]
    fn if_none_match_compares_weakly() {
        use actix_web::test::TestRequest;
        let with = |v: &str| {
            none_match(
                &TestRequest::default()
                    .insert_header((header::IF_NONE_MATCH, v))
                    .to_http_request(),
                "\"abc\"",
            )
        };
        assert!(with("\"abc\""));
        assert!(with("W/\"abc\""));
        assert!(with("\"x\", \"abc\""));
        assert!(with("*"));
        assert!(!with("\"abd\""));
    }

    #[test]
    fn refuses_paths_that_climb_out() {
        let dir = std::env::temp_dir();
        assert!(file_below(&dir, "/../etc/passwd").is_none());
        assert!(file_below(&dir, "/.hidden").is_none());
    }
}
