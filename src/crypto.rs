//! Sealing of access-key secrets at rest.
//!
//! SigV4 needs the plaintext secret to recompute a signature, so it cannot be hashed; it is
//! sealed with XChaCha20-Poly1305 under a 256-bit master key instead. The key lives in the
//! data directory (`master.key`, mode 0600) or comes from `GRANTD_MASTER_KEY`, which every
//! process sharing one database must then be given. The access-key id is bound in as
//! associated data, so a sealed secret cannot be moved to another key's row.

use anyhow::Context as _;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

const NONCE_LEN: usize = 24;
pub const KEY_FILE: &str = "master.key";

#[derive(Clone)]
pub struct MasterKey {
    cipher: XChaCha20Poly1305,
    /// Signs grantd's own download URLs; derived so the sealing key is never reused.
    url_key: [u8; 32],
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([REDACTED])")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("a sealed secret could not be opened with this master key")]
pub struct OpenError;

impl MasterKey {
    /// The configured key, else the data directory's key file, created on first use.
    pub fn load_or_create(
        configured: Option<&SecretString>,
        data_dir: &Path,
    ) -> anyhow::Result<Self> {
        if let Some(b64) = configured {
            return Self::from_base64(b64.expose_secret())
                .context("GRANTD_MASTER_KEY must be 32 bytes, base64-encoded");
        }
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating data directory {}", data_dir.display()))?;
        let path = data_dir.join(KEY_FILE);
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(mut file) => {
                file.write_all(B64.encode(key).as_bytes())
                    .and_then(|()| file.sync_all())
                    .with_context(|| format!("writing {}", path.display()))?;
                tracing::info!(path = %path.display(), "created a new master key");
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        Self::from_base64(text.trim())
            .with_context(|| format!("{} must hold 32 bytes, base64-encoded", path.display()))
    }

    pub fn from_base64(text: &str) -> anyhow::Result<Self> {
        let bytes = B64.decode(text.trim()).context("not valid base64")?;
        anyhow::ensure!(bytes.len() == 32, "expected 32 bytes, got {}", bytes.len());
        use hmac::Mac as _;
        let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(&bytes)?;
        mac.update(b"grantd url signing key v1");
        Ok(MasterKey {
            cipher: XChaCha20Poly1305::new_from_slice(&bytes)?,
            url_key: mac.finalize().into_bytes().into(),
        })
    }

    /// The key for grantd's presigned download URLs.
    pub fn url_key(&self) -> &[u8; 32] {
        &self.url_key
    }

    /// `nonce || ciphertext+tag`, bound to `context`.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, OpenError> {
        if sealed.len() < NONCE_LEN {
            return Err(OpenError);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context,
                },
            )
            .map_err(|_| OpenError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_the_same_key_and_context() {
        let key = MasterKey::from_base64(&B64.encode([7u8; 32])).unwrap();
        let sealed = key.seal(b"secret", b"AKIA1");
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(key.open(&sealed, b"AKIA1").unwrap(), b"secret");
        assert!(key.open(&sealed, b"AKIA2").is_err());
        let other = MasterKey::from_base64(&B64.encode([8u8; 32])).unwrap();
        assert!(other.open(&sealed, b"AKIA1").is_err());
        assert_eq!(format!("{key:?}"), "MasterKey([REDACTED])");
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let a = MasterKey::load_or_create(None, dir.path()).unwrap();
        let b = MasterKey::load_or_create(None, dir.path()).unwrap();
        let sealed = a.seal(b"x", b"c");
        assert_eq!(b.open(&sealed, b"c").unwrap(), b"x");
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
