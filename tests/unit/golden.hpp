// Test helper: compare text with a golden file under tests/golden/.
//
//   REQUIRE_GOLDEN("liburing_inet_only.asm", ringfence::disassemble(prog, 45));
//
// Set RINGFENCE_UPDATE_GOLDEN=1 to (re)write the files instead, then review the
// diff. The directory is $RINGFENCE_GOLDEN_DIR, else the macro
// RINGFENCE_GOLDEN_DIR when the build defines it, else found from this file's
// own path (tests/unit/../golden; relative to the working directory when the
// build compiles with relative paths, as Meson does from its build directory).
#pragma once

#include "catch.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

namespace rf_test {

inline std::string golden_dir() {
    if (const char* dir = std::getenv("RINGFENCE_GOLDEN_DIR"); dir && *dir) return dir;
#if defined(RINGFENCE_GOLDEN_DIR)
    return RINGFENCE_GOLDEN_DIR;
#else
    std::string here = __FILE__;
    const std::size_t slash = here.find_last_of('/');
    here = slash == std::string::npos ? std::string(".") : here.substr(0, slash);
    return here + "/../golden";
#endif
}

inline bool read_text(const std::string& path, std::string& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return true;
}

// Returns the golden text (after rewriting it when asked to).
inline std::string golden(const std::string& name, const std::string& actual) {
    const std::string path = golden_dir() + "/" + name;
    if (const char* update = std::getenv("RINGFENCE_UPDATE_GOLDEN"); update && *update && *update != '0') {
        std::ofstream out(path, std::ios::binary);
        out << actual;
        return actual;
    }
    std::string expected;
    if (!read_text(path, expected)) FAIL("cannot read golden file " << path);
    return expected;
}

} // namespace rf_test

#define REQUIRE_GOLDEN(name, text)                                                                            \
    do {                                                                                                      \
        const std::string rf_actual_ = (text);                                                                \
        INFO("golden file: " << (name) << " (RINGFENCE_UPDATE_GOLDEN=1 rewrites it)");                         \
        REQUIRE(rf_actual_ == ::rf_test::golden((name), rf_actual_));                                        \
    } while (0)
