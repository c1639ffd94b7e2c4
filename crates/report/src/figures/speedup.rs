//! Horizontal bars, one per (benchmark, strategy), with whiskers for confidence intervals and
//! an optional reference line: the speed-up figure (reference 1 = as fast as the baseline); a
//! speed-up of 0 (the target never reached) is written as "did not reach".

use super::{Figure, err, horizontal_bars};
use crate::style::{FONT, Look, color};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One bar.
#[derive(Clone, Debug)]
pub struct Bar {
    /// Label on the y axis.
    pub label: String,
    /// Colour index.
    pub color: usize,
    /// Value.
    pub value: f64,
    /// Interval, if any.
    pub interval: Option<(f64, f64)>,
}

/// A bar figure.
#[derive(Clone, Debug)]
pub struct BarFigure {
    /// Title.
    pub title: String,
    /// X axis label.
    pub x_label: String,
    /// The bars, top to bottom.
    pub bars: Vec<Bar>,
    /// A vertical reference line.
    pub reference: Option<f64>,
}

impl Figure for BarFigure {
    fn size(&self, look: &Look) -> (u32, u32) {
        (look.width, look.px(120) + look.px(24) * self.bars.len().max(1) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, look: &Look) -> Result<(), String> {
        let n = self.bars.len().max(1) as f64;
        let finite = |v: f64| v.is_finite().then_some(v);
        let hi = self
            .bars
            .iter()
            .flat_map(|b| [finite(b.value), b.interval.and_then(|i| finite(i.1))])
            .flatten()
            .chain(self.reference)
            .fold(0.0f64, f64::max)
            * 1.08;
        let hi = if hi > 0.0 { hi } else { 1.0 };
        let labels: Vec<String> = self.bars.iter().map(|b| b.label.clone()).collect();
        let mut chart = horizontal_bars(area, look, &self.title, &self.x_label, &labels, hi)?;
        for (i, bar) in self.bars.iter().enumerate() {
            let y = n - i as f64 - 1.0;
            let c = color(bar.color);
            let v = if bar.value.is_finite() { bar.value } else { hi };
            chart.draw_series(std::iter::once(Rectangle::new([(0.0, y + 0.15), (v, y + 0.85)], c.mix(0.8).filled()))).map_err(err)?;
            if bar.value == 0.0 {
                // A speed-up of 0: the strategy's median run never reached the target. Said in
                // words, since an empty bar reads as missing data.
                let style = TextStyle::from((FONT, look.tick).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
                // Right of the interval's whisker, so the two do not overlap.
                let after = bar.interval.map_or(0.0, |(_, up)| if up.is_finite() { up.clamp(0.0, hi) } else { 0.0 });
                chart.draw_series(std::iter::once(Text::new("did not reach", (after + hi * 0.01, y + 0.5), style))).map_err(err)?;
            }
            if let Some((lo, up)) = bar.interval {
                let (lo, up) = (lo.clamp(0.0, hi), if up.is_finite() { up.min(hi) } else { hi });
                let style = ShapeStyle::from(&BLACK).stroke_width(1);
                chart
                    .draw_series([
                        PathElement::new(vec![(lo, y + 0.5), (up, y + 0.5)], style),
                        PathElement::new(vec![(lo, y + 0.35), (lo, y + 0.65)], style),
                        PathElement::new(vec![(up, y + 0.35), (up, y + 0.65)], style),
                    ])
                    .map_err(err)?;
            }
        }
        if let Some(r) = self.reference {
            chart
                .draw_series(std::iter::once(PathElement::new(vec![(r, 0.0), (r, n)], ShapeStyle::from(&BLACK.mix(0.6)).stroke_width(1))))
                .map_err(err)?;
        }
        Ok(())
    }
}
