//! The critical-difference diagram of Demšar (JMLR 2006, Figures 1–2): strategies placed on
//! an axis of mean ranks (1 = best, on the left), the Nemenyi critical difference drawn as a
//! bar, and thick lines joining groups of strategies whose mean ranks differ by less than it
//! (not significantly different). Groups are the maximal runs of consecutive strategies, as in
//! Orange's `compute_CD`/`graph_ranks`.

use super::draw_marker;
use super::{Figure, err};
use crate::style::{FONT, Look, color};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// A critical-difference diagram.
#[derive(Clone, Debug)]
pub struct CdDiagram {
    /// Title.
    pub title: String,
    /// Strategy names with their colour index and mean rank.
    pub entries: Vec<(String, usize, f64)>,
    /// The critical difference.
    pub critical_difference: f64,
}

impl CdDiagram {
    /// Maximal groups (index ranges into the rank-sorted entries) whose ranks span less than
    /// the critical difference, with at least two members.
    pub fn groups(sorted_ranks: &[f64], cd: f64) -> Vec<(usize, usize)> {
        let n = sorted_ranks.len();
        let mut groups: Vec<(usize, usize)> = Vec::new();
        for i in 0..n {
            let mut j = i;
            while j + 1 < n && sorted_ranks[j + 1] - sorted_ranks[i] < cd {
                j += 1;
            }
            if j > i && !groups.iter().any(|&(a, b)| a <= i && j <= b) {
                groups.push((i, j));
            }
        }
        groups
    }

    fn sorted(&self) -> Vec<(String, usize, f64)> {
        let mut e = self.entries.clone();
        e.sort_by(|a, b| a.2.total_cmp(&b.2));
        e
    }
}

impl Figure for CdDiagram {
    fn size(&self, look: &Look) -> (u32, u32) {
        let rows = self.entries.len().div_ceil(2) as u32;
        let groups = Self::groups(&self.sorted().iter().map(|e| e.2).collect::<Vec<_>>(), self.critical_difference).len() as u32;
        (look.width, look.px(150) + look.px(26) * rows + look.px(8) * groups)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, look: &Look) -> Result<(), String> {
        let entries = self.sorted();
        let k = entries.len().max(2);
        let (width, _) = self.size(look);
        // Room for the longest "name (rank)" on either side.
        let longest = entries.iter().map(|e| e.0.chars().count() + 7).max().unwrap_or(10) as f64;
        let side = (longest * f64::from(look.tick) * 0.6 + f64::from(look.px(20))).min(f64::from(width) * 0.4);
        let (left, right) = (side, f64::from(width) - side);
        let axis_y = look.at(90);
        let x_of = |rank: f64| (left + (rank - 1.0) / (k as f64 - 1.0) * (right - left)) as i32;
        let black = ShapeStyle::from(&BLACK).stroke_width(1);
        let text = |size: u32, h: HPos, v: VPos| TextStyle::from((FONT, size).into_font()).pos(Pos::new(h, v));
        area.draw(&Text::new(self.title.clone(), (look.at(12), look.at(10)), text(look.title, HPos::Left, VPos::Top))).map_err(err)?;
        // Axis with integer ticks.
        area.draw(&PathElement::new(vec![(x_of(1.0), axis_y), (x_of(k as f64), axis_y)], black)).map_err(err)?;
        for r in 1..=k {
            let x = x_of(r as f64);
            area.draw(&PathElement::new(vec![(x, axis_y), (x, axis_y - look.at(8))], black)).map_err(err)?;
            area.draw(&Text::new(r.to_string(), (x, axis_y - look.at(10)), text(look.tick, HPos::Center, VPos::Bottom))).map_err(err)?;
        }
        // The critical difference as a bar above the axis.
        let cd_end = x_of(1.0 + self.critical_difference.min(k as f64 - 1.0));
        let y = axis_y - look.at(40);
        area.draw(&PathElement::new(vec![(x_of(1.0), y), (cd_end, y)], ShapeStyle::from(&BLACK).stroke_width(look.line + 1)))
            .map_err(err)?;
        area.draw(&Text::new(
            format!("CD = {:.2}", self.critical_difference),
            (x_of(1.0), y - look.at(4)),
            text(look.tick, HPos::Left, VPos::Bottom),
        ))
        .map_err(err)?;
        // Strategies: the better half to the left, the rest to the right.
        let half = entries.len().div_ceil(2);
        for (i, (name, c, rank)) in entries.iter().enumerate() {
            let style = ShapeStyle::from(&color(*c)).stroke_width(look.line);
            let x = x_of(*rank);
            let (row, on_left) = if i < half { (i, true) } else { (entries.len() - 1 - i, false) };
            let y = axis_y + look.at(40) + look.at(26) * row as i32;
            let end = if on_left { left as i32 - look.at(10) } else { right as i32 + look.at(10) };
            area.draw(&PathElement::new(vec![(x, axis_y), (x, y), (end, y)], style)).map_err(err)?;
            // The strategy's marker, as in the line figures, where its line turns.
            draw_marker(area, look, *c, (x, y))?;
            let label = format!("{name} ({rank:.2})");
            let anchor = if on_left { text(look.tick, HPos::Right, VPos::Center) } else { text(look.tick, HPos::Left, VPos::Center) };
            let at = if on_left { (end - look.at(4), y) } else { (end + look.at(4), y) };
            area.draw(&Text::new(label, at, anchor)).map_err(err)?;
        }
        // Groups not significantly different.
        let ranks: Vec<f64> = entries.iter().map(|e| e.2).collect();
        for (g, (a, b)) in Self::groups(&ranks, self.critical_difference).into_iter().enumerate() {
            let y = axis_y + look.at(12) + look.at(8) * g as i32;
            area.draw(&PathElement::new(
                vec![(x_of(ranks[a]) - 4, y), (x_of(ranks[b]) + 4, y)],
                ShapeStyle::from(&BLACK).stroke_width(look.px(4)),
            ))
            .map_err(err)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_maximal_runs_within_the_critical_difference() {
        // Ranks 1.0, 1.5, 2.4, 3.9 with CD 1.0: {1.0, 1.5} (2.4 − 1.0 ≥ 1), {1.5, 2.4}; 3.9 alone.
        assert_eq!(CdDiagram::groups(&[1.0, 1.5, 2.4, 3.9], 1.0), [(0, 1), (1, 2)]);
        assert_eq!(CdDiagram::groups(&[1.0, 1.2, 1.3], 1.0), [(0, 2)]);
        assert!(CdDiagram::groups(&[1.0, 3.0], 1.0).is_empty());
    }
}
