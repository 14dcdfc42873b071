// Prepended to the element-wise kernels (activation, optimizer, batch): grids of more than 65,535
// workgroups spill into y (see `grid` in kernels.rs), so an invocation's element is
// gid.x + gid.y * (groups.x * LINEAR_WORKGROUP).
fn flat_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * LINEAR_WORKGROUP;
}

