# Real programs under the curated container profile (issue 13 item 3):
# fio's io_uring engine (Debian package fio, dynamically linked: qemu-run.sh's
# RINGFENCE_INITRD_PROGRAMS puts it into the guest with its libraries and
# loader) and three of liburing's example programs (io_uring-test,
# io_uring-cp, link-cp), built statically from the sources liburing-dev ships
# in /usr/share/doc/liburing-dev/examples, run by tests/tool/kernel/profile_driver.cpp
# under `ringfence run --policy profiles/container.policy` (and io_uring-cp
# under its OCI form, profiles/container.oci.json). Included from
# CMakeLists.txt in this directory, after tool.cmake (ringfence-static).
if(NOT EXISTS ${PROJECT_SOURCE_DIR}/tools/ringfence.cpp OR NOT TARGET ringfence_kernel_tool_static)
  return()
endif()

set(_profile ${PROJECT_SOURCE_DIR}/profiles/container.policy)
set(_oci_profile ${PROJECT_SOURCE_DIR}/profiles/container.oci.json)
set(RINGFENCE_LIBURING_EXAMPLES_DIR /usr/share/doc/liburing-dev/examples CACHE PATH
  "liburing's example sources (Debian's liburing-dev ships them)")
find_library(RINGFENCE_LIBURING_STATIC NAMES liburing.a)
set(_examples io_uring-test io_uring-cp link-cp)
set(_have_examples ON)
foreach(_ex IN LISTS _examples)
  if(NOT EXISTS ${RINGFENCE_LIBURING_EXAMPLES_DIR}/${_ex}.c)
    set(_have_examples OFF)
  endif()
endforeach()
if(NOT _have_examples OR NOT RINGFENCE_LIBURING_STATIC)
  message(STATUS "ringfence: kernel.profile_programs not registered: liburing's examples "
                 "(${RINGFENCE_LIBURING_EXAMPLES_DIR}) or liburing.a missing (package liburing-dev)")
  return()
endif()

include(CheckLanguage)
check_language(C)
if(NOT CMAKE_C_COMPILER)
  message(STATUS "ringfence: kernel.profile_programs not registered: no C compiler")
  return()
endif()
enable_language(C)

# The examples as their authors wrote them, in a directory of their own.
set(_ex_dir ${CMAKE_CURRENT_BINARY_DIR}/liburing-examples)
set(_ex_targets)
foreach(_ex IN LISTS _examples)
  string(REPLACE "-" "_" _t ringfence_kernel_example_${_ex})
  add_executable(${_t} ${RINGFENCE_LIBURING_EXAMPLES_DIR}/${_ex}.c)
  set_target_properties(${_t} PROPERTIES OUTPUT_NAME ${_ex} RUNTIME_OUTPUT_DIRECTORY ${_ex_dir}
                                         C_STANDARD 11 C_EXTENSIONS ON)
  # Their code, their warnings: not ours to fix.
  target_compile_options(${_t} PRIVATE -w)
  target_compile_definitions(${_t} PRIVATE _GNU_SOURCE)
  target_link_libraries(${_t} PRIVATE ${RINGFENCE_LIBURING_STATIC})
  target_link_options(${_t} PRIVATE -static)
  list(APPEND _ex_targets ${_t})
endforeach()
ringfence_kernel_test_binary(ringfence_kernel_profile_driver ${PROJECT_SOURCE_DIR}/tests/tool/kernel/profile_driver.cpp)
add_dependencies(ringfence_kernel_profile_driver ${_ex_targets})

set(RINGFENCE_FIO /usr/bin/fio CACHE FILEPATH "fio, run in the guest under the container profile")
set(_extra "$<TARGET_FILE:ringfence_kernel_tool_static>:/ringfence-static ${_profile}:/container.policy ${_oci_profile}:/container.oci.json")
foreach(_ex IN LISTS _examples)
  set(_extra "${_extra} ${_ex_dir}/${_ex}:/liburing-examples/${_ex}")
endforeach()
foreach(_line IN LISTS RINGFENCE_KERNEL_TEST_LINES)
  ringfence_kernel_test(kernel.profile_programs ${_line} COST 40
    COMMAND ${CMAKE_COMMAND} -E env "RINGFENCE_INITRD_EXTRA=${_extra}" "RINGFENCE_INITRD_PROGRAMS=${RINGFENCE_FIO}"
      ${_ringfence_kernel_runner} $<TARGET_FILE:ringfence_kernel_profile_driver>
        $<TARGET_FILE:ringfence_kernel_tool_static> ${_profile} ${_oci_profile} ${RINGFENCE_FIO} ${_ex_dir})
endforeach()
