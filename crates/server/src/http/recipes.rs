//! The integration recipes (`recipes/` in the repository), served at `/recipes/<file>` with this
//! server's public base URL filled in, so what a guide shows and what a user downloads work as
//! they are. The base URL comes from `PARTLOGIC_PUBLIC_URL` (or the bind address), never from
//! request headers: a forged `Host` must not make the server hand out a recipe that sends keys
//! elsewhere.

use actix_web::{HttpResponse, http::header, web};

use crate::error::ApiError;
use crate::http::state::AppState;

/// What recipes say where the base URL goes.
const PLACEHOLDER: &str = "{{PARTLOGIC_BASE_URL}}";

/// One recipe file.
pub struct Recipe {
    /// Its file name.
    pub file: &'static str,
    /// Its content type.
    pub content_type: &'static str,
    source: &'static str,
}

/// Every recipe, in the order the guides list them.
pub const RECIPES: &[Recipe] = &[
    Recipe {
        file: "google-sheets.gs",
        content_type: "text/plain; charset=utf-8",
        source: include_str!("../../../../recipes/google-sheets.gs"),
    },
    Recipe {
        file: "google-sheets-orders.gs",
        content_type: "text/plain; charset=utf-8",
        source: include_str!("../../../../recipes/google-sheets-orders.gs"),
    },
    Recipe {
        file: "excel-power-query-basic.pq",
        content_type: "text/plain; charset=utf-8",
        source: include_str!("../../../../recipes/excel-power-query-basic.pq"),
    },
    Recipe {
        file: "excel-power-query.pq",
        content_type: "text/plain; charset=utf-8",
        source: include_str!("../../../../recipes/excel-power-query.pq"),
    },
    Recipe {
        file: "postman_collection.json",
        content_type: "application/json",
        source: include_str!("../../../../recipes/postman_collection.json"),
    },
    Recipe {
        file: "curl.sh",
        content_type: "text/plain; charset=utf-8",
        source: include_str!("../../../../recipes/curl.sh"),
    },
    Recipe {
        file: "python.py",
        content_type: "text/plain; charset=utf-8",
        source: include_str!("../../../../recipes/python.py"),
    },
];

impl Recipe {
    /// The recipe with `base_url` filled in.
    pub fn render(&self, base_url: &str) -> String {
        self.source.replace(PLACEHOLDER, base_url)
    }
}

/// `GET /recipes/{file}`.
pub async fn serve(
    file: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let recipe = RECIPES
        .iter()
        .find(|r| r.file == file.as_str())
        .ok_or(ApiError::NotFound("recipe"))?;
    Ok(HttpResponse::Ok()
        .content_type(recipe.content_type)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{}\"", recipe.file),
        ))
        .body(recipe.render(&state.public_url)))
}

/// The base URL integrations should call: the configured public URL, or one made from the
/// address the server listens on (`0.0.0.0` and `::` become the loopback address, which only
/// suits trying things on this machine; set `PARTLOGIC_PUBLIC_URL` for anything else). A
/// configured URL must be a plain `http(s)://` URL: it is pasted into scripts and JSON, where a
/// quote or a space would break them.
pub fn public_url(configured: Option<&str>, bound: std::net::SocketAddr) -> Result<String, String> {
    if let Some(url) = configured.map(str::trim).filter(|u| !u.is_empty()) {
        let plain = (url.starts_with("http://") || url.starts_with("https://"))
            && url.len() > "https://".len()
            && !url
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || "\"'`<>\\{}|^".contains(c))
            && !url.contains(['?', '#']);
        if !plain {
            return Err(format!(
                "PARTLOGIC_PUBLIC_URL must be a plain http:// or https:// URL without spaces, quotes, query or fragment: {url:?}"
            ));
        }
        return Ok(url.trim_end_matches('/').to_owned());
    }
    let ip = match bound.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
        ip if ip.is_unspecified() => "[::1]".to_owned(),
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        ip => ip.to_string(),
    };
    Ok(format!("http://{ip}:{}", bound.port()))
}

/// The path the public URL puts in front of the server's own paths (`https://x.example/pl` →
/// `/pl`), for links that must work through a proxy that strips it.
pub fn path_prefix(public_url: &str) -> String {
    let after_scheme = public_url.split_once("://").map_or("", |(_, rest)| rest);
    after_scheme
        .find('/')
        .map(|i| after_scheme[i..].trim_end_matches('/').to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_recipe_names_the_base_url_and_renders_it() {
        for r in RECIPES {
            assert!(r.source.contains(PLACEHOLDER), "{}", r.file);
            let out = r.render("https://pl.example");
            assert!(!out.contains(PLACEHOLDER) && out.contains("https://pl.example"));
        }
    }

    #[test]
    fn public_urls() {
        let a = |s: &str| s.parse::<std::net::SocketAddr>().unwrap();
        assert_eq!(
            public_url(None, a("0.0.0.0:8080")).unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            public_url(None, a("127.0.0.1:9")).unwrap(),
            "http://127.0.0.1:9"
        );
        assert_eq!(
            public_url(Some("https://pl.example/"), a("0.0.0.0:1")).unwrap(),
            "https://pl.example"
        );
        for bad in [
            "ftp://x",
            "https://x/\"a",
            "https://x y",
            "https://x/?q=1",
            "x.example",
        ] {
            assert!(public_url(Some(bad), a("0.0.0.0:1")).is_err(), "{bad}");
        }
        assert_eq!(path_prefix("https://pl.example/stock/"), "/stock");
        assert_eq!(path_prefix("https://pl.example"), "");
    }
}
