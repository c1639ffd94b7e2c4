//! The rung diagram of one early-termination run: each trial is a vertical line at the moment
//! it started, from fidelity 1 up to the highest fidelity it reached, with a marker where it
//! was paused (a rung it waited or was promoted from: circle), stopped (cross) or finished
//! (filled dot). Read bottom-up, it shows which trials were promoted to which rung and when;
//! HyperBand's brackets appear as waves of many short trials followed by few long ones.

use super::{Figure, err};
use crate::style::{FONT, color};
use hposim_core::TrialOutcome;
use plotters::coord::Shift;
use plotters::prelude::*;

/// One trial's course.
#[derive(Clone, Debug)]
pub struct TrialLine {
    /// When the trial first started (hours).
    pub start: f64,
    /// Fidelities where a decision other than `continue` was taken, with that decision.
    pub marks: Vec<(u32, TrialOutcome)>,
    /// Highest fidelity reached.
    pub top: u32,
}

/// The rung diagram.
#[derive(Clone, Debug)]
pub struct RungFigure {
    /// Title.
    pub title: String,
    /// Colour index of the strategy.
    pub color: usize,
    /// Full fidelity.
    pub max_fidelity: u32,
    /// Unit of the fidelity (e.g. epochs).
    pub unit: String,
    /// The trials.
    pub trials: Vec<TrialLine>,
}

impl Figure for RungFigure {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let t_max = self.trials.iter().map(|t| t.start).fold(0.0f64, f64::max).max(1e-9) * 1.03;
        let y_max = f64::from(self.max_fidelity.max(2)).log10() * 1.05;
        let mut chart = ChartBuilder::on(area)
            .caption(self.title.as_str(), (FONT, 20))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.01 * t_max..t_max, -0.05..y_max)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("simulated hours: when the trial started")
            .y_desc(format!("{} reached (log scale)", self.unit))
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 15))
            .y_label_formatter(&|v| format!("{}", 10f64.powf(*v).round()))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        let c = color(self.color);
        let line = ShapeStyle::from(&c.mix(0.5)).stroke_width(1);
        let log = |f: u32| f64::from(f.max(1)).log10();
        chart.draw_series(self.trials.iter().map(|t| PathElement::new(vec![(t.start, 0.0), (t.start, log(t.top))], line))).map_err(err)?;
        for t in &self.trials {
            for &(f, outcome) in &t.marks {
                let at = (t.start, log(f));
                match outcome {
                    TrialOutcome::Pause => chart.draw_series(std::iter::once(Circle::new(at, 3, ShapeStyle::from(&c).stroke_width(1)))),
                    TrialOutcome::Stop | TrialOutcome::Cut => {
                        chart.draw_series(std::iter::once(Cross::new(at, 3, ShapeStyle::from(&BLACK.mix(0.7)))))
                    }
                    _ => chart.draw_series(std::iter::once(Circle::new(at, 3, c.filled()))),
                }
                .map_err(err)?;
            }
        }
        Ok(())
    }
}
