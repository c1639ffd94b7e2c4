//! Search spaces: float and integer parameters on linear or log scales, categorical and ordinal
//! parameters, and conditional parameters that are active only while a parent takes given
//! values (conditions nest: a child of a conditional parameter is active only when its parent
//! is).
//!
//! A space is written as a list of [`ParamSpec`] (the form used in experiment files) and
//! validated once into a [`SearchSpace`], whose parameters are stored parents-first so that
//! samplers can fill a configuration in one pass.

use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A value that a categorical or ordinal parameter can take, or that a condition names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Choice {
    /// `true` or `false`.
    Bool(bool),
    /// An integer, such as a batch size.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A label, such as an optimizer's name.
    Text(String),
}

impl Choice {
    /// The choice as a number, where it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Choice::Int(i) => Some(*i as f64),
            Choice::Float(x) => Some(*x),
            Choice::Bool(_) | Choice::Text(_) => None,
        }
    }

    /// Equality that treats `1` and `1.0` as the same value, as a user writing TOML expects.
    pub fn same_as(&self, other: &Choice) -> bool {
        match (self.as_f64(), other.as_f64()) {
            (Some(a), Some(b)) => a == b,
            _ => self == other,
        }
    }

    /// The choice as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Choice::Bool(b) => serde_json::Value::Bool(*b),
            Choice::Int(i) => serde_json::Value::from(*i),
            Choice::Float(x) => serde_json::Number::from_f64(*x).map_or(serde_json::Value::Null, serde_json::Value::Number),
            Choice::Text(s) => serde_json::Value::String(s.clone()),
        }
    }
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Choice::Bool(b) => write!(f, "{b}"),
            Choice::Int(i) => write!(f, "{i}"),
            Choice::Float(x) => write!(f, "{x}"),
            Choice::Text(s) => write!(f, "{s:?}"),
        }
    }
}

/// A condition as written in an experiment file: the parameter is active only while `parent`
/// is active and takes one of `values`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionSpec {
    /// Name of the parent parameter (categorical, ordinal or integer).
    pub parent: String,
    /// The parent values under which the parameter is active.
    pub values: Vec<Choice>,
}

/// One parameter as written in an experiment file; `type` selects the kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ParamSpec {
    /// A real number in `[low, high]`, sampled uniformly on a linear or log scale.
    Float {
        /// Parameter name.
        name: String,
        /// Lower bound (inclusive).
        low: f64,
        /// Upper bound (inclusive).
        high: f64,
        /// Whether to search on a log scale (needs `low > 0`).
        #[serde(default)]
        log: bool,
        /// Optional condition on a parent parameter.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        condition: Option<ConditionSpec>,
    },
    /// An integer in `[low, high]`, on a linear or log scale.
    Int {
        /// Parameter name.
        name: String,
        /// Lower bound (inclusive).
        low: i64,
        /// Upper bound (inclusive).
        high: i64,
        /// Whether to search on a log scale (needs `low >= 1`).
        #[serde(default)]
        log: bool,
        /// Optional condition on a parent parameter.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        condition: Option<ConditionSpec>,
    },
    /// One of a set of unordered choices.
    Categorical {
        /// Parameter name.
        name: String,
        /// The choices (at least one, no duplicates).
        choices: Vec<Choice>,
        /// Optional condition on a parent parameter.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        condition: Option<ConditionSpec>,
    },
    /// One of a list of ordered values (neighbours are similar), e.g. `[16, 32, 64]`.
    Ordinal {
        /// Parameter name.
        name: String,
        /// The values in order (at least one, no duplicates).
        values: Vec<Choice>,
        /// Optional condition on a parent parameter.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        condition: Option<ConditionSpec>,
    },
}

impl ParamSpec {
    /// The parameter's name.
    pub fn name(&self) -> &str {
        match self {
            ParamSpec::Float { name, .. }
            | ParamSpec::Int { name, .. }
            | ParamSpec::Categorical { name, .. }
            | ParamSpec::Ordinal { name, .. } => name,
        }
    }

    fn condition(&self) -> Option<&ConditionSpec> {
        match self {
            ParamSpec::Float { condition, .. }
            | ParamSpec::Int { condition, .. }
            | ParamSpec::Categorical { condition, .. }
            | ParamSpec::Ordinal { condition, .. } => condition.as_ref(),
        }
    }

    fn domain(&self) -> Domain {
        match self {
            ParamSpec::Float { low, high, log, .. } => Domain::Float { low: *low, high: *high, log: *log },
            ParamSpec::Int { low, high, log, .. } => Domain::Int { low: *low, high: *high, log: *log },
            ParamSpec::Categorical { choices, .. } => Domain::Categorical { choices: choices.clone() },
            ParamSpec::Ordinal { values, .. } => Domain::Ordinal { values: values.clone() },
        }
    }
}

/// The validated domain of a parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum Domain {
    /// Real numbers in `[low, high]`.
    Float {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
        /// Log scale.
        log: bool,
    },
    /// Integers in `[low, high]`.
    Int {
        /// Lower bound.
        low: i64,
        /// Upper bound.
        high: i64,
        /// Log scale.
        log: bool,
    },
    /// Unordered choices.
    Categorical {
        /// The choices.
        choices: Vec<Choice>,
    },
    /// Ordered values.
    Ordinal {
        /// The values, in order.
        values: Vec<Choice>,
    },
}

impl Domain {
    /// Number of choices of a categorical or ordinal domain (`None` for numbers).
    pub fn choice_count(&self) -> Option<usize> {
        match self {
            Domain::Categorical { choices } => Some(choices.len()),
            Domain::Ordinal { values } => Some(values.len()),
            Domain::Float { .. } | Domain::Int { .. } => None,
        }
    }

    /// The choices of a categorical or ordinal domain.
    pub fn choices(&self) -> Option<&[Choice]> {
        match self {
            Domain::Categorical { choices } => Some(choices),
            Domain::Ordinal { values } => Some(values),
            Domain::Float { .. } | Domain::Int { .. } => None,
        }
    }
}

/// A validated condition: active while parameter `parent` (an index into the space, always
/// earlier than the child) is active and takes one of `allowed`.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// Index of the parent parameter.
    pub parent: usize,
    /// Parent values that activate the child ([`Value::Choice`] or [`Value::Int`]).
    pub allowed: Vec<Value>,
}

/// A validated parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// Name, unique within the space.
    pub name: String,
    /// Domain.
    pub domain: Domain,
    /// Condition, if the parameter is conditional.
    pub condition: Option<Condition>,
}

/// Why a search space was refused. Each variant names the parameter concerned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpaceError {
    /// The space has no parameters.
    #[error("the search space has no parameters")]
    Empty,
    /// A parameter has an empty name.
    #[error("parameter #{0} has an empty name")]
    EmptyName(usize),
    /// Two parameters share a name.
    #[error("parameter `{0}` is defined twice")]
    DuplicateName(String),
    /// A bound is NaN or infinite.
    #[error("parameter `{param}`: bounds must be finite numbers, got low = {low}, high = {high}")]
    NonFiniteBound {
        /// Parameter.
        param: String,
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// `low >= high`.
    #[error("parameter `{param}`: low ({low}) must be below high ({high})")]
    LowNotBelowHigh {
        /// Parameter.
        param: String,
        /// Lower bound.
        low: String,
        /// Upper bound.
        high: String,
    },
    /// A range too wide to represent: its width overflows, or int bounds beyond ±2^53.
    #[error("parameter `{param}`: the range [{low}, {high}] is too wide to search (its width must be a finite number{extra})")]
    RangeTooWide {
        /// Parameter.
        param: String,
        /// Lower bound.
        low: String,
        /// Upper bound.
        high: String,
        /// Extra requirement for ints.
        extra: &'static str,
    },
    /// A log scale on a range that touches or crosses zero.
    #[error("parameter `{param}`: a log scale needs {needed}, but low is {low}")]
    LogRangeTouchesZero {
        /// Parameter.
        param: String,
        /// The lower bound given.
        low: String,
        /// What the lower bound must satisfy.
        needed: &'static str,
    },
    /// A categorical or ordinal parameter without choices.
    #[error("parameter `{0}`: needs at least one choice")]
    EmptyChoices(String),
    /// A categorical or ordinal parameter lists a number that is not finite (NaN or ±inf), which
    /// no trial could be run with or compared against.
    #[error("parameter `{param}`: choice #{index} is {choice}; choices must be finite numbers")]
    NonFiniteChoice {
        /// Parameter.
        param: String,
        /// Position of the choice in the list (0-based).
        index: usize,
        /// The choice as written.
        choice: String,
    },
    /// A categorical or ordinal parameter lists a choice twice.
    #[error("parameter `{param}`: choice {choice} is listed twice")]
    DuplicateChoice {
        /// Parameter.
        param: String,
        /// The repeated choice.
        choice: String,
    },
    /// A condition names a parameter that does not exist.
    #[error("parameter `{param}`: condition names unknown parent `{parent}`")]
    UnknownParent {
        /// Parameter.
        param: String,
        /// The parent named.
        parent: String,
    },
    /// A condition names its own parameter.
    #[error("parameter `{0}`: a condition cannot name the parameter itself")]
    SelfParent(String),
    /// A condition's parent is a float parameter, whose exact values cannot be matched.
    #[error("parameter `{param}`: parent `{parent}` is a float parameter; conditions need a categorical, ordinal or integer parent")]
    FloatParent {
        /// Parameter.
        param: String,
        /// The parent named.
        parent: String,
    },
    /// A condition lists no values.
    #[error("parameter `{0}`: condition lists no parent values")]
    EmptyCondition(String),
    /// A condition names a value its parent cannot take.
    #[error("parameter `{param}`: condition value {value} is not a value parent `{parent}` can take")]
    ImpossibleConditionValue {
        /// Parameter.
        param: String,
        /// The parent named.
        parent: String,
        /// The impossible value.
        value: String,
    },
    /// Conditions form a cycle.
    #[error("conditions form a cycle through parameter `{0}`")]
    ConditionCycle(String),
}

/// A validated search space. Parameters are stored parents-first (a stable topological order
/// of the conditions), so that any pass over them sees a parent before its children.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchSpace {
    params: Vec<Param>,
    specs: Vec<ParamSpec>,
}

impl SearchSpace {
    /// Validates `specs` into a search space.
    pub fn new(specs: &[ParamSpec]) -> Result<Self, SpaceError> {
        if specs.is_empty() {
            return Err(SpaceError::Empty);
        }
        for (i, spec) in specs.iter().enumerate() {
            if spec.name().trim().is_empty() {
                return Err(SpaceError::EmptyName(i));
            }
            if specs[..i].iter().any(|other| other.name() == spec.name()) {
                return Err(SpaceError::DuplicateName(spec.name().to_owned()));
            }
            validate_domain(spec.name(), &spec.domain())?;
        }
        let order = parents_first(specs)?;
        let mut params: Vec<Param> = Vec::with_capacity(specs.len());
        for &i in &order {
            let spec = &specs[i];
            let condition = match spec.condition() {
                None => None,
                Some(cond) => Some(resolve_condition(spec.name(), cond, &params)?),
            };
            params.push(Param { name: spec.name().to_owned(), domain: spec.domain(), condition });
        }
        let specs = order.iter().map(|&i| specs[i].clone()).collect();
        Ok(Self { params, specs })
    }

    /// The parameters, parents first.
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// The parameter specifications, in the same order as [`Self::params`].
    pub fn specs(&self) -> &[ParamSpec] {
        &self.specs
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.params.len()
    }

    /// Whether the space has no parameters (never true for a validated space).
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// Index of the parameter called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|p| p.name == name)
    }

    /// Whether parameter `index` is active given the values of the earlier parameters.
    ///
    /// Only `values[..index]` is read, so a sampler can call this while filling a
    /// configuration front to back.
    pub fn is_active(&self, index: usize, values: &[Value]) -> bool {
        match &self.params[index].condition {
            None => true,
            Some(cond) => {
                let parent = values.get(cond.parent).copied().unwrap_or(Value::Inactive);
                parent.is_active() && cond.allowed.contains(&parent)
            }
        }
    }

    /// The first parameter (index, in the space's order) whose value in `values` breaks the
    /// space, and how; `None` if every parameter is fine. `values` must have one entry per
    /// parameter (missing entries read as inactive).
    pub fn violation(&self, values: &[Value]) -> Option<(usize, Violation)> {
        self.params.iter().enumerate().find_map(|(index, param)| {
            let active = self.is_active(index, values);
            let problem = match (values.get(index).copied().unwrap_or(Value::Inactive), &param.domain) {
                (Value::Inactive, _) if active => Violation::MissingActive,
                (Value::Inactive, _) => return None,
                (_, _) if !active => Violation::SetWhileInactive,
                (Value::Float(x), Domain::Float { low, high, .. }) if x >= *low && x <= *high => return None,
                (Value::Int(i), Domain::Int { low, high, .. }) if i >= *low && i <= *high => return None,
                (Value::Choice(c), domain) if domain.choice_count().is_some_and(|n| (c as usize) < n) => return None,
                (Value::Float(_), Domain::Float { .. })
                | (Value::Int(_), Domain::Int { .. })
                | (Value::Choice(_), Domain::Categorical { .. } | Domain::Ordinal { .. }) => Violation::OutOfDomain,
                _ => Violation::WrongKind,
            };
            Some((index, problem))
        })
    }
}

/// How a value breaks a search space ([`SearchSpace::violation`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Violation {
    /// The parameter's condition holds, but it has no value.
    MissingActive,
    /// The parameter has a value, but its condition does not hold.
    SetWhileInactive,
    /// The value lies outside the parameter's bounds or choices.
    OutOfDomain,
    /// The value is of another kind than the parameter (a float for an int parameter, ...).
    WrongKind,
}

fn validate_domain(name: &str, domain: &Domain) -> Result<(), SpaceError> {
    match domain {
        Domain::Float { low, high, log } => {
            if !low.is_finite() || !high.is_finite() {
                return Err(SpaceError::NonFiniteBound { param: name.to_owned(), low: *low, high: *high });
            }
            if low >= high {
                return Err(SpaceError::LowNotBelowHigh { param: name.to_owned(), low: low.to_string(), high: high.to_string() });
            }
            if *log && *low <= 0.0 {
                return Err(SpaceError::LogRangeTouchesZero { param: name.to_owned(), low: low.to_string(), needed: "low > 0" });
            }
            if !(high - low).is_finite() {
                return Err(SpaceError::RangeTooWide { param: name.to_owned(), low: low.to_string(), high: high.to_string(), extra: "" });
            }
        }
        Domain::Int { low, high, log } => {
            if low >= high {
                return Err(SpaceError::LowNotBelowHigh { param: name.to_owned(), low: low.to_string(), high: high.to_string() });
            }
            if *log && *low < 1 {
                return Err(SpaceError::LogRangeTouchesZero { param: name.to_owned(), low: low.to_string(), needed: "low >= 1" });
            }
            // Bounds within ±2^53 are exact as floats, and their width cannot overflow.
            const EXACT: i64 = 1 << 53;
            if *low < -EXACT || *high > EXACT {
                return Err(SpaceError::RangeTooWide {
                    param: name.to_owned(),
                    low: low.to_string(),
                    high: high.to_string(),
                    extra: ", with bounds within ±2^53",
                });
            }
        }
        Domain::Categorical { choices: values } | Domain::Ordinal { values } => {
            if values.is_empty() {
                return Err(SpaceError::EmptyChoices(name.to_owned()));
            }
            for (i, v) in values.iter().enumerate() {
                if let Choice::Float(x) = v
                    && !x.is_finite()
                {
                    return Err(SpaceError::NonFiniteChoice { param: name.to_owned(), index: i, choice: x.to_string() });
                }
                if values[..i].iter().any(|w| w.same_as(v)) {
                    return Err(SpaceError::DuplicateChoice { param: name.to_owned(), choice: v.to_string() });
                }
            }
        }
    }
    Ok(())
}

/// A stable topological order: repeatedly takes the earliest parameter whose parent is placed.
fn parents_first(specs: &[ParamSpec]) -> Result<Vec<usize>, SpaceError> {
    let parent_of: Vec<Option<usize>> = specs
        .iter()
        .map(|spec| match spec.condition() {
            None => Ok(None),
            Some(cond) => {
                if cond.parent == spec.name() {
                    return Err(SpaceError::SelfParent(spec.name().to_owned()));
                }
                specs
                    .iter()
                    .position(|p| p.name() == cond.parent)
                    .map(Some)
                    .ok_or_else(|| SpaceError::UnknownParent { param: spec.name().to_owned(), parent: cond.parent.clone() })
            }
        })
        .collect::<Result<_, _>>()?;
    let mut placed = vec![false; specs.len()];
    let mut order = Vec::with_capacity(specs.len());
    while order.len() < specs.len() {
        let next = (0..specs.len()).find(|&i| !placed[i] && parent_of[i].is_none_or(|p| placed[p]));
        match next {
            Some(i) => {
                placed[i] = true;
                order.push(i);
            }
            None => {
                // Follow parents from an unplaced parameter until one repeats: that one lies on
                // the cycle (the first unplaced parameter may only hang below it).
                let mut at = (0..specs.len()).find(|&i| !placed[i]).unwrap_or(0);
                let mut seen = vec![false; specs.len()];
                while !seen[at] {
                    seen[at] = true;
                    at = parent_of[at].unwrap_or(at);
                }
                return Err(SpaceError::ConditionCycle(specs[at].name().to_owned()));
            }
        }
    }
    Ok(order)
}

fn resolve_condition(name: &str, cond: &ConditionSpec, placed: &[Param]) -> Result<Condition, SpaceError> {
    let parent = placed
        .iter()
        .position(|p| p.name == cond.parent)
        .ok_or_else(|| SpaceError::UnknownParent { param: name.to_owned(), parent: cond.parent.clone() })?;
    if cond.values.is_empty() {
        return Err(SpaceError::EmptyCondition(name.to_owned()));
    }
    let parent_param = &placed[parent];
    let impossible = |value: &Choice| SpaceError::ImpossibleConditionValue {
        param: name.to_owned(),
        parent: cond.parent.clone(),
        value: value.to_string(),
    };
    let mut allowed = Vec::with_capacity(cond.values.len());
    for value in &cond.values {
        let resolved = match &parent_param.domain {
            Domain::Float { .. } => {
                return Err(SpaceError::FloatParent { param: name.to_owned(), parent: cond.parent.clone() });
            }
            Domain::Int { low, high, .. } => match value.as_f64() {
                Some(x) if x.fract() == 0.0 && x >= *low as f64 && x <= *high as f64 => Value::Int(x as i64),
                _ => return Err(impossible(value)),
            },
            Domain::Categorical { choices } | Domain::Ordinal { values: choices } => match choices.iter().position(|c| c.same_as(value)) {
                Some(i) => Value::Choice(i as u32),
                None => return Err(impossible(value)),
            },
        };
        allowed.push(resolved);
    }
    Ok(Condition { parent, allowed })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Rng};

    fn parse(toml_text: &str) -> Result<SearchSpace, SpaceError> {
        #[derive(Deserialize)]
        struct Wrapper {
            space: Vec<ParamSpec>,
        }
        let wrapper: Wrapper = toml::from_str(toml_text).expect("test TOML parses");
        SearchSpace::new(&wrapper.space)
    }

    const NESTED: &str = r#"
        [[space]]
        name = "momentum"
        type = "float"
        low = 0.0
        high = 0.99
        condition = { parent = "momentum_kind", values = ["classic", "nesterov"] }
        [[space]]
        name = "optimizer"
        type = "categorical"
        choices = ["sgd", "adam"]
        [[space]]
        name = "momentum_kind"
        type = "categorical"
        choices = ["none", "classic", "nesterov"]
        condition = { parent = "optimizer", values = ["sgd"] }
    "#;

    #[test]
    fn non_finite_choices_are_refused_naming_the_parameter_and_position() {
        for (kind, values, shown) in
            [("ordinal", "[1.0, nan]", "NaN"), ("categorical", "[0.5, 2.0, -inf]", "-inf"), ("ordinal", "[inf]", "inf")]
        {
            let key = if kind == "ordinal" { "values" } else { "choices" };
            let text = format!("[[space]]\nname = \"x\"\ntype = \"{kind}\"\n{key} = {values}\n");
            let error = parse(&text).unwrap_err();
            assert!(matches!(error, SpaceError::NonFiniteChoice { .. }), "{kind} {values}: {error:?}");
            let message = error.to_string();
            assert!(message.contains("`x`") && message.contains(shown) && message.contains("finite"), "{message}");
        }
        // Finite numbers are still accepted.
        assert!(parse("[[space]]\nname = \"x\"\ntype = \"ordinal\"\nvalues = [1.0, 2.5]\n").is_ok());
    }

    #[test]
    fn parents_come_before_children() {
        let space = parse(NESTED).unwrap();
        let names: Vec<&str> = space.params().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["optimizer", "momentum_kind", "momentum"]);
    }

    #[test]
    fn nested_conditions_follow_the_parent_chain() {
        let space = parse(NESTED).unwrap();
        // adam: momentum_kind inactive, so momentum is inactive even though nothing else says so.
        let adam = [Value::Choice(1), Value::Inactive];
        assert!(!space.is_active(1, &adam[..1]));
        assert!(!space.is_active(2, &adam));
        let sgd_classic = [Value::Choice(0), Value::Choice(1)];
        assert!(space.is_active(2, &sgd_classic));
        let sgd_none = [Value::Choice(0), Value::Choice(0)];
        assert!(!space.is_active(2, &sgd_none));
    }

    #[test]
    fn bad_spaces_are_refused_with_the_parameter_named() {
        let cases = [
            (
                r#"[[space]]
                name = "c"
                type = "categorical"
                choices = []"#,
                "parameter `c`: needs at least one choice",
            ),
            (
                r#"[[space]]
                name = "lr"
                type = "float"
                low = 1.0
                high = 0.1"#,
                "parameter `lr`: low (1) must be below high (0.1)",
            ),
            (
                r#"[[space]]
                name = "lr"
                type = "float"
                low = 0.0
                high = 1.0
                log = true"#,
                "parameter `lr`: a log scale needs low > 0, but low is 0",
            ),
            (
                r#"[[space]]
                name = "units"
                type = "int"
                low = 0
                high = 64
                log = true"#,
                "parameter `units`: a log scale needs low >= 1, but low is 0",
            ),
            (
                r#"[[space]]
                name = "m"
                type = "float"
                low = 0.0
                high = 1.0
                condition = { parent = "nope", values = ["x"] }"#,
                "parameter `m`: condition names unknown parent `nope`",
            ),
            (
                r#"[[space]]
                name = "opt"
                type = "categorical"
                choices = ["sgd", "adam"]
                [[space]]
                name = "m"
                type = "float"
                low = 0.0
                high = 1.0
                condition = { parent = "opt", values = ["lbfgs"] }"#,
                "parameter `m`: condition value \"lbfgs\" is not a value parent `opt` can take",
            ),
            (
                r#"[[space]]
                name = "a"
                type = "int"
                low = 1
                high = 3
                condition = { parent = "b", values = [1] }
                [[space]]
                name = "b"
                type = "int"
                low = 1
                high = 3
                condition = { parent = "a", values = [1] }"#,
                "conditions form a cycle through parameter `a`",
            ),
        ];
        for (text, expected) in cases {
            match parse(text) {
                Ok(_) => panic!("accepted a bad space: {text}"),
                Err(e) => assert_eq!(e.to_string(), expected),
            }
        }
    }

    #[test]
    fn cycles_are_reported_on_the_cycle_and_huge_ranges_refused() {
        // `leaf` hangs below the cycle b -> c -> b and comes first; the error names the cycle.
        let text = r#"[[space]]
            name = "leaf"
            type = "float"
            low = 0.0
            high = 1.0
            condition = { parent = "b", values = [1] }
            [[space]]
            name = "b"
            type = "int"
            low = 1
            high = 3
            condition = { parent = "c", values = [1] }
            [[space]]
            name = "c"
            type = "int"
            low = 1
            high = 3
            condition = { parent = "b", values = [1] }"#;
        assert_eq!(parse(text).err().map(|e| e.to_string()).as_deref(), Some("conditions form a cycle through parameter `b`"));
        let wide = "[[space]]\nname = \"n\"\ntype = \"int\"\nlow = -9223372036854775808\nhigh = 9223372036854775807";
        assert!(parse(wide).err().is_some_and(|e| e.to_string().contains("too wide")));
        let wide = "[[space]]\nname = \"x\"\ntype = \"float\"\nlow = -1e308\nhigh = 1e308";
        assert!(parse(wide).err().is_some_and(|e| e.to_string().contains("too wide")));
    }

    #[test]
    fn int_condition_values_must_lie_in_range() {
        let text = r#"[[space]]
            name = "layers"
            type = "int"
            low = 1
            high = 3
            [[space]]
            name = "width3"
            type = "int"
            low = 8
            high = 64
            condition = { parent = "layers", values = [3, 4] }"#;
        let err = parse(text).err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("parameter `width3`: condition value 4 is not a value parent `layers` can take"));
    }

    #[test]
    fn samples_belong_to_the_space() {
        use rand::SeedableRng;
        let space = parse(NESTED).unwrap();
        let mut rng = Rng::seed_from_u64(7);
        let mut saw_momentum = false;
        for _ in 0..200 {
            let config = space.sample(&mut rng);
            assert!(space.contains(&config), "{config:?}");
            saw_momentum |= config.get(2).is_active();
        }
        assert!(saw_momentum);
    }

    #[test]
    fn violations_name_the_first_broken_parameter() {
        let space = parse(NESTED).unwrap();
        // optimizer, momentum_kind, momentum (parents first).
        let sgd = |kind: Value, momentum: Value| [Value::Choice(0), kind, momentum];
        assert_eq!(space.violation(&sgd(Value::Choice(1), Value::Float(0.5))), None);
        assert_eq!(space.violation(&sgd(Value::Choice(1), Value::Inactive)), Some((2, Violation::MissingActive)));
        assert_eq!(space.violation(&sgd(Value::Choice(0), Value::Float(0.5))), Some((2, Violation::SetWhileInactive)));
        assert_eq!(space.violation(&sgd(Value::Choice(3), Value::Float(0.5))), Some((1, Violation::OutOfDomain)));
        assert_eq!(space.violation(&sgd(Value::Choice(1), Value::Float(1.5))), Some((2, Violation::OutOfDomain)));
        assert_eq!(space.violation(&sgd(Value::Choice(1), Value::Int(0))), Some((2, Violation::WrongKind)));
        assert!(!space.contains(&Config::new(sgd(Value::Choice(1), Value::Int(0)).to_vec())));
    }
}
