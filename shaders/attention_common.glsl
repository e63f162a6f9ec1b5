// Shared by the attention kernels and kv_store: the visibility rule of lib/kv/contract.h (which
// params.h includes, so the shaders compile the very functions the host uses) in the step-record
// form, and the blocks every attention variant has: the visible-range setup, the decode K/V store,
// the learned-sink finalisation and (subgroup variants) the workgroup sum.
// Include after params.h.
#ifndef VKS_ATTENTION_COMMON_GLSL
#define VKS_ATTENTION_COMMON_GLSL

const float kNegHuge = -3.402823466e38;  // "minus infinity" that keeps exp() and max() finite

// Visible counts of chunk query i (its own token included): sinks then window, L = nsv + nwv.
void chunk_counts(uint t0_clamped, uint i, uint n_sink, uint n_window, out uint nsv, out uint nwv) {
    const uint t1 = kv_t1(t0_clamped, i);
    nsv = kv_sink_visible(t1, n_sink);
    nwv = kv_window_visible(t1, n_sink, n_window);
}

// Visible token j of chunk query i: from the chunk's fresh K/V (returns true, idx = chunk index)
// or from the ring as it was before the chunk (returns false, idx = slot).
bool chunk_token(AttnStep st, uint i, uint j, uint nsv, uint nwv, uint n_sink, uint n_window, out uint idx) {
    return kv_chunk_token(st.t0_clamped, st.t0_ring, i, j, nsv, nwv, n_sink, n_window, idx);
}

// Ring slot of chunk token i when it survives the chunk (kv_ring_store_slot). Used by
// kv_store.comp, and by the attention kernels for a decode step (AttnParams::store_new: i = 0,
// n_tokens = 1), which store that token themselves. That is race-free: the step never reads this
// slot from the ring (the token it replaces has left the view, and a sink slot's token is read
// from the chunk's fresh rows).
bool ring_store_slot(AttnStep st, uint i, uint n_tokens, uint n_sink, uint n_window, out uint slot) {
    return kv_ring_store_slot(st.t0_clamped, st.t0_ring, i, n_tokens, n_sink, n_window, slot);
}

// Visible range of query i, split s of n_splits: counts, and the visible indices
// [j_begin, j_end) this split walks (per = ceil(L / n_splits)). Returns L = nsv + nwv >= 1.
uint visible_range(AttnStep st, uint i, uint s, uint n_sink, uint n_window, uint n_splits, out uint nsv,
                   out uint nwv, out uint j_begin, out uint j_end) {
    chunk_counts(st.t0_clamped, i, n_sink, n_window, nsv, nwv);
    const uint n_vis = nsv + nwv;
    const uint per = (n_vis + n_splits - 1) / n_splits;
    j_begin = min(n_vis, s * per);
    j_end = min(n_vis, j_begin + per);
    return n_vis;
}

// Factor that turns a finished online softmax (max m, denominator l > 0, every view holds the
// query itself) into probabilities: 1 / l, or with a learned sink logit (gpt-oss: one extra
// denominator term with no value) exp(m - mm) / (l exp(m - mm) + exp(sink - mm)).
float softmax_finish(float m, float l, bool has_sink, float sink_logit) {
    if (!has_sink) return 1.0 / l;
    const float mm = max(m, sink_logit);
    const float f = exp(m - mm);
    return f / (l * f + exp(sink_logit - mm));
}

// The decode step's K/V store (p.store_new), defined by each shader after its bindings:
// LOAD_K(e) / LOAD_V(e) yield fresh-row elements (e, e+1) as a vec2. The first head (block) h0
// of each kv head's group, split 0, writes that kv head's row; its `lanes` invocations share the
// words. Needs HEAD_DIM, push block `p`, bindings kc_w / vc_w.
#define DEFINE_STORE_NEW(LOAD_K, LOAD_V)                                                          \
    void store_new(AttnStep st, uint s, uint h0, uint hk, uint lane, uint lanes) {                \
        uint slot;                                                                                \
        if (p.store_new == 0u || s != 0u || h0 % (p.n_head / p.n_head_kv) != 0u ||                \
            !ring_store_slot(st, 0u, 1u, p.n_sink, p.n_window, slot))                             \
            return;                                                                               \
        const uint dst = (slot * p.n_head_kv + hk) * (HEAD_DIM / 2), src = hk * HEAD_DIM;         \
        for (uint w = lane; w < HEAD_DIM / 2; w += lanes) {                                       \
            kc_w[dst + w] = packHalf2x16(LOAD_K(src + 2 * w));                                    \
            vc_w[dst + w] = packHalf2x16(LOAD_V(src + 2 * w));                                    \
        }                                                                                         \
    }

// Sum of v over the workgroup (subgroup variants): one subgroupAdd, plus shared memory when the
// workgroup runs as several subgroups. Needs WG_SIZE and MULTI_SUBGROUP.
#define DEFINE_GROUP_SUM                                                                          \
    shared float red[WG_SIZE];                                                                    \
    float group_sum(float v) {                                                                    \
        v = subgroupAdd(v);                                                                       \
        if (MULTI_SUBGROUP == 0 || gl_NumSubgroups == 1) return v; /* uniform: no barrier */      \
        barrier();                                                                                \
        if (subgroupElect()) red[gl_SubgroupID] = v;                                              \
        barrier();                                                                                \
        float s = 0.0;                                                                            \
        for (uint k = 0; k < gl_NumSubgroups; ++k) s += red[k];                                   \
        return s;                                                                                 \
    }
#endif
