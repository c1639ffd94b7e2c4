//! `hposim hypervolume POINTS.csv --reference R1,R2,... [--maximize NAME,...]`: the hypervolume
//! of a CSV of points (one column per objective, a header row of names), printed with full
//! precision, then the 0-based rows of the non-dominated points, one per line.

use anyhow::{Context, Result, bail};
use hposim_core::Direction;
use hposim_eval::hypervolume::hypervolume;
use hposim_eval::non_dominated::non_dominated;
use std::path::Path;

/// Reads `file`, computes and prints.
pub fn print(file: &Path, reference: &str, maximize: &[String]) -> Result<()> {
    let text = hposim_core::input::read_text(file).with_context(|| format!("reading {}", file.display()))?;
    // A byte-order mark (as spreadsheet exports write) is not part of the first name.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let Some((header_line, header)) = lines.next() else {
        bail!("{}: empty file; expected a header row of objective names", file.display())
    };
    let names: Vec<String> = header.split(',').map(|n| n.trim().trim_matches('"').to_owned()).collect();
    if names.iter().any(String::is_empty) {
        bail!("{}: line {}: an objective name is empty", file.display(), header_line + 1);
    }
    if let Some(name) = names.iter().enumerate().find_map(|(i, n)| names[..i].contains(n).then_some(n)) {
        bail!("{}: line {}: objective {name:?} is named twice", file.display(), header_line + 1);
    }
    let maximize: Vec<String> = maximize.iter().map(|m| m.trim().to_owned()).collect();
    let reference: Vec<f64> = reference
        .split(',')
        .enumerate()
        .map(|(i, v)| {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .with_context(|| format!("--reference: coordinate {} ({v:?}) is not a finite number", i + 1))
        })
        .collect::<Result<_>>()?;
    if reference.len() != names.len() {
        bail!("--reference: {} coordinates, but {} has {} objectives ({})", reference.len(), file.display(), names.len(), names.join(", "));
    }
    for name in &maximize {
        if !names.contains(name) {
            bail!("--maximize: {name:?} is not an objective of {} (its objectives: {})", file.display(), names.join(", "));
        }
    }
    let directions: Vec<Direction> =
        names.iter().map(|n| if maximize.contains(n) { Direction::Maximize } else { Direction::Minimize }).collect();
    let mut points = Vec::new();
    for (line, row) in lines {
        let values: Vec<&str> = row.split(',').collect();
        if values.len() != names.len() {
            bail!("{}: line {}: {} values, but the header names {} objectives", file.display(), line + 1, values.len(), names.len());
        }
        let point = values
            .iter()
            .zip(&names)
            .map(|(v, name)| {
                v.trim()
                    .trim_matches('"')
                    .parse::<f64>()
                    .ok()
                    .filter(|x| !x.is_nan())
                    .with_context(|| format!("{}: line {}, column {name}: {:?} is not a number", file.display(), line + 1, v.trim()))
            })
            .collect::<Result<Vec<f64>>>()?;
        points.push(point);
    }
    let result = hypervolume(&points, &reference, &directions).with_context(|| format!("{}", file.display()))?;
    // Non-dominated sorting minimises: maximised objectives are negated.
    let minimised: Vec<Vec<f64>> = points.iter().map(|p| p.iter().zip(&directions).map(|(v, d)| d.sign() * v).collect()).collect();
    println!("{}", result.volume);
    for index in non_dominated(&minimised) {
        println!("{index}");
    }
    if result.outside > 0 {
        eprintln!(
            "note: {} of {} points are not strictly better than the reference point in every objective and add no volume",
            result.outside,
            points.len()
        );
    }
    Ok(())
}
