#include <cstdio>

#include "commands.hpp"

namespace vks::cli {

int cmd_info(const Args&) {
    std::printf("vkstream %s\n", VKS_VERSION_STRING);
    return 0;
}

}  // namespace vks::cli
