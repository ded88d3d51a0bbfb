# Host tests of the ringfence tool (included from tools/CMakeLists.txt): each
# runs the tool on files under tests/tool/ and checks the exit status and the
# output against a golden file (tests/tool/golden/<name>.txt) or a pattern.
# RINGFENCE_UPDATE_GOLDEN=1 ctest -R '^tool\.' rewrites the golden files.
set(_tool_tests ${PROJECT_SOURCE_DIR}/tests/tool)

# ringfence_tool_test(NAME name ARGS ... RC 0 [GOLDEN] [REGEX re] [COMPARE a b])
function(ringfence_tool_test)
    cmake_parse_arguments(T "GOLDEN" "NAME;REGEX" "ARGS;RC;COMPARE" ${ARGN})
    list(JOIN T_ARGS "^^" args)
    string(REPLACE ";" "\\;" rc "${T_RC}")
    set(cmd ${CMAKE_COMMAND} -DTOOL=$<TARGET_FILE:ringfence_tool> "-DARGS=${args}" -DWORKDIR=${_tool_tests}
        "-DRC=${rc}")
    if(T_GOLDEN)
        list(APPEND cmd -DGOLDEN=${_tool_tests}/golden/${T_NAME}.txt)
    endif()
    if(T_REGEX)
        list(APPEND cmd "-DREGEX=${T_REGEX}")
    endif()
    if(T_COMPARE)
        list(JOIN T_COMPARE "^^" compare)
        list(APPEND cmd "-DCOMPARE_FILES=${compare}")
    endif()
    add_test(NAME tool.${T_NAME} COMMAND ${cmd} -P ${_tool_tests}/check.cmake)
    set_tests_properties(tool.${T_NAME} PROPERTIES LABELS tool)
endfunction()

set(_out ${CMAKE_CURRENT_BINARY_DIR}/tool-tests)
file(MAKE_DIRECTORY ${_out})

# verify: text and raw input; rejections name the instruction, its index and the kernel's check.
ringfence_tool_test(NAME verify_text ARGS verify programs/inet_only.asm RC 0 GOLDEN)
ringfence_tool_test(NAME verify_raw ARGS verify programs/inet_only.bin RC 0 GOLDEN)
ringfence_tool_test(NAME verify_scratch_before_write ARGS verify programs/scratch_before_write.asm RC 1 GOLDEN)
ringfence_tool_test(NAME verify_unaligned_load ARGS verify programs/unaligned_load.asm --opcode SOCKET RC 1 GOLDEN)
ringfence_tool_test(NAME verify_not_allowed ARGS verify programs/byte_load.asm RC 1 GOLDEN)
ringfence_tool_test(NAME verify_missing_return_raw ARGS verify programs/missing_return.bin RC 1 GOLDEN)
ringfence_tool_test(NAME verify_syntax_error ARGS verify programs/syntax_error.asm RC 2 GOLDEN)
ringfence_tool_test(NAME verify_torn_raw ARGS verify --raw programs/inet_only.asm RC 2 GOLDEN)

# fields: the table of docs/policy-format.md is the tool's (and so the library's) table.
add_test(NAME tool.fields_doc COMMAND ${CMAKE_COMMAND} -DTOOL=$<TARGET_FILE:ringfence_tool> -DARGS=fields
    -DDOC=${PROJECT_SOURCE_DIR}/docs/policy-format.md -DNAME=fields -P ${_tool_tests}/doc_section.cmake)
set_tests_properties(tool.fields_doc PROPERTIES LABELS tool)
ringfence_tool_test(NAME usage_fields_takes_no_file ARGS fields x.policy RC 2 GOLDEN)

# The manual pages are generated from --help and docs/policy-format.md (scripts/man.py).
find_package(Python3 COMPONENTS Interpreter QUIET)
if(Python3_FOUND)
    add_test(NAME docs.man_fresh COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/man.py --check
        --tool $<TARGET_FILE:ringfence_tool>)
    set_tests_properties(docs.man_fresh PROPERTIES LABELS tool)
endif()

# disasm and asm
ringfence_tool_test(NAME disasm_raw_socket ARGS disasm programs/inet_only.bin --opcode SOCKET RC 0 GOLDEN)
ringfence_tool_test(NAME disasm_every_scope ARGS disasm programs/inet_only.asm RC 0 GOLDEN)
ringfence_tool_test(NAME disasm_asm_open ARGS disasm programs/no_create.asm --opcode OPENAT --asm RC 0 GOLDEN)
ringfence_tool_test(NAME asm_to_raw ARGS asm programs/inet_only.asm -o ${_out}/inet_only.bin RC 0
    COMPARE ${_out}/inet_only.bin ${_tool_tests}/programs/inet_only.bin)
ringfence_tool_test(NAME asm_rejected ARGS asm programs/scratch_before_write.asm -o ${_out}/x.bin RC 1 GOLDEN)

# explain: a program, and a policy (which rule decided)
ringfence_tool_test(NAME explain_socket_deny ARGS explain programs/inet_only.asm --opcode SOCKET
    --field socket.family=AF_INET6 --field socket.type=1 RC 0 GOLDEN)
ringfence_tool_test(NAME explain_open_flags ARGS explain programs/no_create.asm --opcode IORING_OP_OPENAT
    --field open.flags=0x40 RC 0 GOLDEN)
ringfence_tool_test(NAME explain_policy_connect ARGS explain --policy policies/server.policy --opcode CONNECT
    --field connect.family=2 --field connect.v4_addr=127.0.0.1 --field connect.port=443 RC 0 GOLDEN)
ringfence_tool_test(NAME explain_policy_connect_v6 ARGS explain --policy policies/server.policy --opcode CONNECT
    --field connect.family=10 --field connect.v6_addr=2001:db8::1 --field connect.port=443 RC 0 GOLDEN)
ringfence_tool_test(NAME explain_wrong_field ARGS explain programs/inet_only.asm --opcode OPENAT
    --field socket.family=2 RC 2 GOLDEN)

# compile: the text policy format, through the DSL's compiler
ringfence_tool_test(NAME compile_server ARGS compile policies/server.policy RC 0 GOLDEN)
ringfence_tool_test(NAME compile_every_form ARGS compile policies/every_form.policy RC 0 GOLDEN)
# compile --format json: the bundle (docs/bundle.md) of what install() registers
ringfence_tool_test(NAME compile_bundle_server ARGS compile policies/server.policy --format json RC 0 GOLDEN)
ringfence_tool_test(NAME compile_bundle_never_shown ARGS compile bundle/never_shown.policy --format json RC 1
    REGEX "cannot write a bundle: .*open.flags, and reads bits 0x40000000 that this kernel")
ringfence_tool_test(NAME compile_bundle_with_opcode ARGS compile policies/server.policy --format json --opcode SOCKET
    RC 2 REGEX "compile --format json writes every filter: no --opcode or --asm")
ringfence_tool_test(NAME compile_bad_format ARGS compile policies/server.policy --format yaml RC 2
    REGEX "--format takes text or json, not 'yaml'")
ringfence_tool_test(NAME compile_container ARGS compile ${PROJECT_SOURCE_DIR}/examples/container.policy RC 0
    REGEX "IORING_OP_SOCKET \\(45\\): [0-9]+ instructions, verified")
file(GLOB _bad_policies CONFIGURE_DEPENDS ${_tool_tests}/policy_errors/*.policy)
foreach(policy IN LISTS _bad_policies)
    get_filename_component(name ${policy} NAME_WE)
    ringfence_tool_test(NAME policy_error_${name} ARGS compile policy_errors/${name}.policy RC 2 GOLDEN)
endforeach()
# The OCI linux.ioUring object (ringfence/policy/oci.hpp), read wherever a policy is: bare, in a config.json
# under linux.ioUring or in its dev.youki.io_uring annotation; its errors name the file's line and column.
file(GLOB _bad_oci CONFIGURE_DEPENDS ${_tool_tests}/policy_errors/*.json)
foreach(policy IN LISTS _bad_oci)
    get_filename_component(name ${policy} NAME_WE)
    ringfence_tool_test(NAME policy_error_${name} ARGS compile policy_errors/${name}.json RC 2 GOLDEN)
endforeach()
ringfence_tool_test(NAME compile_oci_deny ARGS compile policies/oci_deny.json RC 0 GOLDEN)
ringfence_tool_test(NAME compile_oci_config ARGS compile policies/oci_config.json --opcode SOCKET RC 0 GOLDEN)
ringfence_tool_test(NAME compile_oci_annotation ARGS compile policies/oci_annotation.json RC 0 GOLDEN)
ringfence_tool_test(NAME explain_oci_flag ARGS explain --policy policies/oci_deny.json --opcode READ --sqe-flags 0x20
    RC 0 REGEX "decision: deny \\(the request completes with -EACCES\\), by rule \"deniedSqeFlags\"")
ringfence_tool_test(NAME explain_oci_family ARGS explain --policy policies/oci_annotation.json --opcode SOCKET
    --field socket.family=AF_INET6 RC 0 REGEX "decision: deny \\(the request completes with -EACCES\\)")
ringfence_tool_test(NAME explain_oci_default ARGS explain --policy policies/oci_config.json --opcode OPENAT
    RC 0 REGEX "decision: allow")
ringfence_tool_test(NAME run_dry_oci_config ARGS run --dry-run --kernel 7.2 --policy policies/oci_config.json RC 0 GOLDEN)
ringfence_tool_test(NAME run_bad_oci ARGS run --policy policy_errors/oci_unknown_opcode.json -- true RC 125
    REGEX "oci_unknown_opcode.json:3:29: unknown opcode \"read\".*nothing was run")

# The parser's own errors, for what the DSL refuses at compile time and for the
# text's own mistakes, each named by line and column (issue 11). Cases that need
# no file of their own:
ringfence_tool_test(NAME policy_error_directory ARGS compile policies RC 2 REGEX "cannot read policies: it is a directory")
ringfence_tool_test(NAME verify_directory ARGS verify programs RC 2 REGEX "cannot read programs: it is a directory")
ringfence_tool_test(NAME policy_error_unbounded ARGS compile /dev/zero RC 2
    REGEX "cannot read /dev/zero: it is larger than 16 MiB")
ringfence_tool_test(NAME verify_unbounded ARGS verify /dev/zero RC 2 REGEX "cannot read /dev/zero: it is larger than 16 MiB")
ringfence_tool_test(NAME run_policy_directory ARGS run --policy policies -- true RC 125
    REGEX "cannot read policies: it is a directory.*nothing was run")
ringfence_tool_test(NAME run_policy_unbounded ARGS run --policy /dev/zero -- true RC 125
    REGEX "larger than 16 MiB.*nothing was run")

# Inputs too large to commit, generated at test time (generate.cmake).
add_test(NAME tool.generate_large_inputs COMMAND ${CMAKE_COMMAND} -DOUT_DIR=${_out}/large -P ${_tool_tests}/generate.cmake)
set_tests_properties(tool.generate_large_inputs PROPERTIES LABELS tool FIXTURES_SETUP tool_large_inputs)
ringfence_tool_test(NAME policy_error_deep_parens ARGS compile ${_out}/large/parens.policy RC 2
    REGEX "parens.policy:2:[0-9]+: the condition nests too deeply \\(at most 256 levels of \\( and not\\)")
ringfence_tool_test(NAME policy_error_deep_nots ARGS compile ${_out}/large/nots.policy RC 2
    REGEX "nots.policy:2:[0-9]+: the condition nests too deeply")
ringfence_tool_test(NAME explain_policy_large_file ARGS explain --policy ${_out}/large/comments.policy --opcode SOCKET
    --field socket.protocol=145 RC 0 REGEX "decision: deny.*by rule \"line 146147\"")
# Large sets (issue 11): the size error is only ever the program's own, and true.
ringfence_tool_test(NAME compile_set_contiguous ARGS compile ${_out}/large/set_contiguous.policy RC 0
    REGEX "IORING_OP_SOCKET \\(45\\): [0-9] instructions, verified")
ringfence_tool_test(NAME compile_set_mode ARGS compile ${_out}/large/set_mode.policy RC 0
    REGEX "IORING_OP_OPENAT \\(18\\): [0-9] instructions, verified")
ringfence_tool_test(NAME compile_set_sparse ARGS compile ${_out}/large/set_sparse.policy RC 1
    REGEX "IORING_OP_SOCKET \\(45\\): cannot compile: the program needs more than 4096 instructions")
ringfence_tool_test(NAME policy_error_set_members ARGS compile ${_out}/large/set_members.policy RC 2
    REGEX "set_members.policy:2:[0-9]+: the policy is too large \\(at most 8192 set members\\)")
set_tests_properties(tool.policy_error_deep_parens tool.policy_error_deep_nots tool.explain_policy_large_file
    tool.compile_set_contiguous tool.compile_set_mode tool.compile_set_sparse tool.policy_error_set_members
    PROPERTIES FIXTURES_REQUIRED tool_large_inputs)

# explain --policy names the rule that decides (as ringfence::deciding_rule does), not a rule whose test failed.
ringfence_tool_test(NAME explain_policy_later_deny ARGS explain --policy policies/later_deny.policy --opcode SOCKET
    --field socket.family=AF_INET6 RC 0
    REGEX "decision: deny \\(the request completes with -EACCES\\), by rule \"other sockets\"")
ringfence_tool_test(NAME explain_policy_deny_rule_not_default ARGS explain --policy policies/deny_rule_under_deny_default.policy
    --opcode SOCKET --field socket.family=AF_INET6 RC 0
    REGEX "decision: deny \\(the request completes with -EACCES\\), by rule \"no inet6\"")

# --field reads numbers as the policy text does: 0b binary too, and no sign or blank.
ringfence_tool_test(NAME explain_field_binary ARGS explain programs/inet_only.asm --opcode SOCKET
    --field socket.family=0b1010 RC 0 REGEX "socket.family = 10 \\(0xa\\)")
ringfence_tool_test(NAME explain_field_negative ARGS explain programs/inet_only.asm --opcode SOCKET
    --field "socket.family= -1" RC 2 REGEX "not a number")
ringfence_tool_test(NAME explain_field_blank_negative ARGS explain programs/inet_only.asm --opcode SOCKET
    --field "user_data= -1" RC 2 REGEX "--field user_data= -1: not a number")

# An option a command does not take is an error naming both.
ringfence_tool_test(NAME usage_option_not_for_probe ARGS probe --opcode SOCKET RC 2
    REGEX "--opcode does not apply to probe \\(probe takes no options\\)")
ringfence_tool_test(NAME usage_option_not_for_compile ARGS compile policies/server.policy --field socket.family=2 RC 2
    REGEX "--field does not apply to compile \\(compile takes --opcode, --asm, --format\\)")
ringfence_tool_test(NAME usage_option_not_for_run ARGS run --policy policies/server.policy --asm -- true RC 2
    REGEX "--asm does not apply to run")
ringfence_tool_test(NAME usage_raw_not_for_policy ARGS explain --policy policies/server.policy --opcode SOCKET --raw RC 2
    REGEX "--raw does not apply to explain --policy")

# run: a dry run everywhere; a real run fails clearly where the kernel lacks the feature
ringfence_tool_test(NAME run_dry ARGS run --dry-run --kernel 7.2 --policy policies/server.policy RC 0 GOLDEN)
# What each measured line gets, or why it is refused (exit 125, nothing installed).
ringfence_tool_test(NAME run_dry_7_0_exec ARGS run --dry-run --kernel 7.0 --policy policies/deny_all.policy RC 125 GOLDEN)
ringfence_tool_test(NAME run_dry_7_0_forbid ARGS run --dry-run --kernel 7.0 --forbid-io-uring
    --policy policies/deny_all.policy RC 0 GOLDEN)
ringfence_tool_test(NAME run_dry_7_0_connect ARGS run --dry-run --kernel 7.0 --forbid-io-uring
    --policy policies/server.policy RC 125 GOLDEN)
ringfence_tool_test(NAME run_dry_7_1_connect ARGS run --dry-run --kernel 7.1 --policy policies/server.policy RC 125 GOLDEN)
ringfence_tool_test(NAME run_dry_7_1_deny_all ARGS run --dry-run --kernel 7.1 --policy policies/deny_all.policy RC 0 GOLDEN)
ringfence_tool_test(NAME run_dry_7_2_socket_flags ARGS run --dry-run --kernel 7.2 --policy policies/socket_flags.policy
    RC 0 GOLDEN)
ringfence_tool_test(NAME run_dry_7_3_socket_flags ARGS run --dry-run --kernel 7.3 --policy policies/socket_flags.policy
    RC 125 GOLDEN)
ringfence_tool_test(NAME run_dry_7_3_server ARGS run --dry-run --kernel 7.3 --policy policies/server.policy RC 0 GOLDEN)
# The curated container profile (profiles/container.policy) installs on every
# line whose task filters survive exec, as written; 7.0 refuses every policy
# unless --forbid-io-uring. kernel.profile_programs runs real programs under it.
foreach(_line 7.1 7.2 7.3)
    string(REPLACE "." "_" _l ${_line})
    ringfence_tool_test(NAME profile_container_${_l} ARGS run --dry-run --kernel ${_line}
        --policy ../../profiles/container.policy RC 0 REGEX "would install 65 task filters: NOP\\(1\\) .*URING_CMD128\\(1\\)\\+DENY_REST")
endforeach()
ringfence_tool_test(NAME profile_container_7_0 ARGS run --dry-run --kernel 7.0 --policy ../../profiles/container.policy
    RC 125 REGEX "do not survive execve")
ringfence_tool_test(NAME profile_container_7_0_forbid ARGS run --dry-run --kernel 7.0 --forbid-io-uring
    --policy ../../profiles/container.policy RC 0 REGEX "would install 65 task filters")
ringfence_tool_test(NAME run_kernel_needs_dry_run ARGS run --kernel 7.2 --policy policies/server.policy -- true RC 2
    REGEX "--kernel goes with --dry-run")
ringfence_tool_test(NAME run_unknown_kernel ARGS run --dry-run --kernel 6.9 --policy policies/server.policy RC 2
    REGEX "no measured kernel line '6.9'")
ringfence_tool_test(NAME run_host ARGS run --policy policies/server.policy -- true RC "0;125"
    REGEX "^$|has no io_uring BPF filters.*nothing was run")
ringfence_tool_test(NAME run_no_command ARGS run --policy policies/server.policy RC 2 GOLDEN)
ringfence_tool_test(NAME run_bad_policy ARGS run --policy policy_errors/unknown_field.policy -- true RC 125
    REGEX "unknown_field.policy:[0-9]+:[0-9]+: unknown field")

# probe and usage
ringfence_tool_test(NAME probe ARGS probe RC "0;1" REGEX "io_uring BPF filters: ")
ringfence_tool_test(NAME usage_unknown_command ARGS frobnicate RC 2 GOLDEN)
ringfence_tool_test(NAME usage_help ARGS --help RC 0 REGEX "run --policy FILE .*-- COMMAND")

# The parser against the DSL: the same policies as text and as constexpr values.
add_executable(ringfence_tool_parser_test ${_tool_tests}/parser_matches_dsl.cpp)
target_link_libraries(ringfence_tool_parser_test PRIVATE ringfence::ringfence)
add_test(NAME tool.parser_matches_dsl COMMAND ringfence_tool_parser_test)
set_tests_properties(tool.parser_matches_dsl PROPERTIES LABELS tool)

# The examples' text twins (examples/<name>.policy) compile to the same programs
# as their compile-time C++ policies (examples/<name>.cpp).
foreach(name IN ITEMS container tcp_server no_create)
    if(TARGET ringfence_example_${name})
        add_test(NAME example.${name}_policy_text
            COMMAND ${CMAKE_COMMAND} -DTOOL=$<TARGET_FILE:ringfence_tool>
                -DEXAMPLE=$<TARGET_FILE:ringfence_example_${name}>
                -DPOLICY=${PROJECT_SOURCE_DIR}/examples/${name}.policy
                -P ${PROJECT_SOURCE_DIR}/examples/same_programs.cmake)
        set_tests_properties(example.${name}_policy_text PROPERTIES LABELS tool)
    endif()
endforeach()

# from-seccomp (docs/seccomp.md): the profiles of the kernel differential, an OCI config.json, and refusals.
add_test(NAME tool.seccomp_map_doc COMMAND ${CMAKE_COMMAND} -DTOOL=$<TARGET_FILE:ringfence_tool>
    "-DARGS=from-seccomp^^--map" -DDOC=${PROJECT_SOURCE_DIR}/docs/seccomp.md -DNAME=seccomp-map
    -P ${_tool_tests}/doc_section.cmake)
set_tests_properties(tool.seccomp_map_doc PROPERTIES LABELS tool)
file(GLOB _seccomp_profiles CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/seccomp/*.json)
foreach(profile IN LISTS _seccomp_profiles)
    get_filename_component(name ${profile} NAME_WE)
    ringfence_tool_test(NAME from_seccomp_${name} ARGS from-seccomp ../seccomp/${name}.json RC 0 GOLDEN)
endforeach()
ringfence_tool_test(NAME from_seccomp_oci_config ARGS from-seccomp seccomp/oci_config.json RC 0 GOLDEN)
foreach(name action unknown_key index negative op json)
    ringfence_tool_test(NAME from_seccomp_error_${name} ARGS from-seccomp seccomp/error_${name}.json RC 2 GOLDEN)
endforeach()
ringfence_tool_test(NAME from_seccomp_usage ARGS from-seccomp RC 2 REGEX "from-seccomp takes one profile")
ringfence_tool_test(NAME from_seccomp_directory ARGS from-seccomp seccomp RC 2 REGEX "cannot read seccomp: it is a directory")
