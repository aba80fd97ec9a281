//! TLS for `wss://`: rustls (ring provider) through `futures-rustls`, over
//! glommio's io_uring `TcpStream`, with the Mozilla roots from
//! `webpki-roots`. A certificate the roots do not vouch for is a
//! [`WsError::Certificate`] naming the host.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_rustls::client::TlsStream;
use futures_rustls::rustls::pki_types::ServerName;
use futures_rustls::rustls::{self, ClientConfig, RootCertStore};
use futures_util::io::{AsyncRead, AsyncWrite};
use glommio::net::TcpStream;

use super::error::WsError;

/// A client config trusting the `webpki-roots` CA set (what Binance's
/// certificates chain to). Build it once and share it.
pub(super) fn webpki_client_config() -> Arc<ClientConfig> {
    let roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    client_config_with_roots(roots)
}

/// A client config trusting exactly `roots` (tests, private venues).
pub fn client_config_with_roots(roots: RootCertStore) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth());
    match cfg {
        Ok(c) => Arc::new(c),
        // The ring provider supports the default versions; this arm only
        // keeps a future rustls from turning into a panic.
        Err(_) => Arc::new(
            ClientConfig::builder_with_protocol_versions(&[&rustls::version::TLS13])
                .with_root_certificates(RootCertStore::empty())
                .with_no_client_auth(),
        ),
    }
}

/// Runs the TLS handshake for `host` over `tcp`.
pub(super) async fn connect(
    tcp: TcpStream,
    host: &str,
    cfg: Arc<ClientConfig>,
) -> Result<TlsStream<TcpStream>, WsError> {
    let name = ServerName::try_from(host.to_string()).map_err(|e| WsError::Tls {
        host: host.to_string(),
        reason: format!("not a valid TLS server name: {e}"),
    })?;
    let connector = futures_rustls::TlsConnector::from(cfg);
    connector
        .connect(name, tcp)
        .await
        .map_err(|e| classify(host, &e))
}

/// Maps a handshake I/O error to a typed error (certificate problems apart).
fn classify(host: &str, e: &std::io::Error) -> WsError {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    match inner {
        Some(rustls::Error::InvalidCertificate(c)) => WsError::Certificate {
            host: host.to_string(),
            reason: format!("{c:?}"),
        },
        Some(other) => WsError::Tls {
            host: host.to_string(),
            reason: other.to_string(),
        },
        None => WsError::Tls {
            host: host.to_string(),
            reason: e.to_string(),
        },
    }
}

/// Plain TCP or TLS over TCP, so one WebSocket type serves `ws://` and `wss://`.
#[allow(clippy::large_enum_variant)] // one per connection, never moved on the hot path
pub(super) enum MaybeTls {
    /// `ws://`.
    Plain(TcpStream),
    /// `wss://`.
    Tls(TlsStream<TcpStream>),
}

impl AsyncRead for MaybeTls {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_read(cx, buf),
            MaybeTls::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for MaybeTls {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_write(cx, buf),
            MaybeTls::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_flush(cx),
            MaybeTls::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_close(cx),
            MaybeTls::Tls(s) => Pin::new(s).poll_close(cx),
        }
    }
}
