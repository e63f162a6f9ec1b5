// One Q8_1 activation block (32 values as 8 vec4): d = max|x| / 127, q = roundEven(x / d) in
// -127..127 (all 0 when d == 0), packed 4 per word (element 4j + t in byte t of word j), and
// sum(q) (the block's s is d * sum). Shared by quantize_q8_1.comp and matvec_q8_1.comp's
// prologue (QUANTIZE_X), so both round alike; lib/ref/quantize_q8_1.cpp is the reference.
#ifndef VKS_Q8_1_BLOCK_GLSL
#define VKS_Q8_1_BLOCK_GLSL
void q8_1_block(const vec4 v[8], out uint words[8], out float d, out int sum) {
    float amax = 0.0;
    [[unroll]] for (uint j = 0u; j < 8u; ++j) {
        const vec4 a = abs(v[j]);
        amax = max(amax, max(max(a.x, a.y), max(a.z, a.w)));
    }
    d = amax / 127.0;
    sum = 0;
    [[unroll]] for (uint j = 0u; j < 8u; ++j) {
        const ivec4 qi = d > 0.0 ? ivec4(clamp(roundEven(v[j] / d), -127.0, 127.0)) : ivec4(0);
        sum += qi.x + qi.y + qi.z + qi.w;
        words[j] = uint(qi.x & 255) | uint(qi.y & 255) << 8 | uint(qi.z & 255) << 16 | uint(qi.w & 255) << 24;
    }
}
#endif
