//! A certificate resolver that always serves one pre-validated [`CertifiedKey`].

use std::sync::Arc;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// Serves the loaded chain and key to every client.
///
/// Using a resolver instead of `ConfigBuilder::with_single_cert` skips rustls' webpki parse
/// of our own leaf, which refuses X.509 v1 certificates (still produced by
/// `openssl x509 -req` without extensions). Key/certificate consistency is checked by
/// [`crate::load()`] instead.
#[derive(Debug, Clone)]
pub struct FixedCertResolver {
    key: Arc<CertifiedKey>,
}

impl FixedCertResolver {
    /// A resolver serving `key`.
    pub fn new(key: Arc<CertifiedKey>) -> Self {
        FixedCertResolver { key }
    }

    /// The served chain and key.
    pub fn certified_key(&self) -> &Arc<CertifiedKey> {
        &self.key
    }
}

impl ResolvesServerCert for FixedCertResolver {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.key))
    }
}
