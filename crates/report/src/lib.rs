//! Reports for hposim: from an evaluation ([`hposim_eval::Analysis`]) of a results directory,
//! the figures (SVG drawn with plotters in an embedded font, converted to PDF and to PNG at twice
//! the size), the tables (CSV, from
//! polars data frames) and the report itself (`report.md` and a self-contained
//! `report.html`), whose first page answers "which strategy, and how much compute does it
//! save?".

pub mod document;
pub mod figures;
pub mod format;
mod sections;
pub mod style;

use hposim_eval::{Analysis, Results};
use std::path::{Path, PathBuf};

/// Where and how to write a report.
#[derive(Clone, Debug)]
pub struct ReportOptions {
    /// The directory to write into (created if needed).
    pub out_dir: PathBuf,
    /// The commands that reproduce the results and this report.
    pub reproduce: Vec<String>,
    /// Figure and font sizes ([`style::Look::SCREEN`], or [`style::Look::COLUMN`] for one
    /// column of a two-column paper).
    pub look: style::Look,
}

/// What a report wrote.
#[derive(Clone, Debug, Default)]
pub struct Written {
    /// `report.md`.
    pub markdown: PathBuf,
    /// `report.html`.
    pub html: PathBuf,
    /// Every figure file (SVG, PDF and PNG).
    pub figures: Vec<PathBuf>,
    /// Every table file (CSV).
    pub tables: Vec<PathBuf>,
}

/// A report that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be written.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        error: std::io::Error,
    },
    /// A figure could not be drawn.
    #[error("figure {stem}: {message}")]
    Figure {
        /// Its file stem.
        stem: String,
        /// The cause.
        message: String,
    },
    /// A table could not be built or written.
    #[error("table {name}: {message}")]
    Table {
        /// Its name.
        name: String,
        /// The cause.
        message: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |error| ReportError::Io { path: path.to_owned(), error }
}

/// Writes the report of `results` (analysed as `analysis`) under `options.out_dir`:
/// `report.md`, `report.html`, `figures/*.svg|pdf|png`, `tables/*.csv`.
pub fn write_report(results: &Results, analysis: &Analysis, options: &ReportOptions) -> Result<Written, ReportError> {
    let out = &options.out_dir;
    let figures_dir = out.join("figures");
    let tables_dir = out.join("tables");
    for dir in [out, &figures_dir, &tables_dir] {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let mut written = Written { markdown: out.join("report.md"), html: out.join("report.html"), ..Written::default() };
    written.tables = write_tables(results, analysis, &tables_dir)?;
    let (blocks, figures) = sections::build(results, analysis, &options.reproduce, &figures_dir, &options.look)?;
    written.figures = figures;
    std::fs::write(&written.markdown, document::markdown(&blocks)).map_err(io(&written.markdown))?;
    let title = format!("hposim report: {}", sections::experiment_name(results));
    std::fs::write(&written.html, document::html(&title, &blocks, &figures_dir)).map_err(io(&written.html))?;
    Ok(written)
}

fn write_tables(results: &Results, analysis: &Analysis, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    use hposim_eval::tables;
    let built = [
        ("verdict", tables::verdict(analysis)),
        ("strategies", tables::strategies(analysis)),
        ("trajectories", tables::trajectories(analysis)),
        ("anytime", tables::anytime(analysis)),
        ("ranks", tables::ranks(analysis)),
        ("ecdf", tables::ecdf(analysis)),
        ("ert", tables::ert(analysis)),
        ("wilcoxon", tables::wilcoxon(analysis)),
        ("friedman", tables::friedman(analysis)),
        ("missing", tables::missing(&results.missing)),
    ];
    let mut paths = Vec::new();
    for (name, frame) in built {
        let mut frame = frame.map_err(|e| ReportError::Table { name: name.to_owned(), message: e.to_string() })?;
        let path = dir.join(format!("{name}.csv"));
        tables::write_csv(&mut frame, &path).map_err(|message| ReportError::Table { name: name.to_owned(), message })?;
        paths.push(path);
    }
    Ok(paths)
}
