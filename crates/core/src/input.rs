//! Reading a file that a user named (an experiment, a recorded table, its metadata, a results
//! file) without trusting what is at that path: only a regular file is read (a symlink is
//! followed to what it points at), and only up to a documented size, checked before a byte is
//! read. A FIFO would block the read forever, a character device such as `/dev/zero` would
//! fill memory, and a directory or socket cannot be read at all; each is refused with a message
//! that says what the path is.

use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Largest text file read as an experiment, metadata, summary or manifest: 64 MiB (the largest
/// experiment shipped is a few KiB; a summary of 10,000 cells is about 20 MiB).
pub const MAX_TEXT_BYTES: u64 = 64 << 20;

/// Largest recorded table or trace read: 8 GiB, a third of the memory of the machines hposim is
/// developed on (a table is decoded into memory whole).
pub const MAX_TABLE_BYTES: u64 = 8 << 30;

/// Why a file could not be read (the message does not name the path: callers do).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Opening or reading failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The path names something other than a regular file.
    #[error("it is {0}, not a regular file")]
    NotAFile(&'static str),
    /// The file is larger than the limit for its kind.
    #[error("it is {size} bytes, more than the {limit} bytes hposim reads from such a file")]
    TooLarge {
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A text file is not UTF-8.
    #[error("it is not UTF-8 text")]
    NotText,
}

/// What kind of file `kind` is, in words.
fn kind_of(kind: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a named pipe (FIFO)"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

/// The size of the file `metadata` describes, if it is a regular file of at most `limit` bytes.
fn regular_size(metadata: &std::fs::Metadata, limit: u64) -> Result<u64, InputError> {
    if !metadata.is_file() {
        return Err(InputError::NotAFile(kind_of(metadata.file_type())));
    }
    if metadata.len() > limit {
        return Err(InputError::TooLarge { size: metadata.len(), limit });
    }
    Ok(metadata.len())
}

/// Checks that `path` is a regular file (following symlinks) of at most `limit` bytes, and
/// returns its size. Nothing is opened, so a FIFO is refused without blocking.
pub fn check_regular(path: &Path, limit: u64) -> Result<u64, InputError> {
    regular_size(&std::fs::metadata(path)?, limit)
}

/// Opens `path` for reading after [`check_regular`], and checks the opened file again (the
/// path may have been replaced in between); returns the file and its size.
pub fn open_regular(path: &Path, limit: u64) -> Result<(File, u64), InputError> {
    check_regular(path, limit)?;
    let file = File::open(path)?;
    let size = regular_size(&file.metadata()?, limit)?;
    Ok((file, size))
}

/// The bytes of the regular file at `path`, at most `limit` of them.
pub fn read_bytes(path: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    let (file, size) = open_regular(path, limit)?;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // A file that grows while it is read is read up to the limit, never further.
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(InputError::TooLarge { size: bytes.len() as u64, limit });
    }
    Ok(bytes)
}

/// The UTF-8 text of the regular file at `path`, at most [`MAX_TEXT_BYTES`] of it.
pub fn read_text(path: &Path) -> Result<String, InputError> {
    String::from_utf8(read_bytes(path, MAX_TEXT_BYTES)?).map_err(|_| InputError::NotText)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_files_are_refused_without_reading_them() {
        let dir = std::env::temp_dir().join(format!("hposim-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // A FIFO: opening it for reading would block until a writer comes.
        let fifo = dir.join("t.parquet");
        let _ = std::fs::remove_file(&fifo);
        let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(status.success());
        let error = read_bytes(&fifo, MAX_TABLE_BYTES).unwrap_err();
        assert_eq!(error.to_string(), "it is a named pipe (FIFO), not a regular file");
        // A symlink to /dev/zero: endless bytes.
        let zero = dir.join("zero.parquet");
        let _ = std::fs::remove_file(&zero);
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert_eq!(read_bytes(&zero, MAX_TABLE_BYTES).unwrap_err().to_string(), "it is a character device, not a regular file");
        assert_eq!(read_text(&dir).unwrap_err().to_string(), "it is a directory, not a regular file");
        // A symlink to a regular file is followed.
        let real = dir.join("real.toml");
        std::fs::write(&real, "name = \"x\"\n").unwrap();
        let link = dir.join("link.toml");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert_eq!(read_text(&link).unwrap(), "name = \"x\"\n");
        // Over the limit: refused before reading.
        assert_eq!(read_bytes(&real, 4).unwrap_err().to_string(), "it is 11 bytes, more than the 4 bytes hposim reads from such a file");
        std::fs::write(&real, [0xff, 0xfe]).unwrap();
        assert_eq!(read_text(&real).unwrap_err().to_string(), "it is not UTF-8 text");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
