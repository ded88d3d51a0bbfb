// tests/catch.hpp - the one Catch2 include for every test file, v2 or v3.
//
//   #include "catch.hpp"
//   TEST_CASE("deny all") { STATIC_REQUIRE(ringfence::verify(deny)); }
//
// The build system says which major version it found (RINGFENCE_CATCH2_MAJOR);
// without it, whichever header exists is used, v3 first.
#pragma once

#if !defined(RINGFENCE_CATCH2_MAJOR)
#if defined(__has_include) && __has_include(<catch2/catch_all.hpp>)
#define RINGFENCE_CATCH2_MAJOR 3
#else
#define RINGFENCE_CATCH2_MAJOR 2
#endif
#endif

#if RINGFENCE_CATCH2_MAJOR >= 3
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
#endif
