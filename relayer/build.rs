//! Compiles `proto/arena/relayer/v1/relayer.proto` with protox (a protobuf compiler in Rust, so no
//! `protoc` is needed on the machine) and generates the tonic service with tonic-build. The encoded
//! descriptor set is written beside the code for gRPC reflection.

use std::path::PathBuf;

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "proto/arena/relayer/v1/relayer.proto";
    println!("cargo:rerun-if-changed={proto}");
    let descriptors = protox::compile([proto], ["proto"])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("relayer_descriptor.bin"), descriptors.encode_to_vec())?;
    tonic_build::configure().build_client(true).build_server(true).compile_fds(descriptors)?;
    Ok(())
}
