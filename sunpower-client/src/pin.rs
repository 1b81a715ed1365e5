//! The supervisor's certificate, pinned: it is self-signed (no authority vouches for it), so the
//! first one seen is trusted and every later connection must show the same one.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

/// The SHA-256 of a certificate (its DER bytes): what `openssl x509 -fingerprint -sha256`
/// prints. Shown and parsed as 64 hex digits, colons allowed.
///
/// ```
/// use sunpower_client::Fingerprint;
/// let pin: Fingerprint = "AB:CD:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd"
///     .parse()
///     .unwrap();
/// assert_eq!(pin.to_string(), "abcd00112233445566778899aabbccddeeff00112233445566778899aabbccdd");
/// assert!("abcd".parse::<Fingerprint>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of a certificate's DER bytes.
    pub fn of(der: &[u8]) -> Fingerprint {
        let digest = ring::digest::digest(&ring::digest::SHA256, der);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(digest.as_ref());
        Fingerprint(bytes)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// A text that is not a SHA-256 fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a SHA-256 fingerprint (64 hex digits, colons allowed)")]
pub struct BadFingerprint;

impl FromStr for Fingerprint {
    type Err = BadFingerprint;

    fn from_str(s: &str) -> Result<Fingerprint, BadFingerprint> {
        let digits: Vec<u8> = s.bytes().filter(|&b| b != b':').collect();
        if digits.len() != 64 {
            return Err(BadFingerprint);
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(digits.chunks(2)) {
            let text = std::str::from_utf8(pair).map_err(|_| BadFingerprint)?;
            *byte = u8::from_str_radix(text, 16).map_err(|_| BadFingerprint)?;
        }
        Ok(Fingerprint(bytes))
    }
}

/// What the verifier saw: the pin in force and the last certificate refused.
#[derive(Debug, Default)]
struct PinState {
    pinned: Option<Fingerprint>,
    /// Set when the pin was taken from a connection (not given).
    first_seen: bool,
    refused: Option<Fingerprint>,
}

/// A rustls verifier that pins the server's certificate: a given pin, else the first
/// certificate seen (trust on first use). Another certificate fails the handshake. The
/// handshake's signatures are still checked against the certificate's key, so a server
/// without the pinned certificate's private key cannot pass.
#[derive(Debug)]
pub(crate) struct PinningVerifier {
    state: Mutex<PinState>,
    provider: Arc<CryptoProvider>,
}

impl PinningVerifier {
    pub(crate) fn new(pin: Option<Fingerprint>, provider: Arc<CryptoProvider>) -> PinningVerifier {
        PinningVerifier {
            state: Mutex::new(PinState {
                pinned: pin,
                ..PinState::default()
            }),
            provider,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, PinState> {
        // The state is a few plain values, always whole: a panic elsewhere cannot corrupt it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The pin in force, and whether it was taken from the first connection.
    pub(crate) fn pinned(&self) -> Option<(Fingerprint, bool)> {
        let state = self.state();
        state.pinned.map(|pin| (pin, state.first_seen))
    }

    /// The last certificate refused, taken (for the error that reports it).
    pub(crate) fn take_refused(&self) -> Option<Fingerprint> {
        self.state().refused.take()
    }
}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let seen = Fingerprint::of(end_entity.as_ref());
        let mut state = self.state();
        match state.pinned {
            Some(pin) if pin == seen => Ok(ServerCertVerified::assertion()),
            Some(_) => {
                state.refused = Some(seen);
                Err(rustls::Error::InvalidCertificate(
                    CertificateError::ApplicationVerificationFailure,
                ))
            }
            None => {
                state.pinned = Some(seen);
                state.first_seen = true;
                Ok(ServerCertVerified::assertion())
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
