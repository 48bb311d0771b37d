//! Test certificates made with rcgen (ring, as the library uses): CAs, server leaves (current,
//! expired or not yet valid) and rustls server configurations built on them.

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, SupportedProtocolVersion};
use std::ffi::{CStr, CString};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use zsmtp::transport::host::StdTransport;

/// A test CA.
pub struct Ca {
    params: CertificateParams,
    key: KeyPair,
    /// Its certificate, PEM.
    pub pem: String,
}

/// A server certificate chain (the leaf) and its key.
pub struct Leaf {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

pub enum Validity {
    Current,
    Expired,
    NotYetValid,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let pem = params.self_signed(&key).unwrap().pem();
        Ca { params, key, pem }
    }

    /// A leaf for `names` (DNS names or IP literals) signed by this CA.
    pub fn issue(&self, names: &[&str], validity: Validity) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        match validity {
            Validity::Current => {}
            Validity::Expired => {
                params.not_before = rcgen::date_time_ymd(2000, 1, 1);
                params.not_after = rcgen::date_time_ymd(2001, 1, 1);
            }
            Validity::NotYetValid => {
                params.not_before = rcgen::date_time_ymd(2200, 1, 1);
                params.not_after = rcgen::date_time_ymd(2201, 1, 1);
            }
        }
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).unwrap();
        Leaf { chain: vec![cert.der().clone()], key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())) }
    }

    /// A host transport (rustls) that trusts exactly this CA.
    pub fn transport(&self) -> StdTransport {
        StdTransport::with_ca_pem(self.pem.as_bytes()).unwrap()
    }

    /// This CA's PEM in a file of its own (under the temporary directory), as the 'static C
    /// string path that the Zephyr transport's `with_ca_file` keeps.
    pub fn pem_file(&self) -> &'static CStr {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!("zsmtp-test-ca-{}-{}.pem", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, &self.pem).expect("write the CA file");
        Box::leak(CString::new(path.to_str().expect("utf-8 path")).expect("no NUL").into_boxed_c_str())
    }
}

/// TLS 1.3 and 1.2.
pub const BOTH: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];

/// A server configuration presenting `leaf`, speaking `versions`.
pub fn server_config(leaf: Leaf, versions: &[&'static SupportedProtocolVersion]) -> Arc<ServerConfig> {
    let config = ServerConfig::builder_with_protocol_versions(versions)
        .with_no_client_auth()
        .with_single_cert(leaf.chain, leaf.key)
        .unwrap();
    Arc::new(config)
}

/// A server configuration for localhost, 127.0.0.1 and ::1, signed by `ca`: what a client
/// trusting `ca` accepts under any loopback name.
pub fn good_server(ca: &Ca) -> Arc<ServerConfig> {
    server_config(ca.issue(&["localhost", "127.0.0.1", "::1"], Validity::Current), BOTH)
}

/// One CA and a [`good_server`] for it, made once per test binary (for suites that run many
/// connections and need no particular certificate).
pub struct Pki {
    pub ca: Ca,
    pub server: Arc<ServerConfig>,
}

pub fn shared() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let ca = Ca::new("zsmtp test CA");
        let server = good_server(&ca);
        Pki { ca, server }
    })
}
