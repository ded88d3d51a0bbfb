// Precompiled for the unit tests when the compiler is Clang (tests/CMakeLists.txt,
// meson.build): Catch2 and the umbrella header are what nearly every unit test
// file parses first, and parsing them was most of each file's build. The files
// whose point is what they include, or in which order, are built without it.
#include "catch.hpp"
#include "ringfence/ringfence.hpp"
