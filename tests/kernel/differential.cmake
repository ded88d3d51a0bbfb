# Differential test against the real kernel (issue #3 part 4): random classic
# programs and random requests, ringfence::verify and ringfence::run against the
# kernel's own verdicts. Included from CMakeLists.txt in this directory, after
# ringfence_kernel_test_binary() and the runner are defined. Seeded, so a run is
# reproducible: `ctest -L kernel -R differential` (about 45 s under QEMU TCG).
set(RINGFENCE_DIFFERENTIAL_SEED 1 CACHE STRING "Seed of the kernel differential test")
set(RINGFENCE_DIFFERENTIAL_PROGRAMS 10000 CACHE STRING "Programs the kernel differential test registers (at least)")
set(RINGFENCE_DIFFERENTIAL_SUBMISSIONS 50000 CACHE STRING "Requests the kernel differential test submits (at least)")

ringfence_kernel_test_binary(ringfence_kernel_differential differential.cpp)
# tests/common/random_program.hpp
target_include_directories(ringfence_kernel_differential PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/..)

add_test(NAME kernel.differential
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/run-conformance.sh $<TARGET_FILE:ringfence_kernel_differential>
    --seed ${RINGFENCE_DIFFERENTIAL_SEED}
    --programs ${RINGFENCE_DIFFERENTIAL_PROGRAMS}
    --submissions ${RINGFENCE_DIFFERENTIAL_SUBMISSIONS})
# The first run may download the kernel (~14 MB) before booting it under TCG.
set_tests_properties(kernel.differential PROPERTIES
  SKIP_RETURN_CODE 77
  TIMEOUT 1200
  LABELS "kernel"
  RESOURCE_LOCK ringfence_kernel_cache)
