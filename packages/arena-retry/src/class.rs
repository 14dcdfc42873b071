//! What a failure means for whoever meets it.

/// The three answers to "should I try again?".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// The same request may succeed if it is sent again after a pause: a node that is away or
    /// restarting, a transaction not yet included, an account sequence another transaction
    /// advanced, a rate limit. [`retry`](crate::retry) sends it again.
    Transient,
    /// This request will not succeed as sent, but the world may move on: a transaction refused
    /// because a phase has not begun or has ended, a query of something not there yet. A loop's
    /// next step looks afresh and may do something else; [`retry`](crate::retry) gives up.
    Refused,
    /// Only a person can fix it: a missing or unreadable key, a wrong config, an account without
    /// funds, a contract that disagrees with what was signed. Loops stop on it.
    Fatal,
}

/// An error that knows its [`ErrorClass`]. Implemented next to each error type, so the decision
/// is made once, where the cases are defined.
pub trait Classify {
    /// The class of this error.
    fn class(&self) -> ErrorClass;

    /// Whether sending the same request again may succeed.
    fn is_transient(&self) -> bool {
        self.class() == ErrorClass::Transient
    }

    /// Whether a loop must stop on this error.
    fn is_fatal(&self) -> bool {
        self.class() == ErrorClass::Fatal
    }
}
