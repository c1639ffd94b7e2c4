//! Evaluation of hposim results: reading a results directory, incumbent trajectories under
//! HpBandSter's and Syne Tune's conventions, regret and normalised regret, aggregation over
//! seeds with bootstrap intervals, ranks over time, speed-ups over a baseline, fixed-target
//! ECDFs and expected running times, the statistical tests of Demšar (2006), and Pareto
//! machinery (non-dominated sorting, crowding distance, exact hypervolume). The
//! [`analysis`] module puts them together for `hposim report`; [`tables`] turns an analysis
//! into polars data frames.

/// The Pareto machinery, kept at its old paths (it moved to `hposim_core::pareto`).
pub use hposim_core::pareto::{crowding, hypervolume, non_dominated};

pub mod aggregate;
pub mod analysis;
pub mod bootstrap;
pub mod compare;
pub mod comparisons;
pub mod export;
pub mod fixed_target;
pub mod friedman;
pub mod holm;
pub mod incumbent;
pub mod mann_whitney;
pub mod multi_objective;
pub mod nemenyi;
pub mod quantile;
pub mod rank_correlation;
pub mod ranks;
pub mod results;
pub mod scale;
pub mod speedup;
pub mod strategy_table;
pub mod studentized_range;
pub mod tables;
pub mod trimmed_mean;
pub mod vargha_delaney;
pub mod wilcoxon;

pub use analysis::{Analysis, Options, analyse};
pub use incumbent::Convention;
pub use quantile::quantile;
pub use rank_correlation::spearman;
pub use results::{Results, ResultsError, load};
pub use strategy_table::{Spread, StrategyRow, strategy_table};
