//! Worker utilisation: per (benchmark, strategy), the median worker-hours spent training and
//! idle, stacked. Synchronous successive halving and HyperBand leave workers idle while a rung
//! fills; ASHA was invented to remove exactly that (Li et al., MLSys 2020).

use super::{Figure, err, horizontal_bars};
use crate::style::{Look, color};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One stacked bar.
#[derive(Clone, Debug)]
pub struct Usage {
    /// Label.
    pub label: String,
    /// Colour index.
    pub color: usize,
    /// Time busy, in the figure's unit.
    pub busy: f64,
    /// Time idle, in the figure's unit.
    pub idle: f64,
}

/// The utilisation figure.
#[derive(Clone, Debug)]
pub struct UtilisationFigure {
    /// Title.
    pub title: String,
    /// The unit of the bars ("worker-hours", "worker-minutes", ...).
    pub unit: String,
    /// Bars, top to bottom.
    pub bars: Vec<Usage>,
}

impl Figure for UtilisationFigure {
    fn size(&self, look: &Look) -> (u32, u32) {
        (look.width, look.px(140) + look.px(24) * self.bars.len().max(1) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, look: &Look) -> Result<(), String> {
        let n = self.bars.len().max(1) as f64;
        let hi = self.bars.iter().map(|b| b.busy + b.idle).filter(|v| v.is_finite()).fold(0.0f64, f64::max) * 1.05;
        let labels: Vec<String> = self.bars.iter().map(|b| b.label.clone()).collect();
        let x_label = format!("{} (median over seeds): training (solid), idle (light)", self.unit);
        let mut chart = horizontal_bars(area, look, &self.title, &x_label, &labels, hi)?;
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
