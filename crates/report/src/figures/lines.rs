//! Line figures with optional confidence bands: anytime regret, average rank over time, the
//! fixed-target ECDF. Logarithmic axes are drawn by plotting log10 of the values on a linear
//! axis with labels 10^x, which keeps one code path for every axis kind.

use super::{Figure, err};
use crate::style::{FONT, color};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One line.
#[derive(Clone, Debug)]
pub struct Line {
    /// Legend entry.
    pub name: String,
    /// Colour index (the strategy's position in the experiment).
    pub color: usize,
    /// Points (x, y); non-finite ones break the line.
    pub points: Vec<(f64, f64)>,
    /// Band (x, low, high), drawn shaded under the line.
    pub band: Vec<(f64, f64, f64)>,
}

/// A figure of lines.
#[derive(Clone, Debug)]
pub struct LineFigure {
    /// Title.
    pub title: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// Logarithmic x axis.
    pub log_x: bool,
    /// Logarithmic y axis.
    pub log_y: bool,
    /// Fixed y range, if any (else from the data).
    pub y_range: Option<(f64, f64)>,
    /// The lines.
    pub lines: Vec<Line>,
    /// A note printed under the title, if any.
    pub note: Option<String>,
}

fn tf(log: bool, v: f64) -> f64 {
    if log { if v > 0.0 { v.log10() } else { f64::NAN } } else { v }
}

fn label(log: bool, v: f64) -> String {
    if log {
        let x = 10f64.powf(v);
        if (0.01..1000.0).contains(&x) { format!("{}", (x * 1000.0).round() / 1000.0) } else { format!("{x:.0e}") }
    } else if v.abs() >= 1000.0 || (v != 0.0 && v.abs() < 0.01) {
        format!("{v:.2e}")
    } else {
        format!("{}", (v * 1000.0).round() / 1000.0)
    }
}

impl LineFigure {
    fn range(&self, pick: impl Fn(&Line) -> Vec<f64>, log: bool) -> (f64, f64) {
        let values: Vec<f64> = self.lines.iter().flat_map(pick).map(|v| tf(log, v)).filter(|v| v.is_finite()).collect();
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if !lo.is_finite() || !hi.is_finite() {
            return (0.0, 1.0);
        }
        let pad = if hi > lo { 0.04 * (hi - lo) } else { 0.5 };
        (lo - pad, hi + pad)
    }
}

impl Figure for LineFigure {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let (x0, x1) = self.range(|l| l.points.iter().map(|p| p.0).collect(), self.log_x);
        let (y0, y1) = match self.y_range {
            Some((a, b)) => (tf(self.log_y, a), tf(self.log_y, b)),
            None => self.range(|l| l.points.iter().map(|p| p.1).chain(l.band.iter().flat_map(|b| [b.1, b.2])).collect(), self.log_y),
        };
        let title = match &self.note {
            Some(n) => format!("{}  ({n})", self.title),
            None => self.title.clone(),
        };
        let mut chart = ChartBuilder::on(area)
            .caption(title, (FONT, 20))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(err)?;
        let (log_x, log_y) = (self.log_x, self.log_y);
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 15))
            .x_label_formatter(&|v| label(log_x, *v))
            .y_label_formatter(&|v| label(log_y, *v))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        for line in &self.lines {
            let c = color(line.color);
            let band: Vec<(f64, f64, f64)> = line
                .band
                .iter()
                .map(|&(x, lo, hi)| (tf(log_x, x), tf(log_y, lo), tf(log_y, hi)))
                .filter(|b| b.0.is_finite() && b.1.is_finite() && b.2.is_finite())
                .collect();
            if band.len() >= 2 {
                let mut polygon: Vec<(f64, f64)> = band.iter().map(|b| (b.0, b.1)).collect();
                polygon.extend(band.iter().rev().map(|b| (b.0, b.2)));
                chart.draw_series(std::iter::once(Polygon::new(polygon, c.mix(0.15).filled()))).map_err(err)?;
            }
            // Split the line where a point is missing.
            let mut segments: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
            for &(x, y) in &line.points {
                let (x, y) = (tf(log_x, x), tf(log_y, y));
                if x.is_finite() && y.is_finite() {
                    if let Some(s) = segments.last_mut() {
                        s.push((x, y));
                    }
                } else if segments.last().is_some_and(|s| !s.is_empty()) {
                    segments.push(Vec::new());
                }
            }
            let style = ShapeStyle::from(&c).stroke_width(2);
            let mut first = true;
            for segment in segments.into_iter().filter(|s| !s.is_empty()) {
                let series = chart.draw_series(LineSeries::new(segment, style)).map_err(err)?;
                if first {
                    series.label(line.name.clone()).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
                    first = false;
                }
            }
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .label_font((FONT, 13))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(err)?;
        Ok(())
    }
}
