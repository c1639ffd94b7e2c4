//! A small document model rendered twice: as Markdown (`report.md`, figures beside it) and as
//! self-contained HTML (`report.html`, SVG figures inlined).

use std::path::Path;

/// A block of a report.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    /// A heading of level 1–3.
    Heading(u8, String),
    /// A paragraph; `code` spans and **bold** are honoured in HTML.
    Paragraph(String),
    /// A bulleted list.
    List(Vec<String>),
    /// A table.
    Table {
        /// Column headers.
        header: Vec<String>,
        /// Rows of cells.
        rows: Vec<Vec<String>>,
    },
    /// A figure: `figures/<stem>.png`, `.svg` and `.pdf`.
    Figure {
        /// File stem under `figures/`.
        stem: String,
        /// Caption.
        caption: String,
    },
    /// Preformatted text.
    Code(String),
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The document as Markdown.
pub fn markdown(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Heading(level, text) => out.push_str(&format!("{} {text}\n\n", "#".repeat(usize::from(*level)))),
            Block::Paragraph(text) => out.push_str(&format!("{text}\n\n")),
            Block::List(items) => {
                for item in items {
                    out.push_str(&format!("- {item}\n"));
                }
                out.push('\n');
            }
            Block::Table { header, rows } => {
                out.push_str(&format!("| {} |\n", header.iter().map(|h| md_cell(h)).collect::<Vec<_>>().join(" | ")));
                out.push_str(&format!("|{}\n", "---|".repeat(header.len())));
                for row in rows {
                    out.push_str(&format!("| {} |\n", row.iter().map(|c| md_cell(c)).collect::<Vec<_>>().join(" | ")));
                }
                out.push('\n');
            }
            Block::Figure { stem, caption } => {
                out.push_str(&format!(
                    "![{stem}](figures/{stem}.png)\n\n*{caption}* ([SVG](figures/{stem}.svg), [PDF](figures/{stem}.pdf))\n\n"
                ));
            }
            Block::Code(text) => {
                // A fence longer than any run of backticks inside the text.
                let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
                let fence = "`".repeat(longest.max(2) + 1);
                out.push_str(&format!("{fence}\n{}\n{fence}\n\n", text.trim_end()));
            }
        }
    }
    out
}

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Escaped text with `code` spans and **bold**.
fn inline(s: &str) -> String {
    let mut out = String::new();
    for (i, part) in escape(s).split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str(&format!("<code>{part}</code>"));
        } else {
            for (j, piece) in part.split("**").enumerate() {
                if j % 2 == 1 {
                    out.push_str(&format!("<strong>{piece}</strong>"));
                } else {
                    out.push_str(piece);
                }
            }
        }
    }
    out
}

const STYLE: &str = "body{font-family:DejaVu Sans,Verdana,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}\
th{background:#f3f3f3}figure{margin:1.5em 0}figcaption{font-style:italic;font-size:14px}svg{max-width:100%;height:auto}\
pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:13px}code{background:#f3f3f3;padding:0 3px}";

/// The document as one HTML file; SVG figures are read from `figures_dir` and inlined.
pub fn html(title: &str, blocks: &[Block], figures_dir: &Path) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n",
        escape(title)
    );
    for block in blocks {
        match block {
            Block::Heading(level, text) => out.push_str(&format!("<h{level}>{}</h{level}>\n", inline(text))),
            Block::Paragraph(text) => out.push_str(&format!("<p>{}</p>\n", inline(text))),
            Block::List(items) => {
                out.push_str("<ul>");
                for item in items {
                    out.push_str(&format!("<li>{}</li>", inline(item)));
                }
                out.push_str("</ul>\n");
            }
            Block::Table { header, rows } => {
                out.push_str("<table><tr>");
                for h in header {
                    out.push_str(&format!("<th>{}</th>", inline(h)));
                }
                out.push_str("</tr>\n");
                for row in rows {
                    out.push_str("<tr>");
                    for c in row {
                        out.push_str(&format!("<td>{}</td>", inline(c)));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</table>\n");
            }
            Block::Figure { stem, caption } => {
                let svg = std::fs::read_to_string(figures_dir.join(format!("{stem}.svg"))).unwrap_or_default();
                // Drop an XML declaration, which is not allowed inside HTML.
                let svg = svg.trim_start().strip_prefix("<?xml").map_or(svg.as_str(), |rest| rest.split_once("?>").map_or(rest, |r| r.1));
                out.push_str(&format!("<figure>{svg}<figcaption>{}</figcaption></figure>\n", inline(caption)));
            }
            Block::Code(text) => out.push_str(&format!("<pre>{}</pre>\n", escape(text))),
        }
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_both_ways() {
        let blocks = vec![
            Block::Heading(2, "Verdict".into()),
            Block::Paragraph("use `hposim` **now** & <later>".into()),
            Block::Table { header: vec!["a|b".into(), "c".into()], rows: vec![vec!["1".into(), "2".into()]] },
        ];
        let md = markdown(&blocks);
        assert_eq!(markdown(&[Block::Code("a ``` b".into())]), "````\na ``` b\n````\n\n");
        assert!(md.contains("## Verdict\n"));
        assert!(md.contains("| a\\|b | c |\n|---|---|\n| 1 | 2 |\n"));
        let h = html("t", &blocks, Path::new("."));
        assert!(h.contains("<p>use <code>hposim</code> <strong>now</strong> &amp; &lt;later&gt;</p>"), "{h}");
    }
}
