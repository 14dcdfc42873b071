//! An error of a chosen class, for the tests.

use std::fmt::{self, Display};

use crate::{Classify, ErrorClass};

#[derive(Debug, PartialEq)]
pub(crate) struct Failure(pub(crate) ErrorClass);

impl Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl Classify for Failure {
    fn class(&self) -> ErrorClass {
        self.0
    }
}
