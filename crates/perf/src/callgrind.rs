//! Counting a benchmark's instructions with valgrind's callgrind.
//!
//! The gate runs this very binary under callgrind once per benchmark (`measure NAME`), with
//! collection off at start and toggled on and off by the entry and exit of one function,
//! [`region`] (`--collect-atstart=no --toggle-collect=hposim_bench_region`, callgrind manual
//! §6.3, "Limiting the range of collected events"). Set-up, start-up and exit are not counted;
//! the count is the `Ir` total (instructions executed) of the output file's `totals:` line
//! (`summary:` in older valgrinds). Instruction counts do not depend on the machine's load or
//! clock, which is what makes a gate on a shared 2-core machine trustworthy (wall-clock timings
//! there vary 2–3× from run to run). Valgrind runs the program on one simulated CPU whose
//! features it fixes, so the C library picks the same string routines on every host.
//!
//! This is what the `gungraun` harness does underneath; doing it directly keeps the gate to one
//! binary built with the workspace (gungraun's runner must be installed at exactly the library's
//! version, a separate cold build of 44 crates) and its baselines to one small JSON file.

use std::path::Path;
use std::process::Command;

/// The name the toggle matches: [`region`]'s unmangled symbol.
pub const REGION_SYMBOL: &str = "hposim_bench_region";

/// Runs `work` as the counted region and returns its units. Never inlined and never mangled,
/// so callgrind finds it by name.
// `no_mangle` is an unsafe attribute (it could clash with another symbol of that name); this
// one name is unique to this binary, and nothing here is unsafe beyond naming it.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
#[inline(never)]
pub fn hposim_bench_region(work: &mut dyn FnMut() -> u64) -> u64 {
    std::hint::black_box(work())
}

/// Runs `work` inside the counted region.
pub fn region(work: &mut dyn FnMut() -> u64) -> u64 {
    hposim_bench_region(work)
}

/// What one benchmark counted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Count {
    /// Instructions executed inside the region.
    pub instructions: u64,
    /// Units of work the region did (epochs, calls).
    pub units: u64,
}

/// Runs benchmark `name` of the executable `exe` under callgrind, writing its profile to `out`
/// (kept for `callgrind_annotate`), and returns its count.
pub fn count(exe: &Path, name: &str, out: &Path) -> Result<Count, String> {
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg("--collect-atstart=no")
        .arg(format!("--toggle-collect={REGION_SYMBOL}"))
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(exe)
        .args(["measure", name])
        // One thread for polars and rayon: a thread pool's spinning would count differently
        // from run to run.
        .env("POLARS_MAX_THREADS", "1")
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .map_err(|e| format!("cannot run valgrind ({e}); install it (Debian: apt-get install valgrind)"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(12).collect();
        return Err(format!("{name}: valgrind exited with {}:\n{}", output.status, tail.into_iter().rev().collect::<Vec<_>>().join("\n")));
    }
    let units = String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("units: ").and_then(|v| v.trim().parse::<u64>().ok()))
        .ok_or_else(|| format!("{name}: the benchmark did not report its units of work"))?;
    let text = std::fs::read_to_string(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let instructions = total_instructions(&text).ok_or_else(|| format!("{}: no totals line in callgrind's output", out.display()))?;
    if instructions == 0 || units == 0 {
        return Err(format!(
            "{name}: counted {instructions} instructions for {units} units: the region did not run (is `{REGION_SYMBOL}` in the binary?)"
        ));
    }
    Ok(Count { instructions, units })
}

/// The `Ir` total of a callgrind output file: the `totals:` line (or `summary:`), first event.
pub fn total_instructions(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("totals:")).or_else(|| text.lines().find(|l| l.starts_with("summary:")))?;
    line.split_once(':')?.1.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::total_instructions;

    #[test]
    fn the_totals_line_gives_the_instruction_count() {
        // The head and tail of a callgrind.out written by valgrind 3.24 with the default event.
        let text = "# callgrind format\nversion: 1\ncreator: callgrind-3.24.0\npid: 42\ncmd:  ./a.out measure x\npart: 1\n\n\
                    desc: I1 cache: \nevents: Ir\n\nfl=(1) ???\nfn=(1) hposim_bench_region\n16 3\n\ntotals: 123456789\n";
        assert_eq!(total_instructions(text), Some(123_456_789));
        assert_eq!(total_instructions("events: Ir\nsummary: 77 5\n"), Some(77));
        assert_eq!(total_instructions("events: Ir\n"), None);
        assert_eq!(total_instructions("totals: many\n"), None);
    }
}
