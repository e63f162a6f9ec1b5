#include "support/test_support.hpp"

namespace vks::test {

// Replaced by the shared test device once lib/vk lands.
int validation_message_count() { return 0; }

}  // namespace vks::test
