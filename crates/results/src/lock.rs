//! One hposim at a time on a results folder, or the shards of one sweep together. Two runs on
//! one folder would simulate the same cells twice and race to write `summary.json`; instead, the
//! second is refused at once, saying that another hposim holds the folder. Shards
//! (`hposim run --shard K/N`) run disjoint cells and write no `summary.json`, so they share the
//! folder ([`lock_folder_shared`]) while anything else holds it alone ([`lock_folder`]). The
//! lock is an advisory `flock` on `<folder>/.hposim.lock`, which the kernel releases when its
//! holder exits, however it exits (a `kill -9` leaves no stale lock); the file itself stays and
//! is harmless.

use crate::files::FileError;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// The lock file's name inside a results folder.
pub const LOCK_FILE: &str = ".hposim.lock";

/// A held lock on a results folder; dropping it releases the lock.
#[derive(Debug)]
pub struct FolderLock {
    /// The open lock file (None where the folder is read-only: nothing can be written there, so
    /// there is nothing to protect).
    _file: Option<File>,
}

/// Locks the results folder `dir` (which must exist) for this process alone, or says that
/// another hposim (or a shard of a sweep) holds it.
pub fn lock_folder(dir: &Path) -> Result<FolderLock, FileError> {
    lock(dir, false)
}

/// Locks the results folder `dir` (which must exist) for this process together with the other
/// shards of a sweep, or says that an hposim that is not a shard holds it.
pub fn lock_folder_shared(dir: &Path) -> Result<FolderLock, FileError> {
    lock(dir, true)
}

fn lock(dir: &Path, shared: bool) -> Result<FolderLock, FileError> {
    let path: PathBuf = dir.join(LOCK_FILE);
    // Readable too: on NFS, Linux emulates flock with POSIX record locks, and a shared (read)
    // lock needs a file open for reading.
    let file = match OpenOptions::new().create(true).truncate(false).read(true).write(true).open(&path) {
        Ok(file) => file,
        // A read-only folder (a finished run kept for reading): no write can happen, so no
        // lock is needed; a command that must write fails at that write, naming the file.
        Err(e) if matches!(e.kind(), std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem) => {
            return Ok(FolderLock { _file: None });
        }
        Err(error) => return Err(FileError::Io { path, error }),
    };
    let locked = if shared { file.try_lock_shared() } else { file.try_lock() };
    match locked {
        Ok(()) => Ok(FolderLock { _file: Some(file) }),
        Err(TryLockError::WouldBlock) => Err(FileError::Refused {
            path: dir.to_owned(),
            message: if shared {
                format!(
                    "another hposim that is not a shard of a sweep is running on this results folder (it holds {}); wait for it to finish, or give the shards another --out",
                    path.display()
                )
            } else {
                format!(
                    "another hposim is running on this results folder (it, or the shards of a sweep, hold {}); wait for it to finish, or give this run another --out",
                    path.display()
                )
            },
        }),
        Err(TryLockError::Error(error)) => Err(FileError::Io { path, error }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_a_folder_is_refused_until_the_first_is_released() {
        let dir = std::env::temp_dir().join(format!("hposim-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = lock_folder(&dir).unwrap();
        let message = lock_folder(&dir).unwrap_err().to_string();
        assert!(message.contains("another hposim is running on this results folder"), "{message}");
        assert!(message.contains(LOCK_FILE), "{message}");
        drop(first);
        let again = lock_folder(&dir);
        assert!(again.is_ok(), "{again:?}");
        drop(again);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn shards_share_a_folder_that_nothing_else_can_take_from_them() {
        let dir = std::env::temp_dir().join(format!("hposim-shared-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = lock_folder_shared(&dir).unwrap();
        let second = lock_folder_shared(&dir).unwrap();
        let message = lock_folder(&dir).unwrap_err().to_string();
        assert!(message.contains("the shards of a sweep"), "{message}");
        drop((first, second));
        let alone = lock_folder(&dir).unwrap();
        let message = lock_folder_shared(&dir).unwrap_err().to_string();
        assert!(message.contains("not a shard of a sweep"), "{message}");
        drop(alone);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
