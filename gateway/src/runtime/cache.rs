//! Compiled components on disk, keyed by the wasm's sha256 and the engine's configuration.
//!
//! Loading a cached artifact maps native code: it is only safe for bytes this gateway wrote.
//! Each entry carries the sha256 of its artifact, checked before use; an entry that fails the
//! check, or that wasmtime refuses, is deleted and rebuilt.

use sha2::{Digest, Sha256};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

pub struct Entry {
    artifact: PathBuf,
    checksum: PathBuf,
}

impl Entry {
    pub fn new(dir: &Path, engine: &Engine, wasm_sha256: &str) -> Self {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let key = format!("{wasm_sha256}-{:016x}", hasher.finish());
        Entry {
            artifact: dir.join(format!("{key}.cwasm")),
            checksum: dir.join(format!("{key}.sha256")),
        }
    }

    /// The cached component, if there is a sound one.
    pub fn load(&self, engine: &Engine) -> Option<Component> {
        let bytes = std::fs::read(&self.artifact).ok()?;
        let expected = std::fs::read_to_string(&self.checksum).ok();
        if expected.as_deref().map(str::trim) != Some(hex::encode(Sha256::digest(&bytes)).as_str())
        {
            tracing::warn!(
                "ignoring cache entry {}: checksum mismatch",
                self.artifact.display()
            );
            self.remove();
            return None;
        }
        // SAFETY: the bytes are an artifact this gateway serialised with this engine
        // configuration (the key), unchanged since (the checksum), in a folder only it writes.
        #[allow(unsafe_code)]
        let component = unsafe { Component::deserialize(engine, &bytes) };
        match component {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!("ignoring cache entry {}: {e}", self.artifact.display());
                self.remove();
                None
            }
        }
    }

    /// Stores `component`; failures only cost the next start a compilation.
    pub fn store(&self, component: &Component) {
        let write = || -> std::io::Result<()> {
            let bytes = component.serialize().map_err(std::io::Error::other)?;
            if let Some(dir) = self.artifact.parent() {
                std::fs::create_dir_all(dir)?;
            }
            write_atomically(&self.artifact, &bytes)?;
            write_atomically(
                &self.checksum,
                hex::encode(Sha256::digest(&bytes)).as_bytes(),
            )
        };
        if let Err(e) = write() {
            tracing::warn!(
                "cannot write compile cache entry {}: {e}",
                self.artifact.display()
            );
        }
    }

    fn remove(&self) {
        let _ = std::fs::remove_file(&self.artifact);
        let _ = std::fs::remove_file(&self.checksum);
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
