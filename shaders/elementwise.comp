#version 450
// placeholder replaced by the real elementwise kernel
layout(local_size_x = 64) in;
void main() {}
