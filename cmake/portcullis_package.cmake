# The installed CMake packages of the public libraries (libportcullis-verify in src/verify,
# libportcullis-client in src/client), written once: the package files, and the ctest that
# installs a package into a scratch prefix and builds an example against it with find_package.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
set(PORTCULLIS_PACKAGE_DIR ${CMAKE_CURRENT_LIST_DIR})

# portcullis_package(NAME <package> HEADER <file> [DEPENDENCIES "<find_dependency args>"...])
# Installs, as the component <package>: the public header into include/portcullis, the export
# set <package>-targets (which the caller fills with install(TARGETS ... EXPORT)) in the
# namespace portcullis::, and <package>Config.cmake (cmake/packageConfig.cmake.in: one
# find_dependency per DEPENDENCIES entry) with its version file (same minor version).
function(portcullis_package)
  cmake_parse_arguments(P "" "NAME;HEADER" "DEPENDENCIES" ${ARGN})
  set(dir ${CMAKE_INSTALL_LIBDIR}/cmake/${P_NAME})
  install(FILES ${P_HEADER}
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/portcullis COMPONENT ${P_NAME})
  install(EXPORT ${P_NAME}-targets NAMESPACE portcullis::
    DESTINATION ${dir} COMPONENT ${P_NAME})
  set(PC_PACKAGE ${P_NAME})
  set(PC_DEPENDENCIES "")
  foreach(dependency IN LISTS P_DEPENDENCIES)
    string(APPEND PC_DEPENDENCIES "find_dependency(${dependency})\n")
  endforeach()
  configure_package_config_file(${PORTCULLIS_PACKAGE_DIR}/packageConfig.cmake.in
    ${CMAKE_CURRENT_BINARY_DIR}/${P_NAME}Config.cmake INSTALL_DESTINATION ${dir})
  write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/${P_NAME}ConfigVersion.cmake
    VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/${P_NAME}Config.cmake
                ${CMAKE_CURRENT_BINARY_DIR}/${P_NAME}ConfigVersion.cmake
    DESTINATION ${dir} COMPONENT ${P_NAME})
endfunction()

# portcullis_install_test(NAME <test> PACKAGE <package> HEADER <installed header>
#                         COMPONENTS <component>... EXAMPLE <source dir> PROGRAM <executable>)
# The ctest <test> (cmake/install_test.cmake): installs COMPONENTS into a scratch prefix, checks
# that HEADER (relative to include/) and <package>Config.cmake are there, then configures and
# builds EXAMPLE out of tree against the prefix and runs PROGRAM --help.
function(portcullis_install_test)
  cmake_parse_arguments(P "" "NAME;PACKAGE;HEADER;EXAMPLE" "COMPONENTS;PROGRAMS" ${ARGN})
  if(NOT PORTCULLIS_TESTS)
    return()
  endif()
  string(REPLACE ";" "," components "${P_COMPONENTS}")
  string(REPLACE ";" "," programs "${P_PROGRAMS}")
  add_test(NAME ${P_NAME}
    COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${CMAKE_BINARY_DIR}
            -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/install-test-${P_NAME}
            -DCOMPONENTS=${components} -DPACKAGE=${P_PACKAGE} -DHEADER=${P_HEADER}
            -DEXAMPLE_DIR=${P_EXAMPLE} -DPROGRAM=${programs}
            -DCXX=${CMAKE_CXX_COMPILER} -DGENERATOR=${CMAKE_GENERATOR}
            -DSANITIZE=${PORTCULLIS_SANITIZE}
            -P ${PORTCULLIS_PACKAGE_DIR}/install_test.cmake)
  set_tests_properties(${P_NAME} PROPERTIES TIMEOUT 300)
endfunction()
