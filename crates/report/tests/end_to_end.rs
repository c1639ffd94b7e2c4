//! A report end to end: a small experiment is simulated, analysed and reported; every figure
//! must decode (PNG) or parse (SVG), the tables must be CSV with the expected headers, the
//! report must open with the verdict, and missing or foreign cells must be handled as the
//! issue asks (listed, or refused with a clear message).
#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use hposim_eval::{Options, analyse, load};
use hposim_report::style::Look;
use hposim_report::{ReportOptions, write_report};
use hposim_sim::{Experiment, RunOptions};
use std::path::Path;

const SMALL: &str = r#"
name = "small"
seeds = 6
workers = 2
price_per_worker_hour = 2.0
[budget]
compute_seconds = 40000
[[benchmarks]]
name = "smooth"
type = "synthetic"
max_epochs = 9
epoch_seconds = 60
[[benchmarks]]
name = "crossing"
type = "synthetic"
family = "crossing"
max_epochs = 9
epoch_seconds = 60
[[strategies]]
name = "random"
sampler = { type = "random" }
[[strategies]]
name = "asha"
sampler = { type = "random" }
scheduler = { type = "asha", eta = 3 }
[[strategies]]
name = "hyperband"
sampler = { type = "random" }
scheduler = { type = "hyperband", eta = 3 }
"#;

fn simulate(dir: &Path) -> std::path::PathBuf {
    let file = dir.join("small.toml");
    std::fs::write(&file, SMALL).unwrap();
    let experiment = Experiment::load(&file).unwrap();
    let results = dir.join("results");
    hposim_sim::run(
        &experiment,
        &RunOptions { out_dir: results.clone(), threads: 1, reuse_other_code: false, ..Default::default() },
        &|_, _| {},
    )
    .unwrap();
    results
}

/// The width and height attributes of an SVG file, in pixels.
fn svg_size(path: &Path) -> (u32, u32) {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let attribute = |name: &str| doc.root_element().attribute(name).unwrap().trim_end_matches("px").parse::<u32>().unwrap();
    (attribute("width"), attribute("height"))
}

/// Every figure is there as SVG, PDF and PNG: the SVG parses and has text, the PNG decodes at
/// twice the SVG's size and is not blank, the PDF parses (lopdf) as one page of the SVG's size
/// (1 px = 0.75 pt) whose content stream decodes and draws text in an embedded font.
fn check_figures(figures: &[std::path::PathBuf]) {
    assert!(!figures.is_empty());
    for path in figures {
        let bytes = std::fs::read(path).unwrap();
        assert!(!bytes.is_empty(), "{}", path.display());
        for extension in ["svg", "pdf", "png"] {
            assert!(path.with_extension(extension).is_file(), "{} has no {extension}", path.display());
        }
        let (width, height) = svg_size(&path.with_extension("svg"));
        match path.extension().and_then(|e| e.to_str()) {
            Some("png") => {
                let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
                let mut reader = decoder.read_info().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let mut buf = vec![0; reader.output_buffer_size()];
                let info = reader.next_frame(&mut buf).unwrap();
                assert_eq!((info.width, info.height), (2 * width, 2 * height), "{}: not at twice the SVG's size", path.display());
                // Not a blank canvas: some pixel differs from the white background.
                assert!(buf[..info.buffer_size()].iter().any(|&b| b < 200), "{} is blank", path.display());
            }
            Some("svg") => {
                let text = String::from_utf8(bytes).unwrap();
                let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert_eq!(doc.root_element().tag_name().name(), "svg");
                assert!(doc.descendants().any(|n| n.tag_name().name() == "text"), "{} has no text", path.display());
            }
            Some("pdf") => {
                let doc = lopdf::Document::load_mem(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let pages = doc.get_pages();
                assert_eq!(pages.len(), 1, "{}", path.display());
                let page = *pages.values().next().unwrap();
                let media = doc.get_object(page).unwrap().as_dict().unwrap().get(b"MediaBox").unwrap().as_array().unwrap().clone();
                let number = |o: &lopdf::Object| o.as_float().map(f64::from).or_else(|_| o.as_i64().map(|i| i as f64)).unwrap();
                let (w, h) = (number(&media[2]) - number(&media[0]), number(&media[3]) - number(&media[1]));
                assert!(
                    (w - 0.75 * f64::from(width)).abs() < 1.0 && (h - 0.75 * f64::from(height)).abs() < 1.0,
                    "{}: {w} × {h} pt",
                    path.display()
                );
                let content = doc.get_and_decode_page_content(page).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert!(content.operations.iter().any(|op| op.operator == "Tj" || op.operator == "TJ"), "{} draws no text", path.display());
                assert!(
                    !doc.get_page_fonts(page).unwrap().is_empty() || content.operations.iter().any(|op| op.operator == "Do"),
                    "{} embeds no font",
                    path.display()
                );
            }
            other => panic!("unexpected figure file {other:?}"),
        }
    }
}

#[test]
fn a_small_experiment_is_reported_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let results_dir = simulate(dir.path());
    let results = load(&results_dir).unwrap();
    assert_eq!(results.cells.len(), 2 * 3 * 6);
    assert!(results.missing.is_empty());
    let analysis = analyse(&results, &Options::default());
    let out = dir.path().join("report");
    let written = write_report(
        &results,
        &analysis,
        &ReportOptions { out_dir: out.clone(), reproduce: vec!["hposim run small.toml".into()], look: Look::SCREEN },
    )
    .unwrap();
    check_figures(&written.figures);
    let stems: Vec<String> = written.figures.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    for expected in [
        "anytime__smooth.png",
        "anytime-compute__crossing.svg",
        "ranks.png",
        "ecdf.svg",
        "speedup.png",
        "utilisation.png",
        "cd__smooth__seeds_as_blocks.png",
    ] {
        assert!(stems.iter().any(|s| s == expected), "{expected} missing from {stems:?}");
    }
    assert!(stems.iter().any(|s| s.starts_with("rungs__smooth__hyperband")), "{stems:?}");
    assert!(stems.iter().any(|s| s.starts_with("timeline__smooth__asha")), "{stems:?}");
    assert!(stems.iter().any(|s| s == "anytime__smooth.pdf"), "{stems:?}");
    let md = std::fs::read_to_string(&written.markdown).unwrap();
    let verdict = md.find("## Verdict").unwrap();
    assert!(verdict < md.find("## Figures").unwrap() && md.find("## Figures").unwrap() < md.find("## Statistical tests").unwrap());
    assert!(md.contains("| smooth | ") && md.contains("| crossing | "), "{md}");
    // FIFO random search terminates nothing early: the compute table shows no "saved" for it.
    assert!(md.lines().any(|l| l.starts_with("| smooth | random |") && l.contains("| — |")), "{md}");
    assert!(md.contains("hposim run small.toml"));
    // Two benchmarks are too few for the Friedman test across benchmarks, and the report says so.
    assert!(md.contains("Friedman test (across benchmarks): not run — too few benchmarks: 2"), "{md}");
    let html = std::fs::read_to_string(&written.html).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.matches("<svg").count() >= 10 && !html.contains("<?xml"));
    let verdict_csv = std::fs::read_to_string(out.join("tables/verdict.csv")).unwrap();
    assert!(
        verdict_csv.starts_with("benchmark,best_strategies,not_significantly_worse,no_significant_difference,measure,final_median,"),
        "{verdict_csv}"
    );
    assert_eq!(verdict_csv.lines().count(), 3);
    let strategies = std::fs::read_to_string(out.join("tables/strategies.csv")).unwrap();
    assert_eq!(strategies.lines().count(), 1 + 2 * 3);
    let trajectories = std::fs::read_to_string(out.join("tables/trajectories.csv")).unwrap();
    assert!(trajectories.starts_with("benchmark,strategy,seed,time_seconds,compute_seconds,measure,regret\n"));
    // At least one incumbent per cell.
    assert!(trajectories.lines().count() > 36);
    assert!(md.contains("finding (Holm-corrected Wilcoxon signed-rank, α = 0.05)"), "{md}");
    assert!(md.contains("share of seeds won [95 % CI]"), "{md}");
    let wilcoxon = std::fs::read_to_string(out.join("tables/wilcoxon.csv")).unwrap();
    assert_eq!(wilcoxon.lines().count(), 1 + 2 * 3, "{wilcoxon}");
}

#[test]
fn missing_cells_are_listed_and_foreign_traces_refused() {
    let dir = tempfile::tempdir().unwrap();
    let results_dir = simulate(dir.path());
    let cells = results_dir.join("cells");
    let mut summaries: Vec<_> =
        std::fs::read_dir(&cells).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "json")).collect();
    summaries.sort();
    // An interrupted cell (trace without summary) and one never run.
    std::fs::remove_file(&summaries[0]).unwrap();
    std::fs::remove_file(summaries[1].with_extension("parquet")).unwrap();
    std::fs::remove_file(&summaries[1]).unwrap();
    let results = load(&results_dir).unwrap();
    assert_eq!(results.cells.len(), 34);
    assert_eq!(results.missing.len(), 2);
    assert!(results.missing.iter().any(|m| m.reason.starts_with("unfinished")));
    assert!(results.missing.iter().any(|m| m.reason == "not run yet"));
    let analysis = analyse(&results, &Options::default());
    let out = dir.path().join("report");
    let written =
        write_report(&results, &analysis, &ReportOptions { out_dir: out.clone(), reproduce: vec![], look: Look::SCREEN }).unwrap();
    let md = std::fs::read_to_string(&written.markdown).unwrap();
    assert!(md.contains("34 of 36 cells") && md.contains("## Missing cells") && md.contains("not run yet"), "{md}");
    assert_eq!(std::fs::read_to_string(out.join("tables/missing.csv")).unwrap().lines().count(), 3);

    // A summary of another trace format is refused, naming the file and both versions.
    let text = std::fs::read_to_string(&summaries[2]).unwrap().replacen("\"trace_format\": 1", "\"trace_format\": 7", 1);
    std::fs::write(&summaries[2], text).unwrap();
    let error = load(&results_dir).unwrap_err().to_string();
    assert!(
        error.contains(&summaries[2].display().to_string()) && error.contains("trace format 7") && error.contains("reads format 1"),
        "{error}"
    );
    // So is a manifest of another format.
    let manifest = results_dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap().replacen("\"trace_format\": 1", "\"trace_format\": 2", 1);
    std::fs::write(&manifest, text).unwrap();
    assert!(load(&results_dir).unwrap_err().to_string().contains("written with trace format 2"));
}

#[test]
fn an_empty_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("cells")).unwrap();
    let error = load(dir.path()).unwrap_err().to_string();
    assert!(error.contains("no finished cells"), "{error}");
}

#[test]
fn seeds_without_a_result_count_as_infinitely_bad_and_no_verdict_is_invented() {
    // 45 simulated seconds of one worker with 60-second epochs: most seeds end before their first
    // step, so no strategy has a result in at least half its seeds.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("partial.toml");
    std::fs::write(
        &file,
        "name = \"partial\"\nseeds = 10\nworkers = 1\n[budget]\nwallclock_seconds = 45\n[[benchmarks]]\nname = \"b\"\ntype = \"synthetic\"\nmax_epochs = 27\nepoch_seconds = 60\n[[strategies]]\nname = \"random\"\nsampler = { type = \"random\" }\n[[strategies]]\nname = \"asha\"\nsampler = { type = \"random\" }\nscheduler = { type = \"asha\", eta = 3 }\n",
    )
    .unwrap();
    let experiment = Experiment::load(&file).unwrap();
    let results_dir = dir.path().join("results");
    hposim_sim::run(
        &experiment,
        &RunOptions { out_dir: results_dir.clone(), threads: 1, reuse_other_code: false, ..Default::default() },
        &|_, _| {},
    )
    .unwrap();
    let results = load(&results_dir).unwrap();
    let analysis = analyse(&results, &Options::default());
    let bench = &analysis.benchmarks[0];
    for s in &bench.strategies {
        // Every seed ran; those without an incumbent are infinitely bad, never dropped.
        assert_eq!(s.finals.iter().flatten().count(), 10);
        let without = s.finals.iter().flatten().filter(|f| f.is_infinite()).count();
        assert!(without > 5, "{}: {without}", s.name);
        assert_eq!(s.final_score.unwrap().value, f64::INFINITY);
    }
    assert!(analysis.verdict.is_empty());
    let out = dir.path().join("report");
    let written = write_report(&results, &analysis, &ReportOptions { out_dir: out, reproduce: vec![], look: Look::SCREEN }).unwrap();
    check_figures(&written.figures);
    let md = std::fs::read_to_string(&written.markdown).unwrap();
    assert!(md.contains("No verdict for b: no strategy has a result in at least half its seeds"), "{md}");
}

#[test]
fn a_multi_objective_experiment_gets_hypervolume_and_attainment_views() {
    let text = r#"
name = "mo"
seeds = 4
workers = 2
[budget]
compute_seconds = 600
[[benchmarks]]
name = "zdt1"
type = "zdt"
variables = 3
steps = 9
[[strategies]]
name = "random"
sampler = { type = "random" }
[[strategies]]
name = "mo-asha"
sampler = { type = "random" }
scheduler = { type = "mo_asha" }
"#;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mo.toml");
    std::fs::write(&file, text).unwrap();
    let experiment = Experiment::load(&file).unwrap();
    let results_dir = dir.path().join("results");
    hposim_sim::run(
        &experiment,
        &RunOptions { out_dir: results_dir.clone(), threads: 1, reuse_other_code: false, ..Default::default() },
        &|_, _| {},
    )
    .unwrap();
    let results = load(&results_dir).unwrap();
    assert!(results.cells.iter().all(|c| c.trace.metrics.len() == 2 * c.trace.len()));
    let analysis = analyse(&results, &Options::default());
    let out = dir.path().join("report");
    let written = write_report(&results, &analysis, &ReportOptions { out_dir: out, reproduce: Vec::new(), look: Look::SCREEN }).unwrap();
    check_figures(&written.figures);
    let stems: Vec<String> = written.figures.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    for expected in ["hypervolume__zdt1.png", "attainment__zdt1.svg"] {
        assert!(stems.iter().any(|s| s == expected), "{expected} missing from {stems:?}");
    }
    let md = std::fs::read_to_string(&written.markdown).unwrap();
    assert!(md.contains("## Multi-objective") && md.contains("reference point (11.00, 11.00)"), "{md}");
    // The table's final hypervolumes are the summaries' medians.
    let median = |strategy: &str| {
        let mut v: Vec<f64> =
            results.cells.iter().filter(|c| c.summary.strategy == strategy).map(|c| c.summary.hypervolume.unwrap()).collect();
        v.sort_by(f64::total_cmp);
        (v[1] + v[2]) / 2.0
    };
    assert!(md.contains(&format!("| random | {:.4} [", median("random"))), "{md}");
    assert!(md.contains(&format!("| mo-asha | {:.4} [", median("mo-asha"))), "{md}");
}

/// A live study's seeds are not pairs (strategies share no training noise): its results are
/// tested unpaired, Mann–Whitney U and Kruskal–Wallis, and the report says so; simulated
/// results are paired by seed (common random numbers), Wilcoxon and Friedman.
#[test]
fn live_results_are_tested_unpaired_and_simulated_ones_paired() {
    let dir = tempfile::tempdir().unwrap();
    let results_dir = simulate(dir.path());
    let paired = analyse(&load(&results_dir).unwrap(), &Options::default());
    assert!(paired.benchmarks.iter().all(|b| b.paired && b.kruskal.is_none() && b.rank_test.is_ok()));
    assert!(paired.benchmarks[0].pairwise.iter().all(|t| t.outcome.as_ref().is_ok_and(|o| o.method != "normal" || t.pairs >= 6)));
    // The same files, marked as a live study.
    let manifest = results_dir.join(hposim_core::MANIFEST_FILE);
    let text = std::fs::read_to_string(&manifest).unwrap().replace("\"kind\": \"simulated\"", "\"kind\": \"live\"");
    assert!(text.contains("\"kind\": \"live\""), "{text}");
    std::fs::write(&manifest, text).unwrap();
    let results = load(&results_dir).unwrap();
    let unpaired = analyse(&results, &Options::default());
    for bench in &unpaired.benchmarks {
        assert!(!bench.paired);
        assert!(bench.rank_test.as_ref().is_err_and(|why| why.contains("not blocks")));
        let kruskal = bench.kruskal.as_ref().unwrap().as_ref().unwrap();
        assert!(kruskal.p_value > 0.0 && kruskal.p_value <= 1.0 && kruskal.mean_ranks.len() == 3);
        for test in &bench.pairwise {
            let outcome = test.outcome.as_ref().unwrap();
            // Six runs a side, no ties among final regrets: the exact distribution.
            assert_eq!((test.pairs, outcome.method.as_str()), (6, "exact"), "{test:?}");
        }
    }
    let out = dir.path().join("report");
    write_report(&results, &unpaired, &ReportOptions { out_dir: out.clone(), reproduce: vec![], look: Look::SCREEN }).unwrap();
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("unpaired, because these are live studies") && md.contains("Kruskal–Wallis test (smooth): H = "), "{md}");
    assert!(
        md.contains("finding (Holm-corrected Mann–Whitney U, α = 0.05)")
            && md.contains("| a | b | runs (fewer side) | median a − median b (measure) | U (of a) |")
            && md.contains("Vargha–Delaney A [95 % CI]")
            && md.contains("wall clock (")
            && !md.contains("simulated wall clock"),
        "{md}"
    );
}
