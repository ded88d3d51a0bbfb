# Packaging test from the consumer's side: builds and runs tests/package/*
# against the ringfence sources in SOURCE_DIR, in a scratch WORK_DIR.
#
#   cmake -DMODE=<mode> -DSOURCE_DIR=<repo> -DWORK_DIR=<scratch> [-DCXX=<c++>]
#         [-DGENERATOR=<cmake generator>] -P cmake/check_package.cmake
#
# MODE: find_package      install ringfence to a prefix, find_package(ringfence CONFIG)
#       pkg-config        install ringfence to a prefix, pkg_check_modules(ringfence)
#       add_subdirectory  add_subdirectory(<repo>) from the consumer
#       meson             ringfence as a Meson subproject (dependency fallback)
#       c-pkg-config      build and install the C API, pkg_check_modules(ringfence-c) from a
#                         C project compiled and linked by the C compiler (tests/package/c_consumer)
foreach(var MODE SOURCE_DIR WORK_DIR)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "check_package: -D${var}=... is required")
    endif()
endforeach()

# Runs a command; on failure prints its output and fails.
function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
    if(NOT result EQUAL 0)
        list(JOIN ARGN " " command)
        message(FATAL_ERROR "check_package (${MODE}): failed (${result}): ${command}\n${output}")
    endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
file(COPY "${SOURCE_DIR}/tests/package/cmake_consumer" "${SOURCE_DIR}/tests/package/meson_consumer"
     "${SOURCE_DIR}/tests/package/c_consumer" DESTINATION "${WORK_DIR}")

set(cmake_args "")
if(CXX)
    list(APPEND cmake_args -DCMAKE_CXX_COMPILER=${CXX})
endif()
if(GENERATOR)
    list(APPEND cmake_args -G ${GENERATOR})
endif()
set(prefix "${WORK_DIR}/prefix")
set(consumer "${WORK_DIR}/cmake_consumer")
set(build "${WORK_DIR}/build")

if(MODE STREQUAL "find_package" OR MODE STREQUAL "pkg-config")
    # A fresh, test-free configuration of ringfence, installed: nothing is compiled.
    run(${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}/ringfence" ${cmake_args}
        -DRINGFENCE_BUILD_TESTS=OFF -DRINGFENCE_BUILD_BENCHMARKS=OFF
        -DRINGFENCE_BUILD_EXAMPLES=OFF -DRINGFENCE_BUILD_TOOLS=OFF -DRINGFENCE_BUILD_C_API=OFF)
    run(${CMAKE_COMMAND} --install "${WORK_DIR}/ringfence" --prefix "${prefix}")
    if(MODE STREQUAL "find_package")
        run(${CMAKE_COMMAND} -S "${consumer}" -B "${build}" ${cmake_args}
            -DRINGFENCE_CONSUME=find_package "-DCMAKE_PREFIX_PATH=${prefix}")
    else()
        run(${CMAKE_COMMAND} -E env "PKG_CONFIG_PATH=${prefix}/share/pkgconfig"
            ${CMAKE_COMMAND} -S "${consumer}" -B "${build}" ${cmake_args} -DRINGFENCE_CONSUME=pkg-config)
    endif()
    run(${CMAKE_COMMAND} --build "${build}")
    run("${build}/consumer")
elseif(MODE STREQUAL "c-pkg-config")
    # The C API library built (unoptimised: this tests packaging, not speed) and installed.
    run(${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}/ringfence" ${cmake_args}
        -DRINGFENCE_BUILD_TESTS=OFF -DRINGFENCE_BUILD_BENCHMARKS=OFF
        -DRINGFENCE_BUILD_EXAMPLES=OFF -DRINGFENCE_BUILD_TOOLS=OFF -DRINGFENCE_BUILD_C_API=ON)
    run(${CMAKE_COMMAND} --build "${WORK_DIR}/ringfence")
    run(${CMAKE_COMMAND} --install "${WORK_DIR}/ringfence" --prefix "${prefix}")
    file(GLOB_RECURSE pc_files "${prefix}/ringfence-c.pc")
    if(NOT pc_files)
        message(FATAL_ERROR "check_package (${MODE}): no ringfence-c.pc under ${prefix}")
    endif()
    list(GET pc_files 0 pc_file)
    get_filename_component(pc_dir "${pc_file}" DIRECTORY)
    set(c_args "")
    if(CC)
        list(APPEND c_args -DCMAKE_C_COMPILER=${CC})
    endif()
    if(GENERATOR)
        list(APPEND c_args -G ${GENERATOR})
    endif()
    run(${CMAKE_COMMAND} -E env "PKG_CONFIG_PATH=${pc_dir}"
        ${CMAKE_COMMAND} -S "${WORK_DIR}/c_consumer" -B "${build}" ${c_args})
    run(${CMAKE_COMMAND} --build "${build}")
    run("${build}/consumer")
elseif(MODE STREQUAL "add_subdirectory")
    run(${CMAKE_COMMAND} -S "${consumer}" -B "${build}" ${cmake_args}
        -DRINGFENCE_CONSUME=add_subdirectory "-DRINGFENCE_SOURCE_DIR=${SOURCE_DIR}")
    run(${CMAKE_COMMAND} --build "${build}")
    run("${build}/consumer")
elseif(MODE STREQUAL "meson")
    find_program(MESON meson REQUIRED)
    set(project "${WORK_DIR}/meson_consumer")
    file(MAKE_DIRECTORY "${project}/subprojects")
    file(CREATE_LINK "${SOURCE_DIR}" "${project}/subprojects/ringfence" SYMBOLIC)
    set(env "")
    if(CXX)
        set(env "CXX=${CXX}")
    endif()
    run(${CMAKE_COMMAND} -E env ${env}
        ${MESON} setup --force-fallback-for=ringfence "${build}" "${project}")
    run(${MESON} test -C "${build}")
else()
    message(FATAL_ERROR "check_package: unknown MODE ${MODE}")
endif()
message(STATUS "check_package (${MODE}): the consumer built and ran")
