# ctest client_install_find_package: install the portcullis-verify and portcullis-client
# components into a scratch prefix, then configure and build an example (EXAMPLE_DIR; default
# program client_call, else PROGRAMS) against them with find_package.
file(REMOVE_RECURSE ${WORK_DIR})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}")
  endif()
endfunction()
foreach(component portcullis-verify portcullis-client)
  run(${CMAKE_COMMAND} --install ${BUILD_DIR} --component ${component}
      --prefix ${WORK_DIR}/prefix)
endforeach()
file(GLOB_RECURSE config ${WORK_DIR}/prefix/*/portcullis-clientConfig.cmake)
if(NOT EXISTS ${WORK_DIR}/prefix/include/portcullis/client.h OR NOT config)
  message(FATAL_ERROR "the header or the package config was not installed")
endif()
set(flags "")
if(SANITIZE)
  set(flags -DCMAKE_CXX_FLAGS=-fsanitize=address,undefined
            -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined)
endif()
run(${CMAKE_COMMAND} -S ${EXAMPLE_DIR} -B ${WORK_DIR}/build -G ${GENERATOR}
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix ${flags})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
if(NOT PROGRAMS)
  set(PROGRAMS client_call)
endif()
string(REPLACE "," ";" PROGRAMS "${PROGRAMS}")  # comma-separated on the command line
foreach(program ${PROGRAMS})
  if(NOT EXISTS ${WORK_DIR}/build/${program})
    message(FATAL_ERROR "the example ${program} was not built")
  endif()
  run(${WORK_DIR}/build/${program} --help)
endforeach()
message(STATUS "find_package(portcullis-client) works")
