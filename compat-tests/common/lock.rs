//! Advisory file locks (flock), across the test threads of one binary and across binaries.

use std::fs::{File, OpenOptions};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// Held until dropped (closing the file releases the lock).
pub struct FileLock {
    _file: File,
}

impl FileLock {
    /// Blocks until the shared lock on `name` (a file in the temp dir) is held.
    pub fn shared(name: &str) -> FileLock {
        Self::take(name, libc::LOCK_SH)
    }

    /// Blocks until the exclusive lock on `name` is held.
    pub fn exclusive(name: &str) -> FileLock {
        Self::take(name, libc::LOCK_EX)
    }

    fn take(name: &str, how: libc::c_int) -> FileLock {
        let path = lock_path(name);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("cannot open lock file {}: {e}", path.display()));
        loop {
            // SAFETY: flock on a file descriptor we own; no memory is passed.
            let rc = unsafe { libc::flock(file.as_raw_fd(), how) };
            if rc == 0 {
                break;
            }
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                panic!("flock {}: {err}", path.display());
            }
        }
        FileLock { _file: file }
    }
}

fn lock_path(name: &str) -> PathBuf {
    let safe: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    Path::new(&std::env::temp_dir()).join(format!("shoal-compat-{safe}.lock"))
}
