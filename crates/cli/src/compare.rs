//! `hposim compare BASE NEW` and `hposim digest`: the pairs of two results directories (or
//! their digests), tested for a change ([`hposim_eval::compare`]); a non-zero exit when any
//! pair got significantly worse.

use anyhow::{Context, Result, bail};
use hposim_core::input::read_text;
use hposim_eval::compare::{CompareOptions, Digest, compare as compare_digests, digest, markdown};
use hposim_eval::{Convention, load};
use std::path::Path;

/// The digest of `path`: read from a digest file, or made from a results directory.
fn digest_of(path: &Path, role: &str, convention: Convention) -> Result<Digest> {
    if path.is_dir() {
        let results = load(path).with_context(|| format!("reading {role} {}", path.display()))?;
        return Ok(digest(&results, convention));
    }
    let text = read_text(path).with_context(|| format!("reading {role} {}", path.display()))?;
    let mut read: Digest = serde_json::from_str(&text)
        .with_context(|| format!("{role} {}: neither a results directory nor a digest (hposim digest)", path.display()))?;
    read.source = format!("{} (digest of {})", path.display(), read.source);
    Ok(read)
}

/// Compares `new` with `base`, prints the table (and writes it as JSON to `json`), and fails
/// when a pair got worse by more than `tolerance`.
pub fn compare(base: &Path, new: &Path, tolerance: f64, convention: &str, json: Option<&Path>) -> Result<()> {
    if !(tolerance.is_finite() && tolerance >= 0.0) {
        bail!("--tolerance {tolerance}: give a non-negative number (a difference of median scores in the benchmark's measure)");
    }
    let convention = Convention::from_name(convention);
    let (base_digest, new_digest) = (digest_of(base, "BASE", convention)?, digest_of(new, "NEW", convention)?);
    let options = CompareOptions { convention, tolerance, ..CompareOptions::default() };
    let comparison = compare_digests(&base_digest, &new_digest, &options).map_err(anyhow::Error::msg)?;
    if comparison.pairs.is_empty() {
        bail!("{} and {} share no benchmark × strategy pair with finished cells", base.display(), new.display());
    }
    if let (Some(a), Some(b)) = (&base_digest.experiment, &new_digest.experiment)
        && a != b
    {
        println!("note: BASE ran experiment {a:?} and NEW {b:?}; pairs are matched by benchmark and strategy name\n");
    }
    print!("{}", markdown(&comparison));
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&comparison)? + "\n";
        hposim_results::write_atomically(path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    }
    let worse: Vec<String> = comparison.regressions().map(|p| format!("{} on {}", p.strategy, p.benchmark)).collect();
    if !worse.is_empty() {
        bail!("{} pair(s) got significantly worse beyond the tolerance {tolerance}: {}", worse.len(), worse.join(", "));
    }
    Ok(())
}

/// Writes the digest of the results directory `results` to `out`.
pub fn write_digest(results: &Path, out: &Path, convention: &str) -> Result<()> {
    let loaded = load(results).with_context(|| format!("reading {}", results.display()))?;
    let mut made = digest(&loaded, Convention::from_name(convention));
    // The source as given, so that a committed digest does not carry a machine's paths.
    made.source = results.display().to_string();
    let text = serde_json::to_string(&made)? + "\n";
    hposim_results::write_atomically(out, text.as_bytes()).with_context(|| format!("writing {}", out.display()))?;
    println!("{}: {} cells digested into {} ({} bytes)", results.display(), made.cells.len(), out.display(), text.len());
    Ok(())
}
