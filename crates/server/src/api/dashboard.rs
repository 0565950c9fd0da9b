//! The web dashboard: three static files compiled into the binary and
//! served at `/`. They are public (they are the login page); everything
//! the page shows it reads from `/v1` with the token the user gives it.
//!
//! Served with a strict Content-Security-Policy (scripts and styles from
//! this origin only, no inline script, no framing), `nosniff`, no
//! referrer, and `Cache-Control: no-cache` with an ETag: a browser
//! revalidates and gets a 304 until the binary changes.

use std::sync::OnceLock;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use super::AppState;

const INDEX: &str = include_str!("../../assets/index.html");
const APP_JS: &str = include_str!("../../assets/app.js");
const APP_CSS: &str = include_str!("../../assets/app.css");

/// What the page may load and where it may connect: itself only.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/",
            get(|h: HeaderMap| async move { serve(&h, Asset::Index) }),
        )
        .route(
            "/index.html",
            get(|h: HeaderMap| async move { serve(&h, Asset::Index) }),
        )
        .route(
            "/app.js",
            get(|h: HeaderMap| async move { serve(&h, Asset::Js) }),
        )
        .route(
            "/app.css",
            get(|h: HeaderMap| async move { serve(&h, Asset::Css) }),
        )
}

#[derive(Clone, Copy)]
enum Asset {
    Index,
    Js,
    Css,
}

impl Asset {
    fn body(self) -> &'static str {
        match self {
            Asset::Index => INDEX,
            Asset::Js => APP_JS,
            Asset::Css => APP_CSS,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Asset::Index => "text/html; charset=utf-8",
            Asset::Js => "text/javascript; charset=utf-8",
            Asset::Css => "text/css; charset=utf-8",
        }
    }

    /// A strong ETag: the first 16 bytes of the file's SHA-256, in hex.
    fn etag(self) -> &'static str {
        static TAGS: OnceLock<[String; 3]> = OnceLock::new();
        let tags = TAGS.get_or_init(|| {
            [Asset::Index, Asset::Js, Asset::Css].map(|a| {
                let h = Sha256::digest(a.body().as_bytes());
                let hex: String = h[..16].iter().map(|b| format!("{b:02x}")).collect();
                format!("\"{hex}\"")
            })
        });
        &tags[self as usize]
    }
}

fn serve(req: &HeaderMap, a: Asset) -> Response {
    let etag = a.etag();
    let fresh = req
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut r = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(a.content_type()),
            )],
            a.body(),
        )
            .into_response()
    };
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_carry_their_type_policy_and_tag() {
        let r = serve(&HeaderMap::new(), Asset::Js);
        assert_eq!(r.status(), StatusCode::OK);
        let h = r.headers();
        assert_eq!(h[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
        assert!(
            h[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("script-src 'self'")
        );
        let tag = h[header::ETAG].clone();
        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, tag);
        assert_eq!(serve(&again, Asset::Js).status(), StatusCode::NOT_MODIFIED);
        // The page loads its script and style as files, never inline.
        assert!(INDEX.contains("src=\"/app.js\""));
        assert!(!INDEX.contains("<script>"));
        assert!(!INDEX.contains("style="));
    }
}
