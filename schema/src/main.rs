//! Writes `schema/<contract>.json` for every contract. Run after changing any message type:
//! `cargo run -p arena-schema`.

fn main() -> std::io::Result<()> {
    for (contract, json) in arena_schema::schemas() {
        let path = arena_schema::schema_path(contract);
        std::fs::write(&path, json)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
