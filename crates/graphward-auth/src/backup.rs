//! Online backup of the auth state: the user store (`system/auth.redb`) as one consistent
//! snapshot, and the token signing keys, for `graphward backup`.

use std::path::Path;

use graphward_core::{Error, Result};

use crate::service::AuthService;

impl AuthService {
    /// Writes the user store and the token signing keys under `dest` at the same relative
    /// paths as in a data directory (`system/auth.redb`, `system/token-signing-key`), mode
    /// 0600 in a 0700 directory. The store is copied from one read transaction, so changes
    /// made meanwhile are either all in the copy or not at all.
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        let store_file = dest.join(crate::service::STORE_FILE);
        if let Some(parent) = store_file.parent() {
            let mut b = std::fs::DirBuilder::new();
            b.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                b.mode(0o700);
            }
            b.create(parent)
                .map_err(|e| Error::internal(format!("cannot create {}: {e}", parent.display())))?;
        }
        self.store.backup_to(&store_file)?;
        let keys = {
            let ring = self
                .keys
                .read()
                .map_err(|_| Error::internal("signing key lock poisoned"))?;
            crate::tokens::render_key_file(&ring)
        };
        crate::service::write_private(&dest.join(crate::tokens::SIGNING_KEY_FILE), &keys)
    }
}
