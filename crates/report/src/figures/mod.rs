//! Figures: each is drawn once by code generic over the plotters backend and saved as PNG and
//! SVG.

pub mod critical_difference;
pub mod lines;
pub mod rungs;
pub mod speedup;
pub mod utilisation;

use crate::style::{SIZE, register_fonts};
use plotters::coord::Shift;
use plotters::prelude::{BitMapBackend, DrawingArea, DrawingBackend, IntoDrawingArea, SVGBackend, WHITE};
use std::path::{Path, PathBuf};

/// A figure, drawable on any backend.
pub trait Figure {
    /// Draws the figure on `area`; errors are described in words.
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String>;

    /// Its size in pixels.
    fn size(&self) -> (u32, u32) {
        SIZE
    }
}

/// Turns a drawing error into words.
pub(crate) fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// Saves `figure` as `<dir>/<stem>.png` and `<dir>/<stem>.svg`, returning both paths.
pub fn save(figure: &impl Figure, dir: &Path, stem: &str) -> Result<(PathBuf, PathBuf), String> {
    register_fonts();
    let png = dir.join(format!("{stem}.png"));
    let svg = dir.join(format!("{stem}.svg"));
    let size = figure.size();
    {
        let area = BitMapBackend::new(&png, size).into_drawing_area();
        area.fill(&WHITE).map_err(err)?;
        figure.draw(&area)?;
        area.present().map_err(|e| format!("{}: {e:?}", png.display()))?;
    }
    {
        let area = SVGBackend::new(&svg, size).into_drawing_area();
        area.fill(&WHITE).map_err(err)?;
        figure.draw(&area)?;
        area.present().map_err(|e| format!("{}: {e:?}", svg.display()))?;
    }
    Ok((png, svg))
}
