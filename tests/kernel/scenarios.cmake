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

# kernel.scenarios@<line> on every kernel line: the reference line
# (RINGFENCE_KERNEL_REFERENCE_LINE, CMakeLists.txt) runs RINGFENCE_SCENARIO_COUNT
# random scenarios, every other line RINGFENCE_SCENARIO_COUNT_OTHER_LINES (same
# first seed, so the same scenarios first), besides every liburing case on every
# line. 250 keeps each suite's own check that every other line's preset
# disagrees with the booted kernel somewhere with room to spare (measured with
# seed 1: at least 13 disagreeing scenarios, 7.1 on 7.0), and takes 31-40 s a
# line instead of 115-133 s for 1,000: the full counts on every line had pushed
# the whole CI run past its 40 minutes.
set(RINGFENCE_SCENARIO_COUNT_OTHER_LINES 250 CACHE STRING
  "Random scenarios the kernel scenario replay runs on the lines other than the reference line")
foreach(_line IN LISTS RINGFENCE_KERNEL_TEST_LINES)
  if(_line STREQUAL RINGFENCE_KERNEL_REFERENCE_LINE)
    set(_count ${RINGFENCE_SCENARIO_COUNT})
  else()
    set(_count ${RINGFENCE_SCENARIO_COUNT_OTHER_LINES})
  endif()
  ringfence_kernel_test(kernel.scenarios ${_line} COST 100
    COMMAND ${_ringfence_kernel_runner} $<TARGET_FILE:ringfence_kernel_scenarios>
      --seed ${RINGFENCE_SCENARIO_SEED}
      --count ${_count})
endforeach()
