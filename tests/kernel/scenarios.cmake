# Scenario replay on the real kernel (issue #4 item 7): every liburing
# cbpf_filter case and RINGFENCE_SCENARIO_COUNT seeded random scenarios
# (tests/common/scenario.hpp) run step by step in real processes, rings and
# registrations, compared with the model under both fork semantics; the output
# names the booted kernel's fork semantics. Included from CMakeLists.txt in this
# directory, after ringfence_kernel_test_binary() is defined. About 100 s under
# QEMU TCG for the default 1,000 random scenarios.
set(RINGFENCE_SCENARIO_SEED 1 CACHE STRING "First seed of the kernel scenario replay's random scenarios")
set(RINGFENCE_SCENARIO_COUNT 1000 CACHE STRING "Random scenarios the kernel scenario replay runs")

ringfence_kernel_test_binary(ringfence_kernel_scenarios scenarios.cpp)
# tests/common/scenario.hpp and tests/common/liburing_scenarios.hpp
target_include_directories(ringfence_kernel_scenarios PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/..)

add_test(NAME kernel.scenarios
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/run-conformance.sh $<TARGET_FILE:ringfence_kernel_scenarios>
    --seed ${RINGFENCE_SCENARIO_SEED}
    --count ${RINGFENCE_SCENARIO_COUNT})
# The first run may download the kernel (~14 MB) before booting it under TCG.
set_tests_properties(kernel.scenarios PROPERTIES
  SKIP_RETURN_CODE 77
  TIMEOUT 1200
  LABELS "kernel"
  RESOURCE_LOCK ringfence_kernel_cache)
