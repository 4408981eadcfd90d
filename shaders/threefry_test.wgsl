// Test entry point: threefry2x32 over pairs of (key, counter), for the known answers of
// SPEC.md section 2.

@group(0) @binding(0) var<storage, read> inputs: array<vec4<u32>>; // (k0, k1, c0, c1)
@group(0) @binding(1) var<storage, read_write> outputs: array<vec2<u32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= arrayLength(&inputs)) {
        return;
    }
    let v = inputs[i];
    outputs[i] = threefry2x32(v.xy, v.zw);
}
