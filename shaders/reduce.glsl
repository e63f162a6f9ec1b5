// Workgroup-wide sum and max. With USE_SUBGROUP: subgroup reductions, then one value per
// subgroup through shared memory (correct for any subgroup size, 1..WG_SIZE). Without it:
// a shared-memory tree (needs WG_SIZE to be a power of two).
// Every invocation of the workgroup must call these (they contain barriers); all get the result.
#ifndef VKS_REDUCE_GLSL
#define VKS_REDUCE_GLSL

shared float red_scratch[WG_SIZE];

#ifdef USE_SUBGROUP
float wg_sum(float v) {
    v = subgroupAdd(v);
    barrier();  // red_scratch may still be read by a previous reduction
    if (subgroupElect()) red_scratch[gl_SubgroupID] = v;
    barrier();
    float s = 0.0;
    for (uint i = 0; i < gl_NumSubgroups; ++i) s += red_scratch[i];
    return s;
}
float wg_max(float v) {
    v = subgroupMax(v);
    barrier();
    if (subgroupElect()) red_scratch[gl_SubgroupID] = v;
    barrier();
    float m = red_scratch[0];
    for (uint i = 1; i < gl_NumSubgroups; ++i) m = max(m, red_scratch[i]);
    return m;
}
#else
float wg_sum(float v) {
    barrier();
    red_scratch[gl_LocalInvocationIndex] = v;
    barrier();
    for (uint s = WG_SIZE / 2; s > 0; s >>= 1) {
        if (gl_LocalInvocationIndex < s) red_scratch[gl_LocalInvocationIndex] += red_scratch[gl_LocalInvocationIndex + s];
        barrier();
    }
    return red_scratch[0];
}
float wg_max(float v) {
    barrier();
    red_scratch[gl_LocalInvocationIndex] = v;
    barrier();
    for (uint s = WG_SIZE / 2; s > 0; s >>= 1) {
        if (gl_LocalInvocationIndex < s)
            red_scratch[gl_LocalInvocationIndex] = max(red_scratch[gl_LocalInvocationIndex], red_scratch[gl_LocalInvocationIndex + s]);
        barrier();
    }
    return red_scratch[0];
}
#endif
#endif
