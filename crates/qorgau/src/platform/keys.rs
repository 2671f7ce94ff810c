//! Secret keys kept in the data directory, apart from the database, so that a database dump
//! alone opens nothing. Created on first start with owner-only permissions.

use std::io::Write;
use std::path::{Path, PathBuf};

use rand::RngCore;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key file {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("key file {0} is not 64 hex digits")]
    Malformed(PathBuf),
    #[error("generating key {0} failed")]
    Generate(PathBuf),
}

/// Loads a 32-byte key stored as hex in `dir/keys/<name>.key`, creating it if absent.
pub fn load_or_create(dir: &Path, name: &str) -> Result<[u8; 32], KeyError> {
    let bytes = load_or_create_with(dir, name, || {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Some(key.to_vec())
    })?;
    bytes
        .try_into()
        .map_err(|_| KeyError::Malformed(dir.join("keys").join(format!("{name}.key"))))
}

/// Loads bytes stored as hex in `dir/keys/<name>.key`, creating them with `generate` if absent
/// (for keys that are not 32 random bytes, such as a PKCS#8 document).
pub fn load_or_create_with(
    dir: &Path,
    name: &str,
    generate: impl FnOnce() -> Option<Vec<u8>>,
) -> Result<Vec<u8>, KeyError> {
    let keys = dir.join("keys");
    std::fs::create_dir_all(&keys).map_err(|e| KeyError::Io(keys.clone(), e))?;
    let path = keys.join(format!("{name}.key"));
    match std::fs::read_to_string(&path) {
        Ok(s) => hex::decode(s.trim()).map_err(|_| KeyError::Malformed(path.clone())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = generate().ok_or_else(|| KeyError::Generate(path.clone()))?;
            match write_new(&path, &key) {
                Ok(()) => Ok(key),
                // Another task or process wrote it first: theirs is the key.
                Err(KeyError::Io(_, e)) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let s = std::fs::read_to_string(&path)
                        .map_err(|e| KeyError::Io(path.clone(), e))?;
                    hex::decode(s.trim()).map_err(|_| KeyError::Malformed(path.clone()))
                }
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(KeyError::Io(path, e)),
    }
}

/// Writes a new key file readable by its owner only. Two processes starting at once: the loser
/// of `create_new` reads the winner's key.
fn write_new(path: &Path, key: &[u8]) -> Result<(), KeyError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| KeyError::Io(path.to_owned(), e))?;
    f.write_all(hex::encode(key).as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| KeyError::Io(path.to_owned(), e))
}

#[cfg(test)]
mod tests {
    #[test]
    fn creates_once_then_reads_the_same() {
        let d = tempfile::tempdir().expect("tempdir");
        let a = super::load_or_create(d.path(), "seal").expect("create");
        let b = super::load_or_create(d.path(), "seal").expect("read");
        assert_eq!(a, b);
        std::fs::write(d.path().join("keys/bad.key"), "zz").expect("write");
        assert!(super::load_or_create(d.path(), "bad").is_err());
    }
}
