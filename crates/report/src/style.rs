//! The look shared by every figure: one colour, line style and marker per strategy (its
//! position in the experiment), the same in every figure, so that up to twelve strategies stay
//! distinguishable in colour and in greyscale; an embedded open-licensed font (DejaVu Sans,
//! Bitstream Vera licence) so text renders on machines without fonts or fontconfig; figure
//! sizes and font sizes per preset (a screen, or one column of a two-column paper); time units
//! scaled to the data; logarithmic axes ticked at 1-2-5 per decade.

use plotters::style::{FontStyle, RGBColor, register_font};
use std::sync::Once;

/// The font family every figure uses.
pub const FONT: &str = "sans-serif";

/// The sizes of a figure: its default width and height in pixels (1 px = 1/96 inch in the SVG
/// and the PDF) and its font sizes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Look {
    /// Default width.
    pub width: u32,
    /// Default height.
    pub height: u32,
    /// Title font size.
    pub title: u32,
    /// Axis description font size.
    pub axis: u32,
    /// Tick label and legend font size.
    pub tick: u32,
    /// Line width of data lines.
    pub line: u32,
    /// Whether legends go below the plot (narrow figures) rather than to its right.
    pub legend_below: bool,
}

impl Look {
    /// For reading on a screen and for a full-width figure: 10 × 6.25 inches.
    pub const SCREEN: Look = Look { width: 960, height: 600, title: 20, axis: 15, tick: 13, line: 2, legend_below: false };
    /// One column of a two-column paper (3.5 inches wide, as in ICML, NeurIPS and IEEE
    /// templates) at 1:1, with 7–8 pt text.
    pub const COLUMN: Look = Look { width: 336, height: 300, title: 10, axis: 10, tick: 9, line: 1, legend_below: true };

    /// The preset of this name (`screen` or `column`).
    pub fn named(name: &str) -> Option<Look> {
        match name {
            "screen" => Some(Self::SCREEN),
            "column" => Some(Self::COLUMN),
            _ => None,
        }
    }

    /// A length designed for the screen preset (13 px tick labels), scaled to this look.
    pub fn px(&self, screen: u32) -> u32 {
        (screen * self.tick).div_ceil(13).max(1)
    }

    /// [`Look::px`] as a signed coordinate.
    pub fn at(&self, screen: i32) -> i32 {
        screen.signum() * self.px(screen.unsigned_abs()) as i32
    }
}

/// Colours for up to twelve strategies, the most distinct first: Okabe & Ito's colour-blind-safe
/// palette (Color Universal Design, 2008) without its faint yellow and its sky blue (too close
/// to blue), then darker colours of Paul Tol's "muted" scheme (indigo, wine, teal) and the
/// remaining Okabe–Ito colours; black is used as a colour.
const PALETTE: [RGBColor; 12] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(0, 0, 0),       // black
    RGBColor(153, 153, 51),  // olive
    RGBColor(51, 34, 136),   // indigo
    RGBColor(136, 34, 85),   // wine
    RGBColor(68, 170, 153),  // teal
    RGBColor(230, 159, 0),   // orange
    RGBColor(119, 119, 119), // grey
    RGBColor(86, 180, 233),  // sky blue
];

/// The colour of the strategy at `index` in the experiment.
pub fn color(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// The colour as `#rrggbb`, for HTML.
pub fn hex(index: usize) -> String {
    let RGBColor(r, g, b) = color(index);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// How a strategy's line is drawn: solid or dashed (dash and gap in screen pixels).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dash {
    /// A solid line.
    Solid,
    /// Dashes of the given length and gap.
    Dashed(u32, u32),
}

/// The line style of the strategy at `index`: four styles that cycle with period 4.
pub fn dash(index: usize) -> Dash {
    [Dash::Solid, Dash::Dashed(9, 5), Dash::Dashed(2, 4), Dash::Dashed(16, 5)][index % 4]
}

/// A marker shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Marker {
    /// Filled circle.
    Circle,
    /// Filled triangle.
    Triangle,
    /// Filled square.
    Square,
    /// Diagonal cross.
    Cross,
    /// Filled diamond.
    Diamond,
    /// Hollow circle.
    Ring,
}

/// The marker of the strategy at `index`: six shapes with period 6, so that with the four line
/// styles every (style, marker) pair is distinct for the first twelve strategies.
pub fn marker(index: usize) -> Marker {
    [Marker::Circle, Marker::Triangle, Marker::Square, Marker::Cross, Marker::Diamond, Marker::Ring][index % 6]
}

/// A unit of time for an axis whose largest value is `max_seconds`: seconds below two minutes,
/// minutes below two hours, hours below two days, days beyond; its name and its length in
/// seconds.
pub fn time_unit(max_seconds: f64) -> (&'static str, f64) {
    if max_seconds.is_nan() || max_seconds < 120.0 {
        ("s", 1.0)
    } else if max_seconds < 7200.0 {
        ("min", 60.0)
    } else if max_seconds < 172_800.0 {
        ("h", 3600.0)
    } else {
        ("days", 86_400.0)
    }
}

/// Ticks of a logarithmic axis over `[lo, hi]` (positive values): 1, 2 and 5 times each power
/// of ten inside the range; only the powers of ten where that gives more than `most`; every
/// integer multiple where it gives fewer than three.
pub fn log_ticks(lo: f64, hi: f64, most: usize) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo && hi.is_finite()) {
        return Vec::new();
    }
    let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let with = |multiples: &[f64]| -> Vec<f64> {
        (first..=last)
            .flat_map(|d| multiples.iter().map(move |m| m * 10f64.powi(d)))
            // Rounding: 2 × 10⁻¹ must print as 0.2.
            .map(|v| format!("{v:.12e}").parse::<f64>().unwrap_or(v))
            .filter(|v| *v >= lo * (1.0 - 1e-12) && *v <= hi * (1.0 + 1e-12))
            .collect()
    };
    let ticks = with(&[1.0, 2.0, 5.0]);
    if ticks.len() > most {
        with(&[1.0])
    } else if ticks.len() < 3 {
        with(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
    } else {
        ticks
    }
}

/// A tick label of a linear axis: up to four decimals, no trailing zeros ("50", not "50.0").
pub fn tick_label(v: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e5 || v.abs() < 1e-3) {
        format!("{v:.1e}")
    } else {
        let s = format!("{:.4}", (v * 1e4).round() / 1e4);
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// A tick label of a logarithmic axis: plain decimals from 0.001 to 99 999, `1e-4` style
/// beyond.
pub fn log_label(v: f64) -> String {
    if (1e-3..1e5).contains(&v) {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        let e = v.log10().floor() as i32;
        let m = v / 10f64.powi(e);
        if (m - 1.0).abs() < 1e-9 { format!("1e{e}") } else { format!("{}e{e}", (m * 10.0).round() / 10.0) }
    }
}

static REGISTER: Once = Once::new();

/// Registers the embedded font (once per process).
pub fn register_fonts() {
    REGISTER.call_once(|| {
        // The font is compiled in and valid; a failure would only cost text, never a panic.
        let _ = register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_are_one_two_five_per_decade() {
        assert_eq!(log_ticks(0.1, 3.5, 12), vec![0.1, 0.2, 0.5, 1.0, 2.0]);
        assert_eq!(log_ticks(0.03, 0.7, 12), vec![0.05, 0.1, 0.2, 0.5]);
        // Twelve decades: powers of ten only.
        assert_eq!(log_ticks(1e-6, 1e6, 12).len(), 13);
        // Inside one decade: every multiple.
        assert_eq!(log_ticks(1.1, 4.5, 12), vec![2.0, 3.0, 4.0]);
        assert!(log_ticks(0.0, 1.0, 12).is_empty());
        assert_eq!([0.001, 0.2, 5.0, 20000.0, 1e-4, 2e6].map(log_label), ["0.001", "0.2", "5", "20000", "1e-4", "2e6"].map(String::from));
    }

    #[test]
    fn time_units_follow_the_horizon() {
        assert_eq!(time_unit(90.0), ("s", 1.0));
        assert_eq!(time_unit(3000.0), ("min", 60.0));
        assert_eq!(time_unit(30.0 * 3600.0), ("h", 3600.0));
        assert_eq!(time_unit(30.0 * 86_400.0), ("days", 86_400.0));
        assert_eq!(time_unit(f64::NAN), ("s", 1.0));
    }

    #[test]
    fn the_first_twelve_strategies_differ_in_line_style_and_marker() {
        let pairs: std::collections::HashSet<(Dash, Marker)> = (0..12).map(|i| (dash(i), marker(i))).collect();
        assert_eq!(pairs.len(), 12);
        let colors: std::collections::HashSet<String> = (0..12).map(hex).collect();
        assert_eq!(colors.len(), 12);
    }
}
