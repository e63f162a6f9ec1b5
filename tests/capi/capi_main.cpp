// Entry point of the C API tests (they link the shared library and doctest only).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
