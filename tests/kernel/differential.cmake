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
# first). A quarter of the full counts keeps the suite's check that every other
# line's preset decides some submissions differently from the booted kernel
# (measured with seed 1: at least 9 submissions, 7.2's preset on 7.3) and takes
# 18-22 s a line instead of 64-73 s: the full counts on every line had pushed
# the whole CI run past its 40 minutes.
set(RINGFENCE_DIFFERENTIAL_PROGRAMS_OTHER_LINES 2500 CACHE STRING
  "Programs the kernel differential test registers on the lines other than the reference line")
set(RINGFENCE_DIFFERENTIAL_SUBMISSIONS_OTHER_LINES 12500 CACHE STRING
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
