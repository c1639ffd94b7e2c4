//! Line figures with optional confidence bands: anytime performance, average rank over time,
//! the fixed-target ECDF. Logarithmic axes are drawn by plotting log10 of the values on a linear
//! axis with 1-2-5 ticks per decade, which keeps one code path for every axis kind. Each
//! strategy has its colour, line style and marker; the legend sits outside the plot.

use super::{Figure, LegendEntry, custom_ticks, draw_strategy_line, err, with_legend};
use crate::style::{FONT, Look, color, tick_label};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One line.
#[derive(Clone, Debug)]
pub struct Line {
    /// Legend entry.
    pub name: String,
    /// Style index (the strategy's position in the experiment): colour, line style, marker.
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
    /// A note printed in grey at the top right of the plot, if any.
    pub note: Option<String>,
}

fn tf(log: bool, v: f64) -> f64 {
    if log { if v > 0.0 { v.log10() } else { f64::NAN } } else { v }
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

/// 1-2-5 ticks of a logarithmic axis spanning `[lo, hi]` in log10 space, as chart positions.
fn log_axis_ticks(lo: f64, hi: f64) -> Vec<(f64, String)> {
    crate::style::log_ticks(10f64.powf(lo), 10f64.powf(hi), 12).into_iter().map(|v| (v.log10(), crate::style::log_label(v))).collect()
}

impl Figure for LineFigure {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, look: &Look) -> Result<(), String> {
        let (x0, x1) = self.range(|l| l.points.iter().map(|p| p.0).collect(), self.log_x);
        let (y0, y1) = match self.y_range {
            Some((a, b)) => (tf(self.log_y, a), tf(self.log_y, b)),
            None => self.range(|l| l.points.iter().map(|p| p.1).chain(l.band.iter().flat_map(|b| [b.1, b.2])).collect(), self.log_y),
        };
        let entries: Vec<LegendEntry> = self.lines.iter().map(|l| LegendEntry::Line(l.name.clone(), l.color)).collect();
        let plot = with_legend(area, look, &entries)?;
        let mut builder = ChartBuilder::on(&plot);
        builder
            .caption(self.title.as_str(), (FONT, look.title))
            .margin(look.px(12))
            .x_label_area_size(look.px(44))
            .y_label_area_size(look.px(70));
        let mut chart = builder.build_cartesian_2d(x0..x1, y0..y1).map_err(err)?;
        let (log_x, log_y) = (self.log_x, self.log_y);
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .label_style((FONT, look.tick))
            .axis_desc_style((FONT, look.axis))
            .x_label_formatter(&|v| tick_label(*v))
            .y_label_formatter(&|v| tick_label(*v))
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.12));
        // Logarithmic axes get 1-2-5 ticks of their own (below); plotters' would fall at
        // arbitrary values such as 0.158.
        if log_x {
            mesh.x_labels(0).disable_x_mesh();
        }
        if log_y {
            mesh.y_labels(0).disable_y_mesh();
        }
        mesh.draw().map_err(err)?;
        if log_x {
            custom_ticks(&plot, &chart, look, false, &log_axis_ticks(x0, x1))?;
        }
        if log_y {
            custom_ticks(&plot, &chart, look, true, &log_axis_ticks(y0, y1))?;
        }
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
                chart.draw_series(std::iter::once(Polygon::new(polygon, c.mix(0.12).filled()))).map_err(err)?;
            }
        }
        for line in &self.lines {
            let points: Vec<(f64, f64)> = line.points.iter().map(|&(x, y)| (tf(log_x, x), tf(log_y, y))).collect();
            draw_strategy_line(&mut chart, look, line.color, &points)?;
        }
        if let Some(note) = &self.note {
            let grey = BLACK.mix(0.6);
            let style = TextStyle::from((FONT, look.tick).into_font()).color(&grey).pos(Pos::new(HPos::Right, VPos::Top));
            let (w, _) = plot.dim_in_pixel();
            plot.draw(&Text::new(note.clone(), (w as i32 - look.px(14) as i32, look.px(12) as i32 + look.title as i32 + 4), style))
                .map_err(err)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_ticks_read_as_people_write_them() {
        assert_eq!(
            [0.0, 0.25, 2.0, 1234.5678, 0.0001, 250000.0].map(tick_label),
            ["0", "0.25", "2", "1234.5678", "1.0e-4", "2.5e5"].map(String::from)
        );
        let ticks: Vec<String> = log_axis_ticks(0.1f64.log10(), 3.5f64.log10()).into_iter().map(|t| t.1).collect();
        assert_eq!(ticks, ["0.1", "0.2", "0.5", "1", "2"]);
    }
}
