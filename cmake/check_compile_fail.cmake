# Negative compile test: SOURCE must fail to compile, and the compiler's output
# must match the CMake regular expression on SOURCE's first line:
#
#   // expect: jump_target_out_of_range
#
# Usage (see tests/CMakeLists.txt):
#   cmake -DCOMPILER=<c++> -DARGS_FILE=<file, one argument a line> -DSOURCE=<file.cpp>
#         -P cmake/check_compile_fail.cmake
# Exits non-zero when SOURCE compiles, when it fails with other diagnostics,
# or when the expectation line is missing.
foreach(var COMPILER ARGS_FILE SOURCE)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "check_compile_fail: -D${var}=... is required")
    endif()
endforeach()

file(STRINGS "${SOURCE}" first_line LIMIT_COUNT 1)
if(NOT first_line MATCHES "^// expect: (.+)$")
    message(FATAL_ERROR "${SOURCE}: the first line must be `// expect: <regex>`")
endif()
set(expected "${CMAKE_MATCH_1}")

file(STRINGS "${ARGS_FILE}" args)

# LC_ALL=C: GCC quotes names with typographic quotes in UTF-8 locales, which
# would make the expected text depend on the environment.
execute_process(
    COMMAND ${CMAKE_COMMAND} -E env LC_ALL=C LANG=C
            ${COMPILER} ${args} -fsyntax-only "${SOURCE}"
    RESULT_VARIABLE result
    OUTPUT_VARIABLE output
    ERROR_VARIABLE output)

if(result EQUAL 0)
    message(FATAL_ERROR "${SOURCE} compiled, but it must not: expected a diagnostic matching\n  ${expected}")
endif()
if(NOT output MATCHES "${expected}")
    message(FATAL_ERROR "${SOURCE} failed to compile, but without a diagnostic matching\n  ${expected}\n"
                        "compiler output:\n${output}")
endif()
message(STATUS "${SOURCE} failed to compile as expected; matched: ${CMAKE_MATCH_0}")
