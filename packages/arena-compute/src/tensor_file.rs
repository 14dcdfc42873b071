//! The one safetensors writer of the compute core (classifier models, GPT bases, LoRA adapters):
//! our own rather than the safetensors crate's, whose header order follows a HashMap, so that the
//! same tensors always give the same bytes and therefore the same sha256, a model's identity.

/// The bytes of a safetensors file holding `tensors` (name, shape, little-endian f32 data) in
/// that order, with `metadata` as its `__metadata__` (a JSON object of strings). The header is
/// padded with spaces to a multiple of 8 bytes, as Hugging Face's writer does.
pub(crate) fn f32_safetensors(metadata: serde_json::Value, tensors: &[(String, Vec<usize>, &[f32])]) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    header.insert("__metadata__".into(), metadata);
    let mut offset = 0usize;
    for (name, shape, data) in tensors {
        let end = offset + data.len() * 4;
        header
            .insert(name.clone(), serde_json::json!({ "dtype": "F32", "shape": shape, "data_offsets": [offset, end] }));
        offset = end;
    }
    let mut json = serde_json::to_vec(&serde_json::Value::Object(header)).expect("a JSON map serializes");
    json.resize(json.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + json.len() + offset);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    for (_, _, data) in tensors {
        out.extend(data.iter().flat_map(|v| v.to_le_bytes()));
    }
    out
}
