//! The lineage of one population-based training run: each population member is a row; each
//! trial is a horizontal segment on its member's row from the step it started after to the last
//! step it reached, ending in a cross where it was stopped and a dot where it trained to full
//! fidelity, and coloured by its *ancestor*, the initial configuration its chain of copies goes
//! back to; each exploit is a faint line from the donor's row at the copied step to the row it
//! replaced. Read left to right, the colours show which initial members' descendants take over
//! the population and when (the lineage view of Jaderberg et al. 2017).

use super::{Figure, err};
use crate::style::{FONT, Look, color};
use hposim_core::TrialOutcome;
use plotters::coord::Shift;
use plotters::prelude::*;

/// One trial on its member's row.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    /// The member's row.
    pub member: usize,
    /// The row of its ancestor (the initial trial its copies go back to).
    pub ancestor: usize,
    /// The step the trial started after.
    pub from: u32,
    /// The last step it reached.
    pub to: u32,
    /// What happened after its last step.
    pub end: TrialOutcome,
}

/// One exploit: a copy from a row to another at a step.
#[derive(Clone, Debug, PartialEq)]
pub struct Copy {
    /// The copied step.
    pub step: u32,
    /// The donor's row.
    pub from: usize,
    /// The recipient's row.
    pub to: usize,
}

/// The lineage diagram.
#[derive(Clone, Debug)]
pub struct LineageFigure {
    /// Title.
    pub title: String,
    /// Colour index of the strategy.
    pub color: usize,
    /// Full fidelity.
    pub max_fidelity: u32,
    /// What one fidelity step is ("epoch", ...).
    pub unit: String,
    /// Number of members (rows).
    pub members: usize,
    /// The trials.
    pub segments: Vec<Segment>,
    /// The exploits.
    pub copies: Vec<Copy>,
}

impl Figure for LineageFigure {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, look: &Look) -> Result<(), String> {
        let x_max = f64::from(self.max_fidelity.max(1)) * 1.02;
        let rows = self.members.max(1) as f64;
        let mut chart = ChartBuilder::on(area)
            .caption(self.title.as_str(), (FONT, look.title))
            .margin(look.px(12))
            .x_label_area_size(look.px(44))
            .y_label_area_size(look.px(60))
            .build_cartesian_2d(0.0..x_max, -0.6..rows - 0.4)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(format!("{} (fidelity step)", self.unit))
            .y_desc("population member")
            .label_style((FONT, look.tick))
            .axis_desc_style((FONT, look.axis))
            .x_label_formatter(&|v| crate::style::tick_label(*v))
            .y_label_formatter(&|v| if (v - v.round()).abs() < 1e-9 { format!("{}", v.round()) } else { String::new() })
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        let copy = ShapeStyle::from(&BLACK.mix(0.12)).stroke_width(1);
        chart
            .draw_series(self.copies.iter().map(|c| {
                let x = f64::from(c.step);
                PathElement::new(vec![(x, c.from as f64), (x, c.to as f64)], copy)
            }))
            .map_err(err)?;
        let c = color(self.color);
        let ancestor = |row: usize| HSLColor(row as f64 / rows, 0.75, 0.42);
        chart
            .draw_series(self.segments.iter().map(|s| {
                let style = ShapeStyle::from(&ancestor(s.ancestor)).stroke_width(look.px(3));
                PathElement::new(vec![(f64::from(s.from), s.member as f64), (f64::from(s.to), s.member as f64)], style)
            }))
            .map_err(err)?;
        for s in &self.segments {
            let at = (f64::from(s.to), s.member as f64);
            match s.end {
                TrialOutcome::Done => chart.draw_series(std::iter::once(Circle::new(at, look.px(3), c.filled()))),
                TrialOutcome::Stop | TrialOutcome::Cut => {
                    chart.draw_series(std::iter::once(Cross::new(at, look.px(3), ShapeStyle::from(&BLACK.mix(0.7)))))
                }
                _ => continue,
            }
            .map_err(err)?;
        }
        Ok(())
    }
}

/// The rows, segments and copies of a run from its trace rows `(trial, epoch, decision)` and its
/// exploits `(trial, donor, recipient, step)`: initial trials get rows in order of their ids, a
/// trial started from a checkpoint takes the row of the trial it replaced.
pub fn lineage(
    rows: impl Iterator<Item = (u32, u32, TrialOutcome)>,
    exploits: &[(u32, u32, u32, u32)],
) -> (usize, Vec<Segment>, Vec<Copy>) {
    let mut segments: std::collections::BTreeMap<u32, Segment> = std::collections::BTreeMap::new();
    for (trial, epoch, decision) in rows {
        let first = exploits.iter().find(|e| e.0 == trial).map_or(0, |e| e.3);
        let s = segments.entry(trial).or_insert(Segment { member: 0, ancestor: 0, from: first, to: epoch, end: decision });
        if epoch >= s.to {
            s.to = epoch;
            s.end = decision;
        }
    }
    let mut member_of: std::collections::BTreeMap<u32, usize> = std::collections::BTreeMap::new();
    let mut ancestor_of: std::collections::BTreeMap<u32, usize> = std::collections::BTreeMap::new();
    let mut members = 0;
    // Trial ids grow with start order, so donors and recipients come before their copies.
    for (&trial, segment) in &mut segments {
        let exploit = exploits.iter().find(|e| e.0 == trial);
        let (row, ancestor) = match exploit.and_then(|e| Some((*member_of.get(&e.2)?, *ancestor_of.get(&e.1)?))) {
            Some(found) => found,
            None => {
                members += 1;
                (members - 1, members - 1)
            }
        };
        member_of.insert(trial, row);
        ancestor_of.insert(trial, ancestor);
        segment.member = row;
        segment.ancestor = ancestor;
    }
    let copies = exploits
        .iter()
        .filter_map(|&(_, donor, recipient, step)| Some(Copy { step, from: *member_of.get(&donor)?, to: *member_of.get(&recipient)? }))
        .collect();
    (members, segments.into_values().collect(), copies)
}

#[cfg(test)]
mod tests {
    use super::*;
    use TrialOutcome::{Continue, Done, Pause, Stop};

    #[test]
    fn a_copied_trial_takes_the_row_of_the_trial_it_replaced() {
        // Trials 0 and 1 start; at step 2 trial 1 is replaced by trial 2, a copy of trial 0.
        let rows = [(0, 1, Continue), (1, 1, Continue), (0, 2, Pause), (1, 2, Stop), (2, 3, Continue), (0, 3, Done), (2, 4, Done)];
        let (members, segments, copies) = lineage(rows.into_iter(), &[(2, 0, 1, 2)]);
        assert_eq!(members, 2);
        assert_eq!(
            segments,
            vec![
                Segment { member: 0, ancestor: 0, from: 0, to: 3, end: Done },
                Segment { member: 1, ancestor: 1, from: 0, to: 2, end: Stop },
                Segment { member: 1, ancestor: 0, from: 2, to: 4, end: Done },
            ]
        );
        assert_eq!(copies, vec![Copy { step: 2, from: 0, to: 1 }]);
    }
}
