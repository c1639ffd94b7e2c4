//! The vocabulary of the registries of sampler, scheduler and benchmark types (what each type
//! is and can do, declared as data), and the ground truth they are tested against.

/// Which objectives a sampler or scheduler ranks results by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Objectives {
    /// It does not rank results at all (space-filling designs, first in first out).
    None,
    /// The first objective, or the weighted sum under fixed `weights`.
    First,
    /// All of them, as a vector: it needs two or more.
    Several,
}

impl Objectives {
    /// A short label for listings.
    pub fn label(self) -> &'static str {
        match self {
            Objectives::None => "none",
            Objectives::First => "first (or weighted sum)",
            Objectives::Several => "several (2 or more)",
        }
    }
}

/// The `type` names that the internally tagged enum `T` accepts, read from serde's refusal of
/// a name it does not know (which lists them all): the ground truth a registry is tested
/// against, so that no accepted type is left out of it.
pub fn accepted_types<T: serde::de::DeserializeOwned>() -> Vec<String> {
    let refusal = serde_json::from_str::<T>(r#"{"type": "\u0000"}"#).err().map(|e| e.to_string()).unwrap_or_default();
    let Some(listed) = refusal.split("expected one of ").nth(1) else { return Vec::new() };
    // "`random`, `grid`, ... at line 1 column 17": the names are between backticks.
    listed.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}
