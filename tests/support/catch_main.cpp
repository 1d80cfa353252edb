// Catch2 v2 main; with v3, Catch2::Catch2WithMain provides it.
#define CATCH_CONFIG_MAIN
#include "catch.hpp"
