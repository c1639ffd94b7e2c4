//! The worker timeline of one run, as HpBandSter's and Syne Tune's users know it: one row per
//! worker, one bar per launch of a trial (its consecutive steps on that worker) from when it
//! started to when it last reported, coloured by the fidelity it reached (a sequential scale,
//! logarithmic in the fidelity), with a dark end where the trial was stopped there; white gaps
//! are idle workers (and launch overhead), and a trial paused and resumed later appears as
//! several bars.

use super::{Figure, LegendEntry, err, with_legend};
use crate::style::{FONT, Look};
use hposim_core::TrialOutcome;
use plotters::coord::Shift;
use plotters::prelude::*;

/// One launch: a trial's consecutive steps on a worker.
#[derive(Clone, Debug, PartialEq)]
pub struct Launch {
    /// The worker.
    pub worker: u32,
    /// When its first step started (seconds).
    pub start: f64,
    /// When its last step ended (seconds).
    pub end: f64,
    /// The fidelity it reached.
    pub fidelity: u32,
    /// The decision after its last step.
    pub end_decision: TrialOutcome,
}

/// The launches of a trace given as rows `(trial, worker, step, start, end, decision)` in order
/// of completion: a launch ends at a decision other than `continue`, or where the trial's next
/// step runs on another worker.
pub fn launches(rows: impl Iterator<Item = (u32, u32, u32, f64, f64, TrialOutcome)>) -> Vec<Launch> {
    let mut open: std::collections::HashMap<u32, Launch> = std::collections::HashMap::new();
    let mut done = Vec::new();
    for (trial, worker, step, start, end, decision) in rows {
        match open.get_mut(&trial) {
            Some(l) if l.worker == worker => {
                l.end = end;
                l.fidelity = step;
                l.end_decision = decision;
            }
            _ => {
                if let Some(previous) = open.remove(&trial) {
                    done.push(previous);
                }
                open.insert(trial, Launch { worker, start, end, fidelity: step, end_decision: decision });
            }
        }
        if decision != TrialOutcome::Continue
            && let Some(l) = open.remove(&trial)
        {
            done.push(l);
        }
    }
    done.extend(open.into_values());
    done.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.worker.cmp(&b.worker)));
    done
}

/// A sequential colour scale from light yellow-green to dark purple (sampled from viridis, van der
/// Walt & Smith 2015: perceptually uniform and readable in greyscale), at `t ∈ [0, 1]`.
pub fn sequential(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 6] = [(253, 231, 37), (122, 209, 81), (34, 168, 132), (42, 120, 142), (65, 68, 135), (68, 1, 84)];
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 } * (STOPS.len() - 1) as f64;
    let i = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - i as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + f * (f64::from(b) - f64::from(a))).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// The timeline figure.
#[derive(Clone, Debug)]
pub struct TimelineFigure {
    /// Title.
    pub title: String,
    /// Workers (rows).
    pub workers: u32,
    /// Full fidelity.
    pub max_fidelity: u32,
    /// What one fidelity step is.
    pub unit: String,
    /// The x axis label's clock ("simulated wall clock" or "wall clock").
    pub clock: String,
    /// The launches.
    pub launches: Vec<Launch>,
}

impl TimelineFigure {
    fn shade(&self, fidelity: u32) -> RGBColor {
        let max = f64::from(self.max_fidelity.max(2));
        sequential(f64::from(fidelity.max(1)).ln() / max.ln())
    }
}

impl Figure for TimelineFigure {
    fn size(&self, look: &Look) -> (u32, u32) {
        let legend = if look.legend_below { look.px(70) } else { 0 };
        (look.width, (look.px(120) + look.px(26) * self.workers.max(1)).min(look.px(700)) + legend)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, look: &Look) -> Result<(), String> {
        // The legend: the fidelities launches most often end at (the rungs), at most six.
        let mut ends: std::collections::BTreeMap<u32, usize> = std::collections::BTreeMap::new();
        for l in &self.launches {
            *ends.entry(l.fidelity).or_default() += 1;
        }
        let mut common: Vec<(u32, usize)> = ends.into_iter().collect();
        common.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut shown: Vec<u32> = common.iter().take(6).map(|c| c.0).collect();
        shown.sort_unstable();
        let mut legend: Vec<LegendEntry> =
            shown.iter().map(|&f| LegendEntry::Swatch(format!("{} {f}", self.unit), self.shade(f))).collect();
        legend.push(LegendEntry::Swatch("stopped here".into(), RGBColor(0, 0, 0)));
        let plot = with_legend(area, look, &legend)?;
        let horizon = self.launches.iter().map(|l| l.end).fold(0.0f64, f64::max);
        let (unit, seconds) = crate::style::time_unit(horizon);
        let x_max = (horizon / seconds).max(1e-9) * 1.01;
        let rows = f64::from(self.workers.max(1));
        let mut chart = ChartBuilder::on(&plot)
            .caption(self.title.as_str(), (FONT, look.title))
            .margin(look.px(12))
            .x_label_area_size(look.px(44))
            .y_label_area_size(look.px(60))
            .build_cartesian_2d(0.0..x_max, -0.5..rows - 0.5)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(format!("{} ({unit})", self.clock))
            .y_desc("worker")
            .label_style((FONT, look.tick))
            .axis_desc_style((FONT, look.axis))
            .y_labels(self.workers.max(1) as usize)
            .y_label_formatter(&|v| if (v - v.round()).abs() < 1e-9 && *v >= 0.0 { format!("{}", v.round()) } else { String::new() })
            .disable_y_mesh()
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.08))
            .draw()
            .map_err(err)?;
        let stop_width = x_max * 0.003;
        for l in &self.launches {
            let (x0, x1, y) = (l.start / seconds, l.end / seconds, f64::from(l.worker));
            chart
                .draw_series(std::iter::once(Rectangle::new([(x0, y - 0.38), (x1, y + 0.38)], self.shade(l.fidelity).filled())))
                .map_err(err)?;
            // A white edge separates one launch from the next on the same worker.
            chart
                .draw_series(std::iter::once(Rectangle::new([(x0, y - 0.38), (x1, y + 0.38)], ShapeStyle::from(&WHITE).stroke_width(1))))
                .map_err(err)?;
            if matches!(l.end_decision, TrialOutcome::Stop) {
                let from = (x1 - stop_width).max(x0);
                chart.draw_series(std::iter::once(Rectangle::new([(from, y - 0.38), (x1, y + 0.38)], BLACK.filled()))).map_err(err)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TrialOutcome::{Continue, Done, Pause, Stop};

    #[test]
    fn a_launch_ends_at_a_decision_or_a_change_of_worker() {
        let rows = [
            (0, 0, 1, 0.0, 1.0, Continue),
            (1, 1, 1, 0.0, 1.0, Pause),
            (0, 0, 2, 1.0, 2.0, Pause),
            (1, 0, 2, 3.0, 4.0, Stop),
            (0, 1, 3, 4.0, 5.0, Continue),
            (0, 1, 4, 5.0, 6.0, Done),
        ];
        let l = launches(rows.into_iter());
        assert_eq!(
            l,
            vec![
                Launch { worker: 0, start: 0.0, end: 2.0, fidelity: 2, end_decision: Pause },
                Launch { worker: 1, start: 0.0, end: 1.0, fidelity: 1, end_decision: Pause },
                Launch { worker: 0, start: 3.0, end: 4.0, fidelity: 2, end_decision: Stop },
                Launch { worker: 1, start: 4.0, end: 6.0, fidelity: 4, end_decision: Done },
            ]
        );
        assert_eq!(sequential(0.0), RGBColor(253, 231, 37));
        assert_eq!(sequential(1.0), RGBColor(68, 1, 84));
    }
}
