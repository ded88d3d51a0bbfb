# seccomp profiles translated (issue 13 item 2) against a real seccomp filter:
# tests/kernel/seccomp.cpp on every kernel line. Needs a static libseccomp
# (Debian: libseccomp-dev, which scripts/test installs); a test-only dependency.
# The profiles are tests/seccomp/*.json, compiled into the guest binary.
set(RINGFENCE_SECCOMP_PER_OPCODE 40 CACHE STRING "Requests per profile and opcode in kernel.seccomp")
find_path(RINGFENCE_SECCOMP_INCLUDE seccomp.h)
find_library(RINGFENCE_SECCOMP_STATIC NAMES libseccomp.a)

file(GLOB _seccomp_profiles CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/seccomp/*.json)
set(_seccomp_header ${CMAKE_CURRENT_BINARY_DIR}/seccomp_generated/seccomp_profiles.hpp)
set(_text "// Generated from tests/seccomp/*.json by tests/kernel/seccomp.cmake.\nconst profile_source profiles[] = {\n")
foreach(_p IN LISTS _seccomp_profiles)
  get_filename_component(_name ${_p} NAME_WE)
  file(READ ${_p} _json)
  string(APPEND _text "    {\"${_name}\", R\"ringfence_json(${_json})ringfence_json\"},\n")
endforeach()
string(APPEND _text "};\n")
file(CONFIGURE OUTPUT ${_seccomp_header} CONTENT "${_text}" @ONLY)

if(RINGFENCE_SECCOMP_INCLUDE AND RINGFENCE_SECCOMP_STATIC)
  ringfence_kernel_test_binary(ringfence_kernel_seccomp seccomp.cpp)
  target_include_directories(ringfence_kernel_seccomp PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/seccomp_generated
    ${RINGFENCE_SECCOMP_INCLUDE})
  target_link_libraries(ringfence_kernel_seccomp PRIVATE ${RINGFENCE_SECCOMP_STATIC})
  foreach(_line IN LISTS RINGFENCE_KERNEL_TEST_LINES)
    ringfence_kernel_test(kernel.seccomp ${_line} COST 30
      COMMAND ${_ringfence_kernel_runner} $<TARGET_FILE:ringfence_kernel_seccomp>
        --per-opcode ${RINGFENCE_SECCOMP_PER_OPCODE})
  endforeach()
else()
  # Outside CI a skip, under CI a failure (the rule of run-conformance.sh).
  foreach(_line IN LISTS RINGFENCE_KERNEL_TEST_LINES)
    add_test(NAME kernel.seccomp@${_line} COMMAND sh -c
      "case \"$CI\" in true|TRUE|True|1|yes) echo 'FAILED: CI=true: no static libseccomp (apt package libseccomp-dev)'; exit 1;; esac; echo 'SKIPPED: no static libseccomp (apt package libseccomp-dev)'; exit 77")
    set_tests_properties(kernel.seccomp@${_line} PROPERTIES SKIP_RETURN_CODE 77 LABELS "kernel;kernel-${_line}")
  endforeach()
endif()
