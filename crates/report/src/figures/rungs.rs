//! How many trials reached each rung of an early-termination strategy, and what became of them
//! there: one stacked bar per rung (the fidelities where the scheduler paused or stopped
//! trials, and full fidelity), split into the trials that went on to the next rung (promoted,
//! or continued), those paused there and never resumed, those stopped there, those that
//! finished (at full fidelity), and those that went on but ended before the next rung (cut by
//! the budget, diverged or failed); counts are means over the strategy's seeds. It answers the
//! question the rung diagrams of HpBandSter's and Syne Tune's plots answer (how aggressive is
//! the promotion, where do trials end) in a form that stays readable with thousands of trials.

use super::{Figure, LegendEntry, err, horizontal_bars, with_legend};
use crate::style::{Look, color};
use hposim_core::TrialOutcome;
use plotters::coord::Shift;
use plotters::prelude::*;

/// What became of the trials that reached one rung (means over seeds).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RungCount {
    /// The rung's fidelity.
    pub fidelity: u32,
    /// Went on to the next rung.
    pub went_on: f64,
    /// Paused here and never resumed.
    pub paused: f64,
    /// Stopped here.
    pub stopped: f64,
    /// Finished here (full fidelity).
    pub finished: f64,
    /// Went on past this rung but ended before the next (budget cut, divergence, failure).
    pub ended_between: f64,
}

impl RungCount {
    /// Trials that reached the rung.
    pub fn reached(&self) -> f64 {
        self.went_on + self.paused + self.stopped + self.finished + self.ended_between
    }
}

/// The most rungs a figure shows.
pub const MOST_RUNGS: usize = 12;

/// The rung counts of several runs of one strategy, each given as its trace rows
/// `(trial, step, decision)`; `max_fidelity` is always a rung. Counts are means over the runs.
pub fn rung_counts(runs: &[Vec<(u32, u32, TrialOutcome)>], max_fidelity: u32) -> Vec<RungCount> {
    // Rungs: the steps where trials were paused or stopped. A rule that decides at every step
    // (median stopping) would give one bar per step; the [`MOST_RUNGS`] − 1 steps where most
    // trials ended are kept, and the others count as between rungs.
    let mut ended: std::collections::BTreeMap<u32, usize> = std::collections::BTreeMap::new();
    for (_, step, d) in runs.iter().flatten() {
        if matches!(d, TrialOutcome::Pause | TrialOutcome::Stop) && *step < max_fidelity {
            *ended.entry(*step).or_default() += 1;
        }
    }
    let mut by_count: Vec<(u32, usize)> = ended.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut levels: Vec<u32> = by_count.iter().take(MOST_RUNGS - 1).map(|l| l.0).collect();
    levels.push(max_fidelity);
    levels.sort_unstable();
    levels.dedup();
    let mut counts: Vec<RungCount> = levels.iter().map(|&fidelity| RungCount { fidelity, ..RungCount::default() }).collect();
    let share = 1.0 / runs.len().max(1) as f64;
    for rows in runs {
        // Each trial's highest step and the decision taken there.
        let mut top: std::collections::BTreeMap<u32, (u32, TrialOutcome)> = std::collections::BTreeMap::new();
        for &(trial, step, decision) in rows {
            let entry = top.entry(trial).or_insert((step, decision));
            if step >= entry.0 {
                *entry = (step, decision);
            }
        }
        for &(reached, decision) in top.values() {
            for (i, count) in counts.iter_mut().enumerate() {
                if reached < count.fidelity {
                    break;
                }
                let next = levels.get(i + 1).copied();
                let slot = if next.is_some_and(|n| reached >= n) {
                    &mut count.went_on
                } else if reached > count.fidelity {
                    &mut count.ended_between
                } else {
                    match decision {
                        TrialOutcome::Pause => &mut count.paused,
                        TrialOutcome::Stop => &mut count.stopped,
                        TrialOutcome::Done => &mut count.finished,
                        _ => &mut count.ended_between,
                    }
                };
                *slot += share;
            }
        }
    }
    counts
}

/// The stacked-bar figure of [`rung_counts`].
#[derive(Clone, Debug)]
pub struct RungFigure {
    /// Title.
    pub title: String,
    /// Style index of the strategy (the colour of "went on").
    pub color: usize,
    /// What one fidelity step is ("epoch", ...).
    pub unit: String,
    /// The rungs, lowest first.
    pub rungs: Vec<RungCount>,
}

/// The categories of a bar, in stacking order, with their colours.
fn categories(strategy: RGBColor) -> [(&'static str, RGBColor); 5] {
    [
        ("went on to the next rung", strategy),
        ("finished (full fidelity)", RGBColor(0, 0, 0)),
        ("paused, never resumed", RGBColor(190, 190, 190)),
        ("stopped", RGBColor(213, 94, 0)),
        ("ended between rungs (budget, failure)", RGBColor(240, 200, 120)),
    ]
}

impl Figure for RungFigure {
    fn size(&self, look: &Look) -> (u32, u32) {
        let legend = if look.legend_below { look.px(60) } else { 0 };
        (look.width, look.px(130) + look.px(30) * self.rungs.len().max(1) as u32 + legend)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, look: &Look) -> Result<(), String> {
        let kinds = categories(color(self.color));
        let legend: Vec<LegendEntry> = kinds.iter().map(|(name, c)| LegendEntry::Swatch((*name).to_owned(), *c)).collect();
        let plot = with_legend(area, look, &legend)?;
        let n = self.rungs.len().max(1) as f64;
        let hi = self.rungs.iter().map(RungCount::reached).fold(0.0f64, f64::max) * 1.05;
        // Highest rung on top.
        let labels: Vec<String> =
            self.rungs.iter().rev().map(|r| format!("{} {}: {}", self.unit, r.fidelity, crate::format::num(r.reached()))).collect();
        let mut chart = horizontal_bars(&plot, look, &self.title, "trials (mean over seeds)", &labels, hi)?;
        for (i, rung) in self.rungs.iter().rev().enumerate() {
            let y = n - i as f64 - 1.0;
            let mut x = 0.0;
            for ((_, c), value) in kinds.iter().zip([rung.went_on, rung.finished, rung.paused, rung.stopped, rung.ended_between]) {
                if value > 0.0 {
                    chart.draw_series(std::iter::once(Rectangle::new([(x, y + 0.15), (x + value, y + 0.85)], c.filled()))).map_err(err)?;
                    x += value;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TrialOutcome::{Continue, Cut, Done, Pause, Stop};

    #[test]
    fn trials_are_counted_at_every_rung_they_reached() {
        // Rungs 1, 3 and 9. Trial 0: paused at 1, promoted, paused at 3, promoted, done at 9.
        // Trial 1: stopped at 1. Trial 2: paused at 1, promoted, stopped at 3. Trial 3: paused
        // at 1 and never resumed. Trial 4: promoted from 1, cut by the budget at step 5.
        let run = vec![
            (0, 1, Pause),
            (1, 1, Stop),
            (2, 1, Pause),
            (3, 1, Pause),
            (4, 1, Pause),
            (0, 2, Continue),
            (0, 3, Pause),
            (2, 2, Continue),
            (2, 3, Stop),
            (4, 5, Cut),
            (0, 9, Done),
        ];
        let counts = rung_counts(&[run.clone(), run], 9);
        assert_eq!(counts.iter().map(|c| c.fidelity).collect::<Vec<_>>(), [1, 3, 9]);
        // Rung 1: trials 0, 2, 4 went on; 3 paused; 1 stopped.
        assert_eq!((counts[0].went_on, counts[0].paused, counts[0].stopped, counts[0].reached()), (3.0, 1.0, 1.0, 5.0));
        // Rung 3: trial 0 went on; 2 stopped; 4 ended between 3 and 9.
        assert_eq!((counts[1].went_on, counts[1].stopped, counts[1].ended_between), (1.0, 1.0, 1.0));
        assert_eq!((counts[2].finished, counts[2].reached()), (1.0, 1.0));
    }

    #[test]
    fn a_rule_deciding_at_every_step_keeps_the_busiest_rungs() {
        // Trial t stops at step t + 1 (steps 1..=20), except that five trials stop at step 3.
        let mut run: Vec<(u32, u32, TrialOutcome)> = (0..20).map(|t| (t, t + 1, Stop)).collect();
        run.extend((20..25).map(|t| (t, 3, Stop)));
        let counts = rung_counts(&[run], 30);
        assert_eq!(counts.len(), MOST_RUNGS);
        // Step 3 (six stops) first, then the ten earliest of the one-stop steps, and full fidelity.
        let levels: Vec<u32> = counts.iter().map(|c| c.fidelity).collect();
        assert_eq!(levels, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 30]);
        assert_eq!(counts[2].stopped, 6.0);
        // Trials stopped at 12..=20 went on past rung 11 and ended before full fidelity.
        assert_eq!(counts[10].ended_between, 9.0);
    }
}
