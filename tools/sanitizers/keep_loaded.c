/* LD_PRELOAD shim for tools/ci_sanitize.sh. The Vulkan loader unloads the driver and the layers
 * (dlclose) when the last instance is destroyed, before LeakSanitizer reports at exit; the
 * report then shows the memory they still held (process-lifetime caches, reachable from their
 * globals while they are mapped) as leaks from "<unknown module>". This shim opens them once
 * more with RTLD_NODELETE (and RTLD_LOCAL, so none of their symbols are interposed), which keeps
 * them mapped to the end; a real leak in vkstream is still reported. It changes nothing else. */
#define _GNU_SOURCE
#include <dlfcn.h>

static const char* const k_libraries[] = {
    "libvulkan_lvp.so",
    "libVkLayer_khronos_validation.so",
};

__attribute__((constructor)) static void keep_loaded(void) {
    for (unsigned i = 0; i < sizeof k_libraries / sizeof k_libraries[0]; ++i)
        dlopen(k_libraries[i], RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
}
