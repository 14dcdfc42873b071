//! Not built yet: see the arena-market issue.
