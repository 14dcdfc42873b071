//! Fails when a checked-in schema differs from what the code generates now.

#[test]
fn checked_in_schemas_match_the_message_types() {
    let mut stale = Vec::new();
    for (contract, json) in arena_schema::schemas() {
        let path = arena_schema::schema_path(contract);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(json.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(stale.is_empty(), "stale schemas: {stale:?}; run `cargo run -p arena-schema` and commit the result");
}
