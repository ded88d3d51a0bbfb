# The C API and the bundle on the real kernels (issue 13 item 4), from plain C
# (tests/c/). Included from CMakeLists.txt in this directory, after tool.cmake
# (whose static build of the tool writes the bundles here at build time).
#   kernel.capi@<line>           ringfence_probe, ringfence_install on the task and
#                                ringfence_install_ring, with their refusals (capi_guest.c)
#   kernel.bundle_loader@<line>  bundles written by `ringfence compile --format json`,
#                                checked and registered by a loader in plain C with raw
#                                syscalls (bundle_loader.c): denial and success as the
#                                policy says, refusal where a requirement is not met
if(NOT TARGET ringfence_c OR NOT CMAKE_C_COMPILER_LOADED OR NOT TARGET ringfence_kernel_tool_static)
  return()
endif()
set(_c_dir ${PROJECT_SOURCE_DIR}/tests/c)

add_executable(ringfence_kernel_capi ${_c_dir}/capi_guest.c)
target_link_libraries(ringfence_kernel_capi PRIVATE ringfence::ringfence_c)
add_executable(ringfence_kernel_bundle_loader ${_c_dir}/bundle_loader.c)
foreach(_t ringfence_kernel_capi ringfence_kernel_bundle_loader)
  set_target_properties(${_t} PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
  target_link_options(${_t} PRIVATE -static)
endforeach()

# The bundles, written by the tool at build time.
set(_bundle_out ${CMAKE_CURRENT_BINARY_DIR}/bundles)
set(_bundle_files "")
set(_initrd_extra "")
foreach(_name confine connect nonblock emptypath)
  set(_src ${_c_dir}/bundles/${_name}.policy)
  set(_dst ${_bundle_out}/${_name}.json)
  add_custom_command(OUTPUT ${_dst}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${_bundle_out}
    COMMAND ${CMAKE_COMMAND} -DTOOL=$<TARGET_FILE:ringfence_kernel_tool_static> -DPOLICY=${_src} -DOUT=${_dst}
      -P ${_c_dir}/write_bundle.cmake
    DEPENDS ringfence_kernel_tool_static ${_src} ${_c_dir}/write_bundle.cmake
    COMMENT "ringfence compile --format json ${_name}.policy")
  list(APPEND _bundle_files ${_dst})
  string(APPEND _initrd_extra " ${_dst}:/${_name}.json")
endforeach()
add_custom_target(ringfence_kernel_bundles ALL DEPENDS ${_bundle_files})
add_dependencies(ringfence_kernel_bundle_loader ringfence_kernel_bundles)

# In the guest the bundles sit at /<name>.json. Each scenario runs in a child:
# EXPECT [--no-exec] BUNDLE CHECK... (see bundle_loader.c).
set(_scenarios
  installs --no-exec /confine.json nop=EACCES socket:2:1:0=ok socket:10:1:0=EACCES socket:1:1:0=EACCES
      openat:/:0=ok openat:/tmp/loader:0x41=EACCES
  -- installs-on=7.1,7.2,7.3 /confine.json nop=EACCES socket:2:1:0=ok socket:10:1:0=EACCES
  -- installs-on=7.2,7.3 --no-exec /connect.json nop=ok socket:10:1:0=ok
  -- installs-on=7.0,7.1,7.2 --no-exec /nonblock.json socket:2:0x801:0=EACCES socket:2:1:0=ok
  -- installs-on=7.2,7.3 --no-exec /emptypath.json openat:/:0=ok openat:/:0x4000000=EACCES)
foreach(_line IN LISTS RINGFENCE_KERNEL_TEST_LINES)
  ringfence_kernel_test(kernel.capi ${_line} COST 20
    COMMAND ${_ringfence_kernel_runner} $<TARGET_FILE:ringfence_kernel_capi>)
  ringfence_kernel_test(kernel.bundle_loader ${_line} COST 15
    COMMAND ${CMAKE_COMMAND} -E env "RINGFENCE_INITRD_EXTRA=${_initrd_extra}"
      ${_ringfence_kernel_runner} $<TARGET_FILE:ringfence_kernel_bundle_loader> --scenarios ${_scenarios})
endforeach()
