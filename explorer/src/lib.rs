/*!
Arena's explorer: a web server that reads the arena-market, arena-bridge and arena-token contracts
over gRPC (smart queries only, through arena-client), the relayers over their gRPC API, and serves
pages a person keeps open during a competition, plus the same data as JSON under `/api/`.

- [`source`]: where data comes from ([`source::ChainSource`], the head follower, relayer polls).
- [`data`]: typed, counted contract queries.
- [`view`]: the view models, one per page, serialized as the JSON API.
- [`pages`]: the HTML (maud), charts as inline SVG.
- [`server`]: the axum router: pages, `/api/`, assets, errors as 404/503 pages.
*/

pub mod data;
pub mod fixture;
pub mod pages;
pub mod server;
pub mod source;
pub mod view;

/// The relayer's gRPC API (`relayer/proto`), client side.
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod relayer_proto {
    tonic::include_proto!("arena.relayer.v1");
}
