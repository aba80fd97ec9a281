//! A self-signed ECDSA P-256 certificate for 127.0.0.1 (valid to 2126) and
//! its key: TLS servers in tests and the TLS benchmark. Test material only.

/// The certificate, PEM.
pub(crate) const SELF_SIGNED_CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBlDCCATugAwIBAgIUQZljblf2ww9TLASaDxtzescG8FgwCgYIKoZIzj0EAwIw
GDEWMBQGA1UEAwwNdGlja3dpcmUtdGVzdDAgFw0yNjExMjIyMTI4MTZaGA8yMTI2
MTAyOTIxMjgxNlowGDEWMBQGA1UEAwwNdGlja3dpcmUtdGVzdDBZMBMGByqGSM49
AgEGCCqGSM49AwEHA0IABJW0KDyNRm4CND9SD5fCy8auNKpey1wy72d599mw5FR7
1zhETrY4wjAi1ZcuChaF8iINwqCTJI2ZzbUdrwXrxv+jYTBfMB0GA1UdDgQWBBTb
SjeExSz+FFqCUxQKQPCylnYuzzAfBgNVHSMEGDAWgBTbSjeExSz+FFqCUxQKQPCy
lnYuzzAPBgNVHREECDAGhwR/AAABMAwGA1UdEwEB/wQCMAAwCgYIKoZIzj0EAwID
RwAwRAIgCEO5WEVlggnJ9oMHtCe/leU4o+IRCV32Z1YpgblLklQCIFsnnBD0K0gK
dAc6HQJ/0q2JNxLH0us78AvCpybkZWc5
-----END CERTIFICATE-----";

/// Its private key, PEM.
pub(crate) const SELF_SIGNED_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgOtrBVdOBRS6GFdKH
3zsUKHo2dhSGABlIpA2+85Y/YbGhRANCAASVtCg8jUZuAjQ/Ug+XwsvGrjSqXstc
Mu9neffZsORUe9c4RE62OMIwItWXLgoWhfIiDcKgkySNmc21Ha8F68b/
-----END PRIVATE KEY-----";

/// The certificate, parsed.
pub(crate) fn certificate() -> rustls::pki_types::CertificateDer<'static> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::from_pem_slice(SELF_SIGNED_CERT.as_bytes())
        .expect("the test certificate parses")
}

/// A rustls server configuration (ring provider, safe default protocol
/// versions) serving the certificate.
pub(crate) fn server_config() -> std::sync::Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(SELF_SIGNED_KEY.as_bytes())
        .expect("the test key parses");
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![certificate()], key)
        .expect("server config");
    std::sync::Arc::new(cfg)
}
