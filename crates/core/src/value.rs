//! The value of one parameter: the vocabulary that search spaces (conditions, domains) and
//! configurations share, with no dependency on either.

/// The value of one parameter in a configuration.
///
/// Categorical and ordinal parameters store the *index* of their choice; the labels live in
/// the search space, so a configuration is a small `Copy`-friendly vector.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    /// The parameter's condition does not hold, so it has no value.
    Inactive,
    /// A float parameter's value.
    Float(f64),
    /// An integer parameter's value.
    Int(i64),
    /// The index of a categorical or ordinal parameter's choice.
    Choice(u32),
}

impl Value {
    /// Whether the parameter is active (has a value).
    pub fn is_active(self) -> bool {
        !matches!(self, Value::Inactive)
    }
}
