//! cw-multi-test tests: the bridge with arena-token as its cw20, attesters signing with k256.

mod suite;

mod admin;
mod attest;
mod confirm;
mod instantiate;
mod large_batch;
mod queries;
mod rotation;
mod seal;
mod source;
mod total_cap;
mod withdraw;
