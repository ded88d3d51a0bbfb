cmake_policy(VERSION 3.21)
# Runs the ringfence tool once and checks its exit status and output
# (stdout and stderr together). Used by tests.cmake:
#   cmake -DTOOL=... -DARGS="a^^b^^c" -DWORKDIR=... -DRC=0 [-DGOLDEN=file] [-DREGEX=re] -P check.cmake
# RC may be a list of accepted statuses ("0;125"). With the environment
# variable RINGFENCE_UPDATE_GOLDEN=1 the golden file is rewritten instead.
string(REPLACE "^^" ";" args "${ARGS}")
execute_process(COMMAND ${TOOL} ${args}
    WORKING_DIRECTORY ${WORKDIR}
    RESULT_VARIABLE rc
    OUTPUT_VARIABLE out
    ERROR_VARIABLE out)
message("${out}")
if(NOT rc IN_LIST RC)
    message(FATAL_ERROR "exit status ${rc}, expected ${RC}")
endif()
if(DEFINED REGEX AND NOT out MATCHES "${REGEX}")
    message(FATAL_ERROR "the output does not match: ${REGEX}")
endif()
if(DEFINED GOLDEN)
    if("$ENV{RINGFENCE_UPDATE_GOLDEN}" STREQUAL "1")
        file(WRITE ${GOLDEN} "${out}")
        message("updated ${GOLDEN}")
    else()
        file(READ ${GOLDEN} expected)
        if(NOT out STREQUAL expected)
            # The output goes to the build tree (the test's working directory), never the sources.
            get_filename_component(_name ${GOLDEN} NAME)
            set(_actual ${CMAKE_CURRENT_BINARY_DIR}/${_name}.actual)
            file(WRITE ${_actual} "${out}")
            execute_process(COMMAND diff -u ${GOLDEN} ${_actual})
            message(FATAL_ERROR "the output differs from ${GOLDEN} (got ${_actual}; "
                "RINGFENCE_UPDATE_GOLDEN=1 ctest -R tool. rewrites the golden files)")
        endif()
    endif()
endif()
if(DEFINED COMPARE_FILES)
    string(REPLACE "^^" ";" files "${COMPARE_FILES}")
    list(GET files 0 a)
    list(GET files 1 b)
    execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${a} ${b} RESULT_VARIABLE same)
    if(NOT same EQUAL 0)
        message(FATAL_ERROR "${a} and ${b} differ")
    endif()
endif()
