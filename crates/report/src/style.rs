//! The look shared by every figure: one colour per strategy (its position in the experiment),
//! the same in every figure; an embedded open-licensed font (DejaVu Sans, Bitstream Vera
//! licence) so text renders on machines without fonts or fontconfig; figure sizes.

use plotters::style::{FontStyle, RGBColor, register_font};
use std::sync::Once;

/// The font family every figure uses.
pub const FONT: &str = "sans-serif";

/// Width and height of a figure in pixels.
pub const SIZE: (u32, u32) = (960, 600);

/// Okabe & Ito's colour-blind-safe palette (Color Universal Design, 2008), black last, then
/// Paul Tol's "muted" colours for experiments with more strategies.
const PALETTE: [RGBColor; 16] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
    RGBColor(51, 34, 136),
    RGBColor(136, 204, 238),
    RGBColor(68, 170, 153),
    RGBColor(17, 119, 51),
    RGBColor(153, 153, 51),
    RGBColor(221, 204, 119),
    RGBColor(204, 102, 119),
    RGBColor(136, 34, 85),
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

static REGISTER: Once = Once::new();

/// Registers the embedded font (once per process).
pub fn register_fonts() {
    REGISTER.call_once(|| {
        // The font is compiled in and valid; a failure would only cost text, never a panic.
        let _ = register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}
