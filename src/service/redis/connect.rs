//! Connecting to Redis on another machine: the URL (which may hold an ACL user's password) is
//! never shown with its password, `rediss://` is checked against the system's trust store or a
//! private CA, a client certificate is offered where Redis asks for one
//! (`tls-auth-clients yes`), and the URL may come from a file only its owner may read.
//!
//! `rediss://…#insecure` (the redis crate's switch that turns certificate checks off) is
//! refused: a private CA is trusted with [`RedisTls::ca`] instead.

use std::path::{Path, PathBuf};

/// What a password is shown as.
const HIDDEN: &str = "***";

/// A Redis URL: `redis://[user:password@]host:port/[db]`, `rediss://…` for TLS, or a Unix socket
/// (`redis+unix:///path?user=…&pass=…`). Display and Debug show it with its password as `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl {
    text: String,
}

impl RedisUrl {
    /// Checks a URL; the error never repeats it (it may hold a password).
    pub fn parse(text: &str) -> Result<RedisUrl, String> {
        let text = text.trim();
        let url = redis::parse_redis_url(text).ok_or_else(|| {
            "not a Redis URL: redis://[user:password@]host:port/ or rediss://… (TLS); \
             percent-encode / ? # @ : % in a password"
                .to_string()
        })?;
        if url.fragment().is_some() {
            return Err(
                "a Redis URL takes no #fragment (#insecure would turn certificate checks \
                        off: trust a private CA with --redis-ca instead)"
                    .into(),
            );
        }
        Ok(RedisUrl { text: text.into() })
    }

    /// Reads the URL from a file that group and others may not read (it holds a password): one
    /// line, surrounding white space ignored.
    pub fn from_file(path: &Path) -> Result<RedisUrl, String> {
        crate::relayer::config::private_file(path).map_err(|e| e.to_string())?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: {}", path.display(), e.kind()))?;
        if text.trim().lines().count() != 1 {
            return Err(format!(
                "{}: expected one line, a Redis URL",
                path.display()
            ));
        }
        RedisUrl::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Whether it asks for TLS (`rediss://`, `valkeys://`).
    pub fn is_tls(&self) -> bool {
        self.text.starts_with("rediss://") || self.text.starts_with("valkeys://")
    }

    /// The URL itself, password included: for the client only, never for a message.
    fn secret(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Some(mut shown) = redis::parse_redis_url(&self.text) else {
            return f.write_str(HIDDEN);
        };
        if shown.password().is_some() && shown.set_password(Some(HIDDEN)).is_err() {
            return f.write_str(HIDDEN);
        }
        if shown.query_pairs().any(|(k, _)| k == "pass") {
            let pairs: Vec<(String, String)> = shown
                .query_pairs()
                .map(|(k, v)| {
                    let v = if k == "pass" { HIDDEN.into() } else { v.into() };
                    (k.into_owned(), v)
                })
                .collect();
            shown.query_pairs_mut().clear().extend_pairs(pairs);
        }
        f.write_str(shown.as_str())
    }
}

impl std::fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisUrl({self})")
    }
}

/// TLS beyond the system's trust store: a private CA (PEM) that signed Redis's certificate, and
/// a client certificate with its key (PEM) for a Redis with `tls-auth-clients yes`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedisTls {
    /// The CA certificates to trust instead of the system's.
    pub ca: Option<PathBuf>,
    /// The client's certificate chain.
    pub cert: Option<PathBuf>,
    /// The client certificate's private key: a file only its owner may read.
    pub key: Option<PathBuf>,
}

impl RedisTls {
    fn is_empty(&self) -> bool {
        self.ca.is_none() && self.cert.is_none() && self.key.is_none()
    }
}

/// How often a connection manager tries to (re)connect before a command fails: 0.1, 0.2, 0.4 s
/// apart. redis-rs's default, 6 tries over about 6 s, made a start against a wrong address, CA or
/// password wait that long before saying so; a worker or relayer loop tries again on its own.
const CONNECTION_RETRIES: usize = 3;

/// The one way every process of the service gets its multiplexed, reconnecting connection.
pub async fn manager(client: redis::Client) -> redis::RedisResult<redis::aio::ConnectionManager> {
    let config =
        redis::aio::ConnectionManagerConfig::new().set_number_of_retries(CONNECTION_RETRIES);
    redis::aio::ConnectionManager::new_with_config(client, config).await
}

/// A client for `url`: nothing connects yet. The files of `tls` are read now, so that a missing
/// or unreadable one is named at start.
pub fn client(url: &RedisUrl, tls: &RedisTls) -> Result<redis::Client, String> {
    if !url.is_tls() {
        if !tls.is_empty() {
            return Err(format!(
                "--redis-ca, --redis-cert and --redis-key need a rediss:// URL, not {url}"
            ));
        }
        return redis::Client::open(url.secret()).map_err(|e| format!("{url}: {e}"));
    }
    // Ignored when one is installed already: either serves.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    if tls.is_empty() {
        return redis::Client::open(url.secret()).map_err(|e| format!("{url}: {e}"));
    }
    let root_cert = tls.ca.as_deref().map(read_ca).transpose()?;
    let client_tls = match (&tls.cert, &tls.key) {
        (Some(cert), Some(key)) => {
            crate::relayer::config::private_file(key).map_err(|e| e.to_string())?;
            Some(redis::ClientTlsConfig {
                client_cert: read(cert)?,
                client_key: read(key)?,
            })
        }
        (None, None) => None,
        _ => return Err("--redis-cert and --redis-key go together".into()),
    };
    redis::Client::build_with_tls(
        url.secret(),
        redis::TlsCertificates {
            client_tls,
            root_cert,
        },
    )
    .map_err(|e| format!("{url}: {e}"))
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {}", path.display(), e.kind()))
}

/// A CA file without a certificate would trust nothing: every connection would fail later with
/// a less telling error.
fn read_ca(path: &Path) -> Result<Vec<u8>, String> {
    let pem = read(path)?;
    if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
        return Err(format!(
            "{}: no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        ));
    }
    Ok(pem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_never_shown() {
        for (given, shown) in [
            (
                "rediss://airprover:s3cret@redis.internal:6380/",
                "rediss://airprover:***@redis.internal:6380/",
            ),
            (
                "redis://:s3cret@127.0.0.1:6379/2",
                "redis://:***@127.0.0.1:6379/2",
            ),
            ("redis://127.0.0.1:6379/", "redis://127.0.0.1:6379/"),
            (
                "redis+unix:///run/redis.sock?user=a&pass=s3cret",
                "redis+unix:///run/redis.sock?user=a&pass=***",
            ),
        ] {
            let url = RedisUrl::parse(given).unwrap();
            assert_eq!(url.to_string(), shown);
            assert!(!format!("{url:?}").contains("s3cret"));
        }
    }

    #[test]
    fn a_bad_url_is_refused_without_repeating_it() {
        for bad in [
            "http://u:s3cret@host/",
            "s3cret",
            "rediss://u:s3cret@host:6380/#insecure",
        ] {
            let e = RedisUrl::parse(bad).unwrap_err();
            assert!(!e.contains("s3cret"), "{e}");
        }
        assert!(RedisUrl::parse("rediss://h/#insecure")
            .unwrap_err()
            .contains("--redis-ca"));
    }

    #[test]
    fn tls_files_need_a_tls_url() {
        let tls = RedisTls {
            ca: Some("ca.pem".into()),
            ..RedisTls::default()
        };
        let url = RedisUrl::parse("redis://u:s3cret@127.0.0.1:6379/").unwrap();
        let e = client(&url, &tls).unwrap_err();
        assert!(e.contains("rediss://") && !e.contains("s3cret"), "{e}");
        assert!(RedisUrl::parse("rediss://h:6380/").unwrap().is_tls());
        assert!(!url.is_tls());
    }

    #[test]
    fn a_ca_file_without_a_certificate_is_refused() {
        let dir = std::env::temp_dir().join(format!("airprover-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, "not a certificate\n").unwrap();
        let tls = RedisTls {
            ca: Some(ca),
            ..RedisTls::default()
        };
        let url = RedisUrl::parse("rediss://127.0.0.1:6380/").unwrap();
        let e = client(&url, &tls).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(e.contains("no PEM certificate"), "{e}");
    }
}
