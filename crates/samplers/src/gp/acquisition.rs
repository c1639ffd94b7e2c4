//! Maximising an acquisition function over a search space, as Optuna's `GPSampler` does
//! (`optuna/_gp/optim_mixed.py`) in spirit: score `candidates` configurations (half prior draws,
//! half perturbations of the best observed ones), then refine the `local_search` best by
//! best-improvement coordinate search with shrinking steps (every single-parameter move of the
//! current point scored in one batch; categoricals try every choice).

use super::features::Features;
use hposim_core::encoding::{from_unit, to_unit};
use hposim_core::{Domain, Rng, SearchSpace, Value};
use rand::RngExt;

/// Step sizes of the local search, in unit-cube coordinates.
const LOCAL_STEPS: [f64; 3] = [0.05, 0.01, 0.002];
/// Moves at most per step size of the local search.
const MAX_MOVES_PER_STEP: usize = 4;

/// The buffers of the search, reused between proposals.
#[derive(Debug, Default)]
pub struct Search {
    pool: Vec<Value>,
    pool_features: Vec<f64>,
    scores: Vec<f64>,
    moves: Vec<Value>,
    move_features: Vec<f64>,
    move_scores: Vec<f64>,
    /// Most single-parameter moves of a point: the local search's batch.
    batch: usize,
}

/// The batch an acquisition is asked to score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Batch {
    /// The candidate pool.
    Pool,
    /// The moves of a local-search step.
    Moves,
}

impl Search {
    /// Buffers for `space`.
    pub fn new(space: &SearchSpace) -> Self {
        let batch = space
            .params()
            .iter()
            .map(|p| p.domain.choice_count().filter(|_| matches!(p.domain, Domain::Categorical { .. })).unwrap_or(2))
            .sum();
        Self { batch, ..Self::default() }
    }

    /// The configuration (values) maximising `score` among `candidates` pool members and their
    /// refinements: half the pool are prior draws, half perturbations of `parents` (rows of
    /// `parent_values`, each `space.len()` values; the best observed first). `score(features,
    /// batch, out)` writes one score per row of `features`. `None` when nothing was scored.
    #[allow(clippy::too_many_arguments)] // The search's inputs, each needed once.
    pub fn maximise(
        &mut self,
        space: &SearchSpace,
        features: &Features,
        candidates: usize,
        local_search: usize,
        parent_values: &[Value],
        parents: &[usize],
        rng: &mut Rng,
        mut score: impl FnMut(&[f64], Batch, &mut [f64]),
    ) -> Option<Vec<Value>> {
        let (p, width) = (space.len(), features.width());
        self.pool.clear();
        for c in 0..candidates {
            let at = self.pool.len();
            if c % 2 == 0 || parents.is_empty() {
                self.pool.extend_from_slice(space.sample(rng).values());
            } else {
                let parent = parents[(c / 2) % parents.len()];
                self.pool.extend_from_slice(&parent_values[parent * p..(parent + 1) * p]);
                perturb(space, &mut self.pool[at..at + p], rng);
            }
        }
        self.pool_features.resize(candidates * width, 0.0);
        for c in 0..candidates {
            features.encode(space, &self.pool[c * p..(c + 1) * p], &mut self.pool_features[c * width..(c + 1) * width]);
        }
        self.scores.resize(candidates, 0.0);
        score(&self.pool_features, Batch::Pool, &mut self.scores);
        // A NaN score (a broken prediction) must neither lead the search nor stick as the best.
        self.scores.iter_mut().filter(|s| s.is_nan()).for_each(|s| *s = f64::NEG_INFINITY);
        let mut order: Vec<usize> = (0..candidates).collect();
        order.sort_by(|&a, &b| self.scores[b].total_cmp(&self.scores[a]).then(a.cmp(&b)));
        let mut best: Option<(f64, Vec<Value>)> = None;
        for &start in order.iter().take(local_search.max(1)) {
            let mut current: Vec<Value> = self.pool[start * p..(start + 1) * p].to_vec();
            let mut current_score = self.scores[start];
            for step in LOCAL_STEPS {
                for _ in 0..MAX_MOVES_PER_STEP {
                    let Some((winner, score_of_winner)) = self.best_move(space, features, &current, current_score, step, rng, &mut score)
                    else {
                        break;
                    };
                    current.copy_from_slice(&self.moves[winner * p..(winner + 1) * p]);
                    current_score = score_of_winner;
                }
            }
            if best.as_ref().is_none_or(|(b, _)| current_score > *b) {
                best = Some((current_score, current));
            }
        }
        best.map(|(_, values)| values)
    }

    /// [`Search::maximise`] for an acquisition with one score per level (fidelity or task): a
    /// configuration scores the best of its levels, and the winner comes back with its best
    /// level (the lowest of equals). `score(features, out)` writes `levels × rows` scores,
    /// level-major (`out[l * rows + j]`).
    #[allow(clippy::too_many_arguments)] // The search's inputs, each needed once.
    pub fn maximise_over_levels(
        &mut self,
        space: &SearchSpace,
        features: &Features,
        candidates: usize,
        local_search: usize,
        parent_values: &[Value],
        parents: &[usize],
        levels: usize,
        rng: &mut Rng,
        mut score: impl FnMut(&[f64], &mut Vec<f64>),
    ) -> Option<(Vec<Value>, usize)> {
        let mut by_level = Vec::new();
        let best = self.maximise(space, features, candidates, local_search, parent_values, parents, rng, |rows, _, scores| {
            score(rows, &mut by_level);
            let m = scores.len();
            for (j, s) in scores.iter_mut().enumerate() {
                *s = (0..levels).map(|l| by_level[l * m + j]).fold(f64::NEG_INFINITY, f64::max);
            }
        })?;
        let mut row = vec![0.0; features.width()];
        features.encode(space, &best, &mut row);
        score(&row, &mut by_level);
        let level = (0..levels).max_by(|&a, &b| by_level[a].total_cmp(&by_level[b]).then(b.cmp(&a)))?;
        Some((best, level))
    }

    /// Scores every single-parameter move of `current` by `step` (every other choice of a
    /// categorical) and returns the best (index into the moves, score) if it beats
    /// `current_score`, the first of equals.
    #[allow(clippy::too_many_arguments)] // One step of the search, with its buffers.
    fn best_move(
        &mut self,
        space: &SearchSpace,
        features: &Features,
        current: &[Value],
        current_score: f64,
        step: f64,
        rng: &mut Rng,
        score: &mut impl FnMut(&[f64], Batch, &mut [f64]),
    ) -> Option<(usize, f64)> {
        let (p, width) = (space.len(), features.width());
        self.moves.clear();
        for i in 0..p {
            if !current[i].is_active() {
                continue;
            }
            let domain = &space.params()[i].domain;
            let mut push = |value: Value, moves: &mut Vec<Value>| {
                if value != current[i] {
                    let at = moves.len();
                    moves.extend_from_slice(current);
                    moves[at + i] = value;
                    space.resolve_conditions(&mut moves[at..at + p], rng);
                }
            };
            match domain {
                Domain::Categorical { choices } => (0..choices.len() as u32).for_each(|c| push(Value::Choice(c), &mut self.moves)),
                _ => {
                    let u = to_unit(domain, current[i]);
                    push(from_unit(domain, u - step), &mut self.moves);
                    push(from_unit(domain, u + step), &mut self.moves);
                }
            }
        }
        let real = self.moves.len() / p;
        if real == 0 {
            return None;
        }
        // Pad to a fixed batch with copies of the current point so that the prediction buffers
        // keep their shape; only the real moves compete (a copy could otherwise win by an ulp,
        // its prediction made in another batch shape).
        let count = real.max(self.batch);
        for _ in real..count {
            self.moves.extend_from_slice(current);
        }
        self.move_features.resize(count * width, 0.0);
        for c in 0..count {
            features.encode(space, &self.moves[c * p..(c + 1) * p], &mut self.move_features[c * width..(c + 1) * width]);
        }
        self.move_scores.resize(count, 0.0);
        score(&self.move_features, Batch::Moves, &mut self.move_scores);
        let (winner, best) =
            (0..real).fold((None, current_score), |acc, c| if self.move_scores[c] > acc.1 { (Some(c), self.move_scores[c]) } else { acc });
        winner.map(|c| (c, best))
    }
}

/// Moves a configuration a little: each active numeric parameter by a normal step of 0.1 in the
/// unit cube with probability 1/2 (at least one), a categorical to another choice with the same
/// probability; conditions are re-resolved.
fn perturb(space: &SearchSpace, values: &mut [Value], rng: &mut Rng) {
    let params = space.params();
    let forced = rng.random_range(0..params.len());
    for (i, param) in params.iter().enumerate() {
        if !values[i].is_active() || (i != forced && rng.random::<f64>() < 0.5) {
            continue;
        }
        values[i] = match &param.domain {
            Domain::Categorical { choices } => Value::Choice(rng.random_range(0..choices.len()) as u32),
            domain => {
                let step = crate::normal::quantile(rng.random_range(1e-9..1.0 - 1e-9)) * 0.1;
                from_unit(domain, to_unit(domain, values[i]) + step)
            }
        };
    }
    space.resolve_conditions(values, rng);
}
