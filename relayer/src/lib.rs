//! Not built yet: see the settlement issue.
