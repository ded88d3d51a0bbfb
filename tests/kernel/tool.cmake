# Real-kernel test of the `ringfence run` tool (issue #7 item 4). Included
# from CMakeLists.txt in this directory. A static build of the tool and of a
# small probe program go into the guest's initramfs next to the driver
# (/init), which runs `ringfence run --policy no_inet6.policy -- socket_probe`:
# IORING_OP_SOCKET(AF_INET6) must fail with -EACCES, AF_INET must work, in the
# probe and in its forked child, as root and without CAP_SYS_ADMIN; and under a
# default-deny policy every opcode without rules (IORING_OP_NOP) is denied.
if(NOT EXISTS ${PROJECT_SOURCE_DIR}/tools/ringfence.cpp)
  return()
endif()
set(_tool_dir ${PROJECT_SOURCE_DIR}/tests/tool/kernel)

ringfence_kernel_test_binary(ringfence_kernel_tool_static ${PROJECT_SOURCE_DIR}/tools/ringfence.cpp)
set_target_properties(ringfence_kernel_tool_static PROPERTIES OUTPUT_NAME ringfence-static)
ringfence_kernel_test_binary(ringfence_kernel_socket_probe ${_tool_dir}/socket_probe.cpp)
ringfence_kernel_test_binary(ringfence_kernel_tool_driver ${_tool_dir}/driver.cpp)

# In the guest the files sit at /<name>; natively the driver uses the paths as given.
foreach(_line IN LISTS RINGFENCE_KERNEL_TEST_LINES)
  ringfence_kernel_test(kernel.tool_run ${_line} COST 20
    COMMAND ${CMAKE_COMMAND} -E env
      "RINGFENCE_INITRD_EXTRA=$<TARGET_FILE:ringfence_kernel_tool_static>:/ringfence-static $<TARGET_FILE:ringfence_kernel_socket_probe>:/ringfence_kernel_socket_probe ${_tool_dir}/no_inet6.policy:/no_inet6.policy ${_tool_dir}/bad.policy:/bad.policy ${_tool_dir}/only_inet.policy:/only_inet.policy"
      ${_ringfence_kernel_runner} $<TARGET_FILE:ringfence_kernel_tool_driver>
        $<TARGET_FILE:ringfence_kernel_tool_static> $<TARGET_FILE:ringfence_kernel_socket_probe>
        ${_tool_dir}/no_inet6.policy ${_tool_dir}/bad.policy ${_tool_dir}/only_inet.policy)
endforeach()
