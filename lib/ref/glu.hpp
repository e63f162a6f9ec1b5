#pragma once
// CPU reference: gated linear units for the feed-forward block, out = act(gate) * up.
#include <cstddef>

namespace vks::ref {

// silu(x) = x / (1 + exp(-x)).
float silu(float x);
// GELU, tanh approximation (the form Gemma and llama.cpp's GELU use):
//   gelu_tanh(x) = 0.5 x (1 + tanh( sqrt(2/pi) (x + 0.044715 x^3) )).
float gelu_tanh(float x);

// gate, up, out: (n). out may alias gate or up.
void silu_glu(const float* gate, const float* up, float* out, size_t n);  // silu(gate) * up
void gelu_glu(const float* gate, const float* up, float* out, size_t n);  // gelu_tanh(gate) * up

}  // namespace vks::ref
