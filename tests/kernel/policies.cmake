# Compiled policies against the real kernel (issue #5 item 3): the unit tests'
# fixture policies, compiled per opcode and registered on fresh rings, with
# real requests whose kernel decision must equal ringfence::evaluate and
# ringfence::run. Included from CMakeLists.txt in this directory, after
# ringfence_kernel_test_binary() is defined. Seeded, so a run is reproducible:
# `ctest -L kernel -R policies` (about 10 s under QEMU TCG).
set(RINGFENCE_POLICIES_SEED 1 CACHE STRING "Seed of the kernel policy conformance test")
set(RINGFENCE_POLICIES_PER_OPCODE 1000 CACHE STRING "Requests per policy and opcode in the kernel policy conformance test")

ringfence_kernel_test_binary(ringfence_kernel_policies policies.cpp)
# tests/common/random_program.hpp, tests/unit/policy_fixtures.hpp
target_include_directories(ringfence_kernel_policies PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/..)

foreach(_line IN LISTS RINGFENCE_KERNEL_TEST_LINES)
  ringfence_kernel_test(kernel.policies ${_line} COST 10
    COMMAND ${_ringfence_kernel_runner} $<TARGET_FILE:ringfence_kernel_policies>
      --seed ${RINGFENCE_POLICIES_SEED}
      --per-opcode ${RINGFENCE_POLICIES_PER_OPCODE})
endforeach()
