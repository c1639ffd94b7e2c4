//! Evaluation of simulated runs. For now: per-strategy statistics over seeds of the cell
//! summaries (median and interquartile range of the final regret, compute and cost), which
//! `hposim run` prints at the end. Incumbent trajectories, ranks, speed-ups and tests build on
//! this crate in later work.

pub mod quantile;
pub mod rank_correlation;
pub mod strategy_table;

pub use quantile::quantile;
pub use rank_correlation::spearman;
pub use strategy_table::{Spread, StrategyRow, strategy_table};
