//! Figures: each is drawn once by code generic over the plotters backend and saved as PNG and
//! SVG.

pub mod critical_difference;
pub mod lineage;
pub mod lines;
pub mod rungs;
pub mod speedup;
pub mod utilisation;

use crate::style::{FONT, SIZE, register_fonts};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::{
    BitMapBackend, Cartesian2d, ChartBuilder, ChartContext, Color, DrawingArea, DrawingBackend, IntoDrawingArea, SVGBackend, WHITE,
};
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

/// The chart of a horizontal bar figure: the x axis from 0 to `x_max` labelled `x_label`, and
/// one row per entry of `labels`, top to bottom, named on the y axis. Bar `i` spans
/// `y ∈ [n − i − 1, n − i]`.
pub(crate) fn horizontal_bars<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    title: &str,
    x_label: &str,
    labels: &[String],
    x_max: f64,
) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>, String> {
    let n = labels.len().max(1) as f64;
    let x_max = if x_max > 0.0 && x_max.is_finite() { x_max } else { 1.0 };
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 20))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(300)
        .build_cartesian_2d(0.0..x_max, 0.0..n)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        .y_labels(labels.len().max(1) * 2 + 1)
        .y_label_formatter(&|y| {
            // Labels sit at bar centres (index + 0.5), counted from the top.
            let i = (n - y - 0.5).round();
            if ((n - y - 0.5) - i).abs() < 1e-6 && i >= 0.0 { labels.get(i as usize).cloned().unwrap_or_default() } else { String::new() }
        })
        .disable_y_mesh()
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(err)?;
    Ok(chart)
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
