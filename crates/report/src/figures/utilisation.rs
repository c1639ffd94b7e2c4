//! Worker utilisation: per (benchmark, strategy), the median worker-hours spent training and
//! idle, stacked. Synchronous successive halving and HyperBand leave workers idle while a rung
//! fills; ASHA was invented to remove exactly that (Li et al., MLSys 2020).

use super::{Figure, err};
use crate::style::{FONT, color};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One stacked bar.
#[derive(Clone, Debug)]
pub struct Usage {
    /// Label.
    pub label: String,
    /// Colour index.
    pub color: usize,
    /// Worker-hours busy.
    pub busy: f64,
    /// Worker-hours idle.
    pub idle: f64,
}

/// The utilisation figure.
#[derive(Clone, Debug)]
pub struct UtilisationFigure {
    /// Title.
    pub title: String,
    /// Bars, top to bottom.
    pub bars: Vec<Usage>,
}

impl Figure for UtilisationFigure {
    fn size(&self) -> (u32, u32) {
        (960, 140 + 24 * self.bars.len().max(1) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let n = self.bars.len().max(1) as f64;
        let hi = self.bars.iter().map(|b| b.busy + b.idle).filter(|v| v.is_finite()).fold(0.0f64, f64::max) * 1.05;
        let hi = if hi > 0.0 { hi } else { 1.0 };
        let labels: Vec<String> = self.bars.iter().map(|b| b.label.clone()).collect();
        let mut chart = ChartBuilder::on(area)
            .caption(self.title.as_str(), (FONT, 20))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(300)
            .build_cartesian_2d(0.0..hi, 0.0..n)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("worker-hours (median over seeds): training (solid), idle (light)")
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 15))
            .y_labels(self.bars.len().max(1) * 2 + 1)
            .y_label_formatter(&|y| {
                let i = (n - y - 0.5).round();
                if ((n - y - 0.5) - i).abs() < 1e-6 && i >= 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .disable_y_mesh()
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        for (i, bar) in self.bars.iter().enumerate() {
            let y = n - i as f64 - 1.0;
            let c = color(bar.color);
            let busy = if bar.busy.is_finite() { bar.busy } else { 0.0 };
            let idle = if bar.idle.is_finite() { bar.idle.max(0.0) } else { 0.0 };
            chart.draw_series(std::iter::once(Rectangle::new([(0.0, y + 0.15), (busy, y + 0.85)], c.mix(0.85).filled()))).map_err(err)?;
            chart
                .draw_series(std::iter::once(Rectangle::new([(busy, y + 0.15), (busy + idle, y + 0.85)], c.mix(0.25).filled())))
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(busy, y + 0.15), (busy + idle, y + 0.85)],
                    ShapeStyle::from(&c).stroke_width(1),
                )))
                .map_err(err)?;
        }
        Ok(())
    }
}
