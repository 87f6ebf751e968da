//! Building a complete `rustls::ServerConfig` from settings and a loaded certificate.

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, SupportedCipherSuite, SupportedProtocolVersion};

use crate::error::{Result, TlsError};
use crate::load::{parse_certificates, provider, read_file, LoadedCert};
use crate::resolver::FixedCertResolver;
use crate::settings::{ClientAuth, TlsSettings, TlsVersion};

/// Whether a suite is allowed by the strict policy: every TLS 1.3 suite, and for TLS 1.2 only
/// ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 (no CBC, no static RSA, no non-FS).
pub fn is_strict_suite(suite: &SupportedCipherSuite) -> bool {
    match suite {
        SupportedCipherSuite::Tls13(_) => true,
        SupportedCipherSuite::Tls12(_) => {
            let name = format!("{:?}", suite.suite());
            name.starts_with("TLS_ECDHE_")
                && (name.contains("_GCM_") || name.contains("CHACHA20_POLY1305"))
        }
    }
}

/// The crypto provider for a settings value (suites filtered by the cipher policy).
pub fn provider_for(settings: &TlsSettings) -> CryptoProvider {
    let mut p = provider();
    if settings.strict_ciphers {
        p.cipher_suites.retain(is_strict_suite);
    }
    if settings.min_version == TlsVersion::V1_3 {
        p.cipher_suites
            .retain(|s| matches!(s, SupportedCipherSuite::Tls13(_)));
    }
    p
}

/// Names of the cipher suites a settings value enables, strongest first.
pub fn cipher_suite_names(settings: &TlsSettings) -> Vec<String> {
    provider_for(settings)
        .cipher_suites
        .iter()
        .map(|s| format!("{:?}", s.suite()))
        .collect()
}

fn versions(min: TlsVersion) -> &'static [&'static SupportedProtocolVersion] {
    static BOTH: [&SupportedProtocolVersion; 2] =
        [&rustls::version::TLS13, &rustls::version::TLS12];
    static ONLY13: [&SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
    match min {
        TlsVersion::V1_2 => &BOTH,
        TlsVersion::V1_3 => &ONLY13,
    }
}

/// Loads a PEM bundle of CA certificates into a root store.
pub fn load_client_roots(path: &Path) -> Result<RootCertStore> {
    let pem = read_file("client CA", path)?;
    let certs = parse_certificates("client CA", path, &pem).map_err(|e| match e {
        TlsError::NoCertificate { path } => TlsError::ClientCa {
            path,
            detail: "no certificate found".into(),
        },
        other => other,
    })?;
    let mut roots = RootCertStore::empty();
    for (i, c) in certs.into_iter().enumerate() {
        roots.add(c).map_err(|e| TlsError::ClientCa {
            path: path.to_path_buf(),
            detail: format!(
                "certificate #{} is not usable as a trust anchor: {e}",
                i + 1
            ),
        })?;
    }
    Ok(roots)
}

/// Builds the complete server configuration: versions, cipher policy, client-certificate
/// verifier, the fixed certificate resolver and ALPN.
pub fn build_server_config(settings: &TlsSettings, loaded: &LoadedCert) -> Result<ServerConfig> {
    let provider = Arc::new(provider_for(settings));
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(versions(settings.min_version))?;
    let builder = match settings.client_auth {
        ClientAuth::None => builder.with_no_client_auth(),
        mode => {
            let Some(ca) = &settings.client_ca_file else {
                return Err(TlsError::Config(format!(
                    "client_auth = {} needs client_ca_file",
                    mode.as_str()
                )));
            };
            let roots = Arc::new(load_client_roots(ca)?);
            let vb = WebPkiClientVerifier::builder_with_provider(roots, Arc::clone(&provider));
            let vb = if mode == ClientAuth::Optional {
                vb.allow_unauthenticated()
            } else {
                vb
            };
            let verifier = vb.build().map_err(|e| TlsError::ClientCa {
                path: ca.clone(),
                detail: e.to_string(),
            })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_cert_resolver(Arc::new(FixedCertResolver::new(Arc::clone(
        &loaded.certified_key,
    ))));
    config.alpn_protocols = settings.alpn_protocols.clone();
    config.ignore_client_order = true;
    Ok(config)
}
