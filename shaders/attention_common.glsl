// Shared by the attention kernels: the step-params record and the visibility math of
// lib/kv/sink_view.hpp in its 32-bit chunk form (kv::chunk_params / chunk_token(ChunkParams,..)).
#ifndef VKS_ATTENTION_COMMON_GLSL
#define VKS_ATTENTION_COMMON_GLSL

const float kNegHuge = -3.402823466e38;  // "minus infinity" that keeps exp() and max() finite

// Visible counts of chunk query i (its own token included): sinks then window, L = nsv + nwv.
void chunk_counts(uint t0_clamped, uint i, uint n_sink, uint n_window, out uint nsv, out uint nwv) {
    const uint t1 = t0_clamped + i + 1;  // "t + 1", exact up to saturation at the capacity
    nsv = min(n_sink, t1);
    nwv = t1 > n_sink ? min(n_window, t1 - n_sink) : 0;
}

// Visible token j of chunk query i: from the chunk's fresh K/V (returns true, idx = chunk index)
// or from the ring as it was before the chunk (returns false, idx = slot).
bool chunk_token(AttnStep st, uint i, uint j, uint nsv, uint nwv, uint n_sink, uint n_window, out uint idx) {
    if (j < nsv) {
        if (j < st.t0_clamped) { idx = j; return false; }
        idx = j - st.t0_clamped;
        return true;
    }
    const uint ahead = i + 1 + (j - nsv);  // (stream index - t0) + nwv
    if (ahead >= nwv) { idx = ahead - nwv; return true; }
    const uint back = nwv - ahead;         // t0 - stream index, in [1, n_window]
    // (t0_ring - back) mod n_window; t0_ring < n_window, so one conditional subtraction does it
    // (an integer division per key is slow on CPU devices).
    const uint r = st.t0_ring + n_window - back;
    idx = n_sink + (r >= n_window ? r - n_window : r);
    return false;
}

// Ring slot of chunk token i (of n_tokens) when it survives the chunk (kv::chunk_writes_token:
// a sink, or one of the chunk's last n_window tokens); false when a later token of the same chunk
// overwrites it. Used by kv_store.comp, and by the attention kernels for a decode step
// (AttnParams::store_new: i = 0, n_tokens = 1), which store that token themselves. That is
// race-free: the step never reads this slot from the ring (the token it replaces has left the
// view, and a sink slot's token is read from the chunk's fresh rows).
bool ring_store_slot(AttnStep st, uint i, uint n_tokens, uint n_sink, uint n_window, out uint slot) {
    slot = 0u;
    if (st.t0_clamped + i < n_sink) {
        slot = st.t0_clamped + i;  // a sink (t0_clamped == t0 here)
        return true;
    }
    if (n_tokens - i > n_window) return false;
    const uint r = st.t0_clamped >= n_sink ? (st.t0_ring + i % n_window) % n_window
                                           : (st.t0_clamped + i - n_sink) % n_window;
    slot = n_sink + r;
    return true;
}
#endif
