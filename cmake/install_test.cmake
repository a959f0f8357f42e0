# The ctests *_install_find_package (portcullis_install_test
# in portcullis_package.cmake): install COMPONENTS (comma-separated) from BUILD_DIR into a
# scratch prefix under WORK_DIR, check that include/HEADER and PACKAGEConfig.cmake were
# installed, then configure and build EXAMPLE_DIR against the prefix with find_package and run
# each of PROGRAM (comma-separated) with --help.
file(REMOVE_RECURSE ${WORK_DIR})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}")
  endif()
endfunction()
string(REPLACE "," ";" components "${COMPONENTS}")
foreach(component IN LISTS components)
  run(${CMAKE_COMMAND} --install ${BUILD_DIR} --component ${component}
      --prefix ${WORK_DIR}/prefix)
endforeach()
file(GLOB_RECURSE config ${WORK_DIR}/prefix/*/${PACKAGE}Config.cmake)
if(NOT EXISTS ${WORK_DIR}/prefix/include/${HEADER} OR NOT config)
  message(FATAL_ERROR "the header or the package config was not installed")
endif()
# A sanitizer build installs instrumented archives: the consumer must link the runtime too.
set(flags "")
if(SANITIZE)
  set(flags -DCMAKE_CXX_FLAGS=-fsanitize=address,undefined
            -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined)
endif()
run(${CMAKE_COMMAND} -S ${EXAMPLE_DIR} -B ${WORK_DIR}/build -G ${GENERATOR}
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix ${flags})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
string(REPLACE "," ";" PROGRAMS "${PROGRAM}")  # comma-separated on the command line
foreach(program ${PROGRAMS})
  if(NOT EXISTS ${WORK_DIR}/build/${program})
    message(FATAL_ERROR "the example ${program} was not built")
  endif()
  run(${WORK_DIR}/build/${program} --help)
endforeach()
message(STATUS "find_package(${PACKAGE}) works")
