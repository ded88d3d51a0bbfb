cmake_policy(VERSION 3.21)
# Adds one row to ringfence::fields::all in a copy of include/ and builds and
# runs probe.cpp against it; then checks that probe.cpp does not compile
# against the unmodified headers. Used by tests/CMakeLists.txt:
#   cmake -DCXX=... -DSOURCE_DIR=... -DWORK=... -P check.cmake
set(row "    {\"socket.type_low\", 20, 1, field_kind::u8, field_scope::socket},")
file(REMOVE_RECURSE ${WORK})
file(COPY ${SOURCE_DIR}/include DESTINATION ${WORK})
set(table ${WORK}/include/ringfence/field.hpp)
file(READ ${table} text)
# The row goes after the table's last row, the only edit.
string(FIND "${text}" "    {\"connect.v6_addr\"" at)
if(at EQUAL -1)
    message(FATAL_ERROR "cannot find the last row of fields::all in ${table}")
endif()
string(SUBSTRING "${text}" ${at} -1 rest)
string(FIND "${rest}" "\n" eol)
math(EXPR cut "${at} + ${eol} + 1")
string(SUBSTRING "${text}" 0 ${cut} head)
string(SUBSTRING "${text}" ${cut} -1 tail)
file(WRITE ${table} "${head}${row}\n${tail}")
execute_process(COMMAND diff -u ${SOURCE_DIR}/include/ringfence/field.hpp ${table} OUTPUT_VARIABLE diff)
message("the one edit:\n${diff}")

set(flags -std=c++20 -O1 -I${WORK}/include)
execute_process(COMMAND ${CXX} ${flags} ${SOURCE_DIR}/tests/field_added/probe.cpp -o ${WORK}/probe
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "probe.cpp does not compile with the added row:\n${out}")
endif()
execute_process(COMMAND ${WORK}/probe RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
message("${out}")
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "probe failed (exit ${rc})")
endif()
execute_process(COMMAND ${CXX} -std=c++20 -fsyntax-only -I${SOURCE_DIR}/include ${SOURCE_DIR}/tests/field_added/probe.cpp
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(rc EQUAL 0)
    message(FATAL_ERROR "probe.cpp compiles without the added row: the test proves nothing")
endif()
message("without the row probe.cpp does not compile, as it must")
