// Activations of gated linear units, shared by glu.comp and the matmul epilogues
// (matmul_epilogue.glsl), so a fused and an unfused FFN compute the same function.
//   silu(x) = x / (1 + exp(-x))
//   gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))  (tanh approximation)

float act_silu(float x) { return x / (1.0 + exp(-x)); }

float act_gelu(float x) {
    const float k = 0.7978845608028654;  // sqrt(2/pi)
    // tanh via exp, clamped: GLSL tanh of large |u| can be NaN on some drivers.
    float u = clamp(k * (x + 0.044715 * x * x * x), -15.0, 15.0);
    float e = exp(2.0 * u);
    return 0.5 * x * (1.0 + (e - 1.0) / (e + 1.0));
}
