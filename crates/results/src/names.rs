//! The names a user gives (an experiment's, a benchmark's, a strategy's) become parts of file
//! names: a cell's stem is `<benchmark>__<strategy>__s<seed>__<hash>` and an experiment's
//! default results folder is `results/<experiment>`. They are checked when the experiment is
//! loaded, before anything is written, so that a name can neither make a file name too long for
//! the file system (255 bytes on Linux) nor lead a folder out of `results/`.

use crate::files::safe_name;

/// Most characters in a name. Two names, the seed, the hash and the longest suffix
/// (`.exploits.json`) then make a cell file name of at most 240 bytes, under Linux's 255.
pub const MAX_NAME_CHARS: usize = 100;

/// Checks a name given in an experiment: not blank, at most [`MAX_NAME_CHARS`] characters, no
/// control characters (which would garble every table and log line that shows it).
pub fn check_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("must not be empty".into());
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(format!("is {chars} characters long; names are at most {MAX_NAME_CHARS} (they become parts of file names)"));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(format!("contains the control character {c:?}"));
    }
    Ok(())
}

/// The folder under `results/` that holds an experiment named `name` when no `--out` is given:
/// the name made file-name-safe ([`safe_name`]: `/` and every other special character becomes
/// `_`), so it never leaves `results/`, with a leading `.` written `_` too, so that the folder
/// is not hidden from `ls`. A name that is nothing but dots (`.`, `..`) would name `results/`
/// itself or its parent, and is refused.
pub fn default_folder(name: &str) -> Result<String, String> {
    check_name(name)?;
    let folder = safe_name(name);
    if folder.chars().all(|c| c == '.') {
        return Err(format!("{name:?} cannot name a results folder; give the experiment a name with a letter or digit, or pass --out"));
    }
    Ok(match folder.strip_prefix('.') {
        Some(rest) => format!("_{rest}"),
        None => folder,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_folders_stay_inside_results() {
        assert_eq!(default_folder("default").unwrap(), "default");
        assert_eq!(default_folder("../../../escaped").unwrap(), "_._.._.._escaped");
        assert_eq!(default_folder(".hidden").unwrap(), "_hidden");
        assert_eq!(default_folder("v1.2").unwrap(), "v1.2");
        assert_eq!(default_folder("/abs/path").unwrap(), "_abs_path");
        assert_eq!(default_folder("my study").unwrap(), "my_study");
        for bad in ["", " ", ".", "..", "..."] {
            assert!(default_folder(bad).is_err(), "{bad:?}");
        }
        assert!(default_folder("..").unwrap_err().contains("--out"));
    }

    #[test]
    fn long_or_garbled_names_are_refused_with_the_reason() {
        assert!(check_name(&"x".repeat(MAX_NAME_CHARS)).is_ok());
        let long = check_name(&"x".repeat(10_000)).unwrap_err();
        assert!(long.contains("10000 characters") && long.contains("at most 100"), "{long}");
        assert!(check_name("a\nb").unwrap_err().contains("control character"));
        assert_eq!(check_name("").unwrap_err(), "must not be empty");
    }
}
