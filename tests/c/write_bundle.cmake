# cmake -DTOOL=<ringfence> -DPOLICY=<file> -DOUT=<file> -P write_bundle.cmake:
# OUT = `ringfence compile --format json POLICY` (fails when the tool does).
execute_process(COMMAND ${TOOL} compile --format json ${POLICY} OUTPUT_FILE ${OUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    file(REMOVE ${OUT})
    message(FATAL_ERROR "ringfence compile --format json ${POLICY} exited ${rc}")
endif()
