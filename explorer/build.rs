//! Compiles the relayer's gRPC API (`relayer/proto/arena/relayer/v1/relayer.proto`, the relayer's
//! own file, read in place) into a tonic client with protox, so the explorer reads relayers without
//! linking the relayer and its EVM stack.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = "../relayer/proto";
    let proto = "../relayer/proto/arena/relayer/v1/relayer.proto";
    println!("cargo:rerun-if-changed={proto}");
    let descriptors = protox::compile([proto], [root])?;
    tonic_build::configure().build_client(true).build_server(false).compile_fds(descriptors)?;
    Ok(())
}
