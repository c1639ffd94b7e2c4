//! Figures: each is drawn once, as SVG, by code generic over the plotters backend; the SVG is
//! then converted, with the same embedded font, to a vector PDF (svg2pdf, the converter of the
//! Typst project) and rendered to a PNG at twice its size (resvg), so the three files show the
//! same figure.

pub mod critical_difference;
pub mod lineage;
pub mod lines;
pub mod rungs;
pub mod speedup;
pub mod timeline;
pub mod utilisation;

use crate::style::{Dash, FONT, Look, Marker, color, dash, marker, register_fonts};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::{
    BLACK, Cartesian2d, ChartBuilder, ChartContext, Circle, Color, Cross, DashedLineSeries, DrawingArea, DrawingBackend, EmptyElement,
    IntoDrawingArea, IntoFont, LineSeries, PathElement, Polygon, Rectangle, SVGBackend, ShapeStyle, Text, TextStyle, WHITE,
};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use resvg::tiny_skia;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use svg2pdf::usvg;

/// A figure, drawable on any backend.
pub trait Figure {
    /// Draws the figure on `area` with the sizes of `look`; errors are described in words.
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, look: &Look) -> Result<(), String>;

    /// Its size in pixels under `look`.
    fn size(&self, look: &Look) -> (u32, u32) {
        (look.width, look.height)
    }
}

/// Turns a drawing error into words.
pub(crate) fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// Pixels of the PNG per pixel of the SVG: twice the resolution, for print and high-density
/// screens.
pub const PNG_SCALE: f32 = 2.0;

/// The chart of a horizontal bar figure: the x axis from 0 to `x_max` labelled `x_label`, and
/// one row per entry of `labels`, top to bottom, named on the y axis. Bar `i` spans
/// `y ∈ [n − i − 1, n − i]`.
pub(crate) fn horizontal_bars<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    look: &Look,
    title: &str,
    x_label: &str,
    labels: &[String],
    x_max: f64,
) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>, String> {
    let n = labels.len().max(1) as f64;
    let x_max = if x_max > 0.0 && x_max.is_finite() { x_max } else { 1.0 };
    // Room for the longest label (DejaVu Sans averages about 0.6 em per character).
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as u32;
    let label_width = (longest * look.tick * 6 / 10 + look.px(16)).min(area.dim_in_pixel().0 / 2);
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, look.title))
        .margin(look.px(12))
        .x_label_area_size(look.px(44))
        .y_label_area_size(label_width)
        .build_cartesian_2d(0.0..x_max, 0.0..n)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .label_style((FONT, look.tick))
        .axis_desc_style((FONT, look.axis))
        .x_label_formatter(&|v| crate::style::tick_label(*v))
        .y_labels(labels.len().max(1) * 2 + 1)
        .y_label_formatter(&|y| {
            // Labels sit at bar centres (index + 0.5), counted from the top.
            let i = (n - y - 0.5).round();
            if ((n - y - 0.5) - i).abs() < 1e-6 && i >= 0.0 { labels.get(i as usize).cloned().unwrap_or_default() } else { String::new() }
        })
        .disable_y_mesh()
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// One entry of a legend: a strategy's line sample (its colour, line style and marker), or a
/// filled box of a colour.
#[derive(Clone, Debug)]
pub(crate) enum LegendEntry {
    /// A strategy's line, by its index.
    Line(String, usize),
    /// A filled box.
    Swatch(String, plotters::style::RGBColor),
}

impl LegendEntry {
    fn name(&self) -> &str {
        match self {
            LegendEntry::Line(n, _) | LegendEntry::Swatch(n, _) => n,
        }
    }
}

/// Splits `area` into the plot and, beside it (right, or below with
/// [`Look::legend_below`]), the room the legend `entries` need; draws the legend there.
pub(crate) fn with_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    look: &Look,
    entries: &[LegendEntry],
) -> Result<DrawingArea<DB, Shift>, String> {
    if entries.is_empty() {
        return Ok(area.clone());
    }
    let (w, h) = area.dim_in_pixel();
    let sample = look.px(34);
    let row = look.tick + look.px(7);
    let widest = entries.iter().map(|e| e.name().chars().count()).max().unwrap_or(0) as u32 * look.tick * 6 / 10;
    let entry_width = sample + look.px(6) + widest + look.px(14);
    if look.legend_below {
        let columns = (w / entry_width.max(1)).clamp(1, entries.len() as u32);
        let rows = (entries.len() as u32).div_ceil(columns);
        let height = rows * row + look.px(8);
        let (plot, legend) = area.split_vertically(h.saturating_sub(height));
        for (i, e) in entries.iter().enumerate() {
            let (c, r) = (i as u32 % columns, i as u32 / columns);
            legend_entry(&legend, look, e, ((c * entry_width + look.px(8)) as i32, (r * row + row / 2 + look.px(4)) as i32))?;
        }
        Ok(plot)
    } else {
        let width = entry_width.min(w * 2 / 5);
        let (plot, legend) = area.split_horizontally(w.saturating_sub(width));
        let top = look.px(48) as i32;
        for (i, e) in entries.iter().enumerate() {
            legend_entry(&legend, look, e, (look.px(4) as i32, top + (i as u32 * row) as i32))?;
        }
        Ok(plot)
    }
}

fn legend_entry<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, look: &Look, entry: &LegendEntry, at: (i32, i32)) -> Result<(), String> {
    let sample = look.px(34) as i32;
    match entry {
        LegendEntry::Line(_, index) => {
            let style = ShapeStyle::from(&color(*index)).stroke_width(look.line + 1);
            let points = vec![(at.0, at.1), (at.0 + sample, at.1)];
            match dash(*index) {
                Dash::Solid => area.draw(&PathElement::new(points, style)).map_err(err)?,
                Dash::Dashed(d, g) => {
                    area.draw(&DashedPathElement::new(points, look.px(d) as i32, look.px(g) as i32, style)).map_err(err)?
                }
            }
            draw_marker(area, look, *index, (at.0 + sample / 2, at.1))?;
        }
        LegendEntry::Swatch(_, c) => {
            let r = (look.tick / 2) as i32;
            area.draw(&Rectangle::new([(at.0 + sample / 2 - r, at.1 - r), (at.0 + sample / 2 + r, at.1 + r)], c.filled())).map_err(err)?;
        }
    }
    let text = TextStyle::from((FONT, look.tick).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    area.draw(&Text::new(entry.name().to_owned(), (at.0 + sample + look.px(6) as i32, at.1), text)).map_err(err)
}

/// Draws the marker of the strategy at `index` centred at the pixel `at` of `area`.
pub(crate) fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    look: &Look,
    index: usize,
    at: (i32, i32),
) -> Result<(), String> {
    let c = color(index);
    let r = look.px(4) as i32;
    let e = EmptyElement::at(at);
    match marker(index) {
        Marker::Circle => area.draw(&(e + Circle::new((0, 0), r, c.filled()))),
        Marker::Ring => area.draw(&(e + Circle::new((0, 0), r, ShapeStyle::from(&c).stroke_width(look.line)))),
        Marker::Square => area.draw(&(e + Rectangle::new([(-r + 1, -r + 1), (r - 1, r - 1)], c.filled()))),
        Marker::Cross => area.draw(&(e + Cross::new((0, 0), r, ShapeStyle::from(&c).stroke_width(look.line + 1)))),
        Marker::Triangle => area.draw(&(e + Polygon::new(vec![(0, -r), (r, r - 1), (-r, r - 1)], c.filled()))),
        Marker::Diamond => area.draw(&(e + Polygon::new(vec![(0, -r), (r, 0), (0, r), (-r, 0)], c.filled()))),
    }
    .map_err(err)
}

/// Draws a strategy's line through `points` (chart coordinates; non-finite points break it) in
/// its colour and line style, with its marker at up to eight evenly spaced points.
pub(crate) fn draw_strategy_line<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    look: &Look,
    index: usize,
    points: &[(f64, f64)],
) -> Result<(), String> {
    let style = ShapeStyle::from(&color(index)).stroke_width(look.line);
    let mut segment: Vec<(f64, f64)> = Vec::new();
    let mut segments: Vec<Vec<(f64, f64)>> = Vec::new();
    for &(x, y) in points {
        if x.is_finite() && y.is_finite() {
            segment.push((x, y));
        } else if !segment.is_empty() {
            segments.push(std::mem::take(&mut segment));
        }
    }
    if !segment.is_empty() {
        segments.push(segment);
    }
    for s in &segments {
        match dash(index) {
            Dash::Solid => {
                chart.draw_series(LineSeries::new(s.iter().copied(), style)).map_err(err)?;
            }
            Dash::Dashed(d, g) => {
                chart.draw_series(DashedLineSeries::new(s.iter().copied(), look.px(d) as i32, look.px(g) as i32, style)).map_err(err)?;
            }
        }
    }
    // Markers, offset by the strategy's index so that curves that overlap show both.
    let finite: Vec<(f64, f64)> = segments.into_iter().flatten().collect();
    if !finite.is_empty() {
        let every = finite.len().div_ceil(8).max(1);
        let plot = chart.plotting_area().strip_coord_spec();
        let base = chart.plotting_area().get_base_pixel();
        for p in finite.iter().skip(index % every).step_by(every) {
            let (x, y) = chart.backend_coord(p);
            draw_marker(&plot, look, index, (x - base.0, y - base.1))?;
        }
    }
    Ok(())
}

/// Tick labels at chart positions `ticks` (already in chart coordinates) along the bottom
/// (`vertical` false) or left axis of `chart`, drawn on `area` (the area the chart was built on)
/// with light grid lines: for logarithmic axes, whose labels plotters would place at arbitrary
/// values.
pub(crate) fn custom_ticks<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    look: &Look,
    vertical: bool,
    ticks: &[(f64, String)],
) -> Result<(), String> {
    let (xr, yr) = (chart.x_range(), chart.y_range());
    let base = area.get_base_pixel();
    let grid = ShapeStyle::from(&BLACK.mix(0.12)).stroke_width(1);
    let tick = ShapeStyle::from(&BLACK).stroke_width(1);
    for (t, label) in ticks {
        let (from, to) = if vertical { ((xr.start, *t), (xr.end, *t)) } else { ((*t, yr.start), (*t, yr.end)) };
        let (a, b) = (chart.backend_coord(&from), chart.backend_coord(&to));
        let (a, b) = ((a.0 - base.0, a.1 - base.1), (b.0 - base.0, b.1 - base.1));
        area.draw(&PathElement::new(vec![a, b], grid)).map_err(err)?;
        let length = look.px(5) as i32;
        let (mark, at, anchor) = if vertical {
            (vec![a, (a.0 - length, a.1)], (a.0 - length - 3, a.1), Pos::new(HPos::Right, VPos::Center))
        } else {
            (vec![a, (a.0, a.1 + length)], (a.0, a.1 + length + 2), Pos::new(HPos::Center, VPos::Top))
        };
        area.draw(&PathElement::new(mark, tick)).map_err(err)?;
        area.draw(&Text::new(label.clone(), at, TextStyle::from((FONT, look.tick).into_font()).pos(anchor))).map_err(err)?;
    }
    Ok(())
}

/// The SVG of `figure` under `look`.
pub fn svg_of(figure: &impl Figure, look: &Look) -> Result<String, String> {
    register_fonts();
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, figure.size(look)).into_drawing_area();
        area.fill(&WHITE).map_err(err)?;
        figure.draw(&area, look)?;
        area.present().map_err(err)?;
    }
    Ok(svg)
}

/// The font database of the converters: the embedded DejaVu Sans as every generic family, so
/// that nothing depends on the machine's fonts.
fn fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_font_data(dejavu::sans::regular().to_vec());
            db.load_font_data(dejavu::sans::bold().to_vec());
            db.set_sans_serif_family("DejaVu Sans");
            db.set_serif_family("DejaVu Sans");
            db.set_monospace_family("DejaVu Sans");
            Arc::new(db)
        })
        .clone()
}

/// `svg` as a usvg tree, with the embedded fonts.
fn tree_of(svg: &str) -> Result<usvg::Tree, String> {
    let options = usvg::Options { fontdb: fonts(), font_family: "DejaVu Sans".to_owned(), ..usvg::Options::default() };
    usvg::Tree::from_str(svg, &options).map_err(|e| format!("the figure's SVG does not parse: {e}"))
}

/// A parsed SVG as a PNG at [`PNG_SCALE`] times its size.
fn png_of(tree: &usvg::Tree) -> Result<Vec<u8>, String> {
    let size = tree.size().to_int_size().scale_by(PNG_SCALE).ok_or("the figure is empty")?;
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).ok_or("the figure is too large to render")?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(tree, tiny_skia::Transform::from_scale(PNG_SCALE, PNG_SCALE), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| format!("encoding the PNG: {e}"))
}

/// A parsed SVG as a one-page vector PDF of the same size (1 px = 1/96 inch), its text embedded
/// as subsets of the font.
fn pdf_of(tree: &usvg::Tree) -> Result<Vec<u8>, String> {
    svg2pdf::to_pdf(tree, svg2pdf::ConversionOptions::default(), svg2pdf::PageOptions { dpi: 96.0 })
        .map_err(|e| format!("converting to PDF: {e}"))
}

/// Saves `figure` as `<dir>/<stem>.svg`, `.pdf` and `.png` (at twice the size), returning the
/// three paths in that order.
pub fn save(figure: &impl Figure, dir: &Path, stem: &str, look: &Look) -> Result<[PathBuf; 3], String> {
    let svg = svg_of(figure, look)?;
    let paths = [dir.join(format!("{stem}.svg")), dir.join(format!("{stem}.pdf")), dir.join(format!("{stem}.png"))];
    let write = |path: &PathBuf, bytes: &[u8]| std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()));
    write(&paths[0], svg.as_bytes())?;
    // Parsed once (text shaped once) for both conversions.
    let tree = tree_of(&svg)?;
    write(&paths[1], &pdf_of(&tree)?)?;
    write(&paths[2], &png_of(&tree)?)?;
    Ok(paths)
}
