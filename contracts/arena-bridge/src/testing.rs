//! cw-multi-test tests: the bridge with arena-token as its cw20, attesters signing with k256.

mod suite;

mod admin;
mod attest;
mod confirm;
mod instantiate;
mod queries;
mod seal;
mod source;
mod total_cap;
mod withdraw;
