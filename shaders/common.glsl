// Shared by every kernel: extensions and small helpers.
#ifndef VKS_COMMON_GLSL
#define VKS_COMMON_GLSL
#extension GL_EXT_control_flow_attributes : enable
#ifdef USE_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif

// Flattened workgroup index for dispatches that split a large 1-D count over x and y
// (maxComputeWorkGroupCount[0] can be as small as 65535).
uint linear_group_id() { return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x; }
#endif
