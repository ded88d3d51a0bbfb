# Differential test against the real kernel (issue #3 part 4): random classic
# programs and random requests, ringfence::verify and ringfence::run against the
# kernel's own verdicts. Included from CMakeLists.txt in this directory, after
# ringfence_kernel_test_binary() and the runner are defined. Seeded, so a run is
# reproducible: `ctest -L kernel-7.2 -R differential` (about 45 s per line under QEMU TCG).
set(RINGFENCE_DIFFERENTIAL_SEED 1 CACHE STRING "Seed of the kernel differential test")
set(RINGFENCE_DIFFERENTIAL_PROGRAMS 10000 CACHE STRING "Programs the kernel differential test registers (at least)")
set(RINGFENCE_DIFFERENTIAL_SUBMISSIONS 50000 CACHE STRING "Requests the kernel differential test submits (at least)")

ringfence_kernel_test_binary(ringfence_kernel_differential differential.cpp)
# tests/common/random_program.hpp
target_include_directories(ringfence_kernel_differential PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/..)

# kernel.differential@<line> on every kernel line: the reference line
# (RINGFENCE_KERNEL_REFERENCE_LINE, CMakeLists.txt) runs the counts above, every
# other line the *_OTHER_LINES counts below (same seed, so the same programs
# first). They default to the full counts: all six suites on all four lines took
# 7 min 10 s with ctest -j2 on a 2-core machine (differential about 60-70 s a
# line), well inside scripts/test's 40-minute budget. Lower them here if the
# matrix grows.
set(RINGFENCE_DIFFERENTIAL_PROGRAMS_OTHER_LINES ${RINGFENCE_DIFFERENTIAL_PROGRAMS} CACHE STRING
  "Programs the kernel differential test registers on the lines other than the reference line")
set(RINGFENCE_DIFFERENTIAL_SUBMISSIONS_OTHER_LINES ${RINGFENCE_DIFFERENTIAL_SUBMISSIONS} CACHE STRING
  "Requests the kernel differential test submits on the lines other than the reference line")
foreach(_line IN LISTS RINGFENCE_KERNEL_TEST_LINES)
  if(_line STREQUAL RINGFENCE_KERNEL_REFERENCE_LINE)
    set(_programs ${RINGFENCE_DIFFERENTIAL_PROGRAMS})
    set(_submissions ${RINGFENCE_DIFFERENTIAL_SUBMISSIONS})
  else()
    set(_programs ${RINGFENCE_DIFFERENTIAL_PROGRAMS_OTHER_LINES})
    set(_submissions ${RINGFENCE_DIFFERENTIAL_SUBMISSIONS_OTHER_LINES})
  endif()
  ringfence_kernel_test(kernel.differential ${_line} COST 45
    COMMAND ${_ringfence_kernel_runner} $<TARGET_FILE:ringfence_kernel_differential>
      --seed ${RINGFENCE_DIFFERENTIAL_SEED}
      --programs ${_programs}
      --submissions ${_submissions})
endforeach()
