//! How `abilene serve` talks to the network: TCP, optionally TLS
//! (rustls), HTTP/1.1 (hyper), and the limits that keep a slow or greedy
//! client from holding the server: a header read timeout, a bound on open
//! connections, and a graceful shutdown that lets requests in flight
//! finish.
//!
//! - Plain HTTP is served only on a loopback address unless the operator
//!   says `insecure`: elsewhere tokens and job data would cross the
//!   network in clear.
//! - A connection must deliver a request's head (request line and
//!   headers) within `header_timeout` of starting to read it; the same
//!   clock bounds an idle keep-alive connection between requests and, with
//!   TLS, the handshake. A client that is too slow is disconnected.
//! - At most `max_connections` are open at once. A connection beyond that
//!   is closed as soon as it is accepted (the client sees the connection
//!   reset or closed, no HTTP answer): under a flood the server sheds load
//!   at the cheapest point instead of queueing it.
//! - On shutdown the listener closes, idle connections close, and each
//!   busy one finishes the request it is serving, then closes; `serve`
//!   returns once every connection has ended and every clone of the router
//!   is dropped.
//!
//! Handlers see the peer's address as `axum::extract::ConnectInfo<SocketAddr>`.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tower::Service;

/// How long a client may take to send a request's head: the default, and
/// the range accepted.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
pub const HEADER_TIMEOUT_RANGE: std::ops::RangeInclusive<Duration> =
    Duration::from_secs(1)..=Duration::from_secs(300);
/// Connections open at once: the default, and the range accepted.
pub const MAX_CONNECTIONS: usize = 4_096;
pub const MAX_CONNECTIONS_RANGE: std::ops::RangeInclusive<usize> = 1..=1_000_000;

#[derive(Debug, Clone)]
pub struct TransportOptions {
    /// A PEM certificate chain and its PEM private key: serve HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Serve plain HTTP on an address other than loopback.
    pub insecure: bool,
    pub header_timeout: Duration,
    pub max_connections: usize,
}

impl Default for TransportOptions {
    fn default() -> Self {
        TransportOptions {
            tls: None,
            insecure: false,
            header_timeout: HEADER_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("{0}")]
    Invalid(String),
    #[error(
        "--listen {0}: plain HTTP on an address other than loopback would carry tokens and \
         job data in clear; give --tls-cert and --tls-key to serve HTTPS, or --insecure to \
         serve plain HTTP anyway (e.g. behind a TLS proxy)"
    )]
    PlainOffLoopback(SocketAddr),
    #[error("{role} {}: {why}", path.display())]
    File {
        /// `--tls-cert` or `--tls-key`
        role: &'static str,
        path: PathBuf,
        why: String,
    },
    #[error("--tls-cert {} and --tls-key {}: {why}", cert.display(), key.display())]
    Pair {
        cert: PathBuf,
        key: PathBuf,
        why: String,
    },
}

/// Loopback: 127.0.0.0/8, ::1, and 127.0.0.0/8 mapped into IPv6.
pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

impl TransportOptions {
    /// Checks the settings against `listen` and loads the certificate and
    /// key: what `serve` needs, before anything is bound or opened.
    pub fn prepare(&self, listen: SocketAddr) -> Result<Option<TlsAcceptor>, TransportError> {
        if !HEADER_TIMEOUT_RANGE.contains(&self.header_timeout) {
            return Err(TransportError::Invalid(format!(
                "header-timeout {:?}: must be {} s to {} s",
                self.header_timeout,
                HEADER_TIMEOUT_RANGE.start().as_secs(),
                HEADER_TIMEOUT_RANGE.end().as_secs()
            )));
        }
        if !MAX_CONNECTIONS_RANGE.contains(&self.max_connections) {
            return Err(TransportError::Invalid(format!(
                "max-connections {}: must be {} to {}",
                self.max_connections,
                MAX_CONNECTIONS_RANGE.start(),
                MAX_CONNECTIONS_RANGE.end()
            )));
        }
        match &self.tls {
            Some((cert, key)) => Ok(Some(tls_acceptor(cert, key)?)),
            None if self.insecure || is_loopback(listen.ip()) => Ok(None),
            None => Err(TransportError::PlainOffLoopback(listen)),
        }
    }
}

fn read_file(role: &'static str, path: &Path) -> Result<Vec<u8>, TransportError> {
    std::fs::read(path).map_err(|e| TransportError::File {
        role,
        path: path.to_owned(),
        why: format!("cannot read it: {e}"),
    })
}

/// A TLS acceptor over the PEM certificate chain in `cert` and the PEM
/// private key (PKCS#8, PKCS#1 or SEC1) in `key`, with rustls's safe
/// defaults (TLS 1.2 and 1.3), no client certificates, HTTP/1.1 by ALPN.
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TransportError> {
    let file_err = |role, path: &Path, why: String| TransportError::File {
        role,
        path: path.to_owned(),
        why,
    };
    let cert_pem = read_file("--tls-cert", cert)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_err("--tls-cert", cert, format!("not a PEM certificate: {e}")))?;
    if chain.is_empty() {
        return Err(file_err(
            "--tls-cert",
            cert,
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    let key_pem = read_file("--tls-key", key)?;
    let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        let why = match e {
            rustls::pki_types::pem::Error::NoItemsFound => {
                "holds no PEM private key (-----BEGIN PRIVATE KEY-----, RSA or EC)".to_string()
            }
            other => format!("not a PEM private key: {other}"),
        };
        file_err("--tls-key", key, why)
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let pair_err = |why: String| TransportError::Pair {
        cert: cert.to_owned(),
        key: key.to_owned(),
        why,
    };
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| pair_err(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => {
                pair_err("the key is not the certificate's (they do not match)".into())
            }
            other => pair_err(format!("not usable: {other}")),
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `router` on `listener` until `shutdown` completes, then shuts
/// down gracefully (see the module's doc) and returns once every
/// connection has ended. `tls` is what `TransportOptions::prepare` gave.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    opts: &TransportOptions,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(opts.header_timeout)
        .keep_alive(true);
    let http = Arc::new(http);
    let header_timeout = opts.header_timeout;
    let max = opts.max_connections;
    let permits = Arc::new(Semaphore::new(max));
    // Its sender dropping tells every connection to close gracefully.
    let (close_tx, close_rx) = watch::channel(());
    let mut shed = Shed::default();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // Out of file descriptors, most likely: wait for some
                    // to close rather than spin.
                    tracing::error!("accept: {e}");
                    tokio::select! {
                        _ = &mut shutdown => break,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            },
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            drop(stream);
            shed.one(max);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let http = http.clone();
        let tls = tls.clone();
        let mut close = close_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match tls {
                None => connection(&http, TokioIo::new(stream), router, peer, close).await,
                Some(acceptor) => {
                    let handshake = tokio::time::timeout(header_timeout, acceptor.accept(stream));
                    let stream = tokio::select! {
                        done = handshake => match done {
                            Ok(Ok(s)) => s,
                            Ok(Err(e)) => {
                                tracing::debug!("TLS handshake with {peer}: {e}");
                                return;
                            }
                            Err(_) => {
                                tracing::debug!("TLS handshake with {peer}: timed out");
                                return;
                            }
                        },
                        _ = close.changed() => return,
                    };
                    connection(&http, TokioIo::new(stream), router, peer, close).await
                }
            }
        });
    }
    // No new connections; the open ones finish what they serve and close.
    drop(listener);
    drop(close_tx);
    drop(router);
    // Every connection holds a permit until it ends.
    let _all = permits
        .acquire_many(u32::try_from(max).unwrap_or(u32::MAX))
        .await
        .map_err(io::Error::other)?;
    Ok(())
}

/// One HTTP/1.1 connection, until it ends or, after `close` fires, until
/// the request it is serving is done.
async fn connection<I>(
    http: &http1::Builder,
    io: TokioIo<I>,
    router: Router,
    peer: SocketAddr,
    mut close: watch::Receiver<()>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        // The router is always ready: `call` needs no `poll_ready`.
        router.clone().call(req)
    });
    let conn = http.serve_connection(io, svc);
    tokio::pin!(conn);
    let ended = tokio::select! {
        ended = conn.as_mut() => ended,
        _ = close.changed() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = ended {
        // Timeouts, resets, garbage: the client's affair, not an error of ours.
        tracing::debug!("connection from {peer}: {e}");
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Connections closed for want of room, reported at most once a minute.
#[derive(Default)]
struct Shed {
    count: u64,
    since: Option<Instant>,
}

impl Shed {
    fn one(&mut self, max: usize) {
        self.count += 1;
        let now = Instant::now();
        if self
            .since
            .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(60))
        {
            tracing::warn!(
                "{} connection(s) closed at once: {max} open already (--max-connections)",
                self.count
            );
            self.count = 0;
            self.since = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_127_slash_8_and_colon_colon_1() {
        for ip in ["127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1"] {
            assert!(is_loopback(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "0.0.0.0",
            "10.0.0.1",
            "::",
            "192.168.1.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_loopback(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn plain_http_off_loopback_needs_insecure() {
        let open: SocketAddr = "0.0.0.0:7480".parse().unwrap();
        let opts = TransportOptions::default();
        let Err(e) = opts.prepare(open) else {
            panic!("plain HTTP on {open} was accepted");
        };
        let e = e.to_string();
        assert!(e.contains("--tls-cert") && e.contains("--insecure"), "{e}");
        let insecure = TransportOptions {
            insecure: true,
            ..TransportOptions::default()
        };
        assert!(insecure.prepare(open).unwrap().is_none());
        let local: SocketAddr = "127.0.0.1:7480".parse().unwrap();
        assert!(opts.prepare(local).unwrap().is_none());
    }

    #[test]
    fn settings_out_of_range_are_refused() {
        let local: SocketAddr = "127.0.0.1:7480".parse().unwrap();
        for (t, m) in [(0, 1), (301, 1), (10, 0), (10, 1_000_001)] {
            let o = TransportOptions {
                header_timeout: Duration::from_secs(t),
                max_connections: m,
                ..TransportOptions::default()
            };
            assert!(o.prepare(local).is_err(), "{t} s, {m}");
        }
    }

    #[test]
    fn a_missing_certificate_is_named() {
        let Err(e) = tls_acceptor(
            Path::new("/nonexistent/c.pem"),
            Path::new("/nonexistent/k.pem"),
        ) else {
            panic!("a missing certificate was accepted");
        };
        let e = e.to_string();
        assert!(
            e.contains("--tls-cert /nonexistent/c.pem: cannot read it"),
            "{e}"
        );
    }

    /// A handler reads the peer's address; `serve` returns once shut down.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn handlers_see_the_peer_and_serve_returns_after_shutdown() {
        let router = Router::new().route(
            "/peer",
            axum::routing::get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
                peer.to_string()
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let opts = TransportOptions::default();
        let server = tokio::spawn(async move {
            serve(listener, router, &opts, None, async {
                let _ = stopped.await;
            })
            .await
        });
        let (got, me) = tokio::task::spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut c = std::net::TcpStream::connect(addr).unwrap();
            c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            c.write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut got = String::new();
            c.read_to_string(&mut got).unwrap();
            (got, c.local_addr().unwrap())
        })
        .await
        .unwrap();
        assert!(got.starts_with("HTTP/1.1 200"), "{got}");
        assert!(got.ends_with(&me.to_string()), "{got} (from {me})");
        stop.send(()).unwrap();
        let done = tokio::time::timeout(Duration::from_secs(30), server).await;
        done.expect("serve returns within 30 s").unwrap().unwrap();
    }
}
