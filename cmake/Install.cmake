# `cmake --install build [--prefix P]`:
#   bin/flakescope, bin/flakescope-torch       both binaries (flakescope execs the engine beside it)
#   share/flakescope/pytest/*.py               the pytest plugin (found relative to bin/flakescope)
#   share/flakescope/pytest/libflakescope_measure.so  the plugin's native measurement (ctypes)
#   share/flakescope/{schema,policy,baselines} the report schema, the default gate policy, baselines
#   include/flakescope/...                     the public headers (and the generated version.h)
#   lib/libflakescope_capture.so               the C++ capture API
#   lib/cmake/flakescope/flakescopeConfig.cmake  find_package(flakescope) -> flakescope::capture
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

if(SKBUILD)
  # `pip install .` (pyproject.toml, scikit-build-core, FLAKESCOPE_TORCH=OFF): the binary into the
  # environment's bin/, the plugin modules importable (site-packages), and share/flakescope beside
  # bin/ (the wheel's data folder is the environment's prefix), where the binary looks for them.
  install(TARGETS flakescope RUNTIME DESTINATION ${SKBUILD_SCRIPTS_DIR})
  install(FILES ${FLAKESCOPE_PYTEST_PLUGIN_FILES} DESTINATION ${SKBUILD_PLATLIB_DIR})
  install(TARGETS flakescope_measure LIBRARY DESTINATION ${SKBUILD_PLATLIB_DIR})
  install(FILES ${FLAKESCOPE_PYTEST_PLUGIN_FILES}
          DESTINATION ${SKBUILD_DATA_DIR}/${CMAKE_INSTALL_DATADIR}/flakescope/pytest)
  install(TARGETS flakescope_measure
          LIBRARY DESTINATION ${SKBUILD_DATA_DIR}/${CMAKE_INSTALL_DATADIR}/flakescope/pytest)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/reports/schema ${PROJECT_SOURCE_DIR}/reports/policy
                    ${PROJECT_SOURCE_DIR}/reports/baselines
          DESTINATION ${SKBUILD_DATA_DIR}/${CMAKE_INSTALL_DATADIR}/flakescope)
  return()
endif()

set(FLAKESCOPE_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/flakescope CACHE STRING
    "Where flakescopeConfig.cmake is installed, relative to the prefix")

install(TARGETS flakescope RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${FLAKESCOPE_PYTEST_PLUGIN_FILES}
        DESTINATION ${CMAKE_INSTALL_DATADIR}/flakescope/pytest)
install(TARGETS flakescope_measure LIBRARY DESTINATION ${CMAKE_INSTALL_DATADIR}/flakescope/pytest)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/reports/schema ${PROJECT_SOURCE_DIR}/reports/policy
                  ${PROJECT_SOURCE_DIR}/reports/baselines
        DESTINATION ${CMAKE_INSTALL_DATADIR}/flakescope)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/flakescope DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_BINARY_DIR}/generated/flakescope/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/flakescope)

if(FLAKESCOPE_TORCH)
  # The LibTorch the build linked may live outside the loader's paths (a wheel): keep it on the
  # installed files' RUNPATH.
  set_target_properties(flakescope-torch flakescope_capture PROPERTIES
    INSTALL_RPATH_USE_LINK_PATH ON)
  install(TARGETS flakescope-torch RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(TARGETS flakescope_capture EXPORT flakescopeTargets
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(EXPORT flakescopeTargets NAMESPACE flakescope::
          DESTINATION ${FLAKESCOPE_INSTALL_CMAKEDIR})
  set(FLAKESCOPE_CONFIG_TORCH_CPU_ONLY ${FLAKESCOPE_TORCH_CPU_ONLY})
  configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/flakescopeConfig.cmake.in
    ${PROJECT_BINARY_DIR}/flakescopeConfig.cmake INSTALL_DESTINATION ${FLAKESCOPE_INSTALL_CMAKEDIR}
    PATH_VARS CMAKE_INSTALL_BINDIR)
  write_basic_package_version_file(${PROJECT_BINARY_DIR}/flakescopeConfigVersion.cmake
    COMPATIBILITY SameMinorVersion)
  install(FILES ${PROJECT_BINARY_DIR}/flakescopeConfig.cmake
                ${PROJECT_BINARY_DIR}/flakescopeConfigVersion.cmake
                ${PROJECT_SOURCE_DIR}/cmake/TorchCpuOnly.cmake
          DESTINATION ${FLAKESCOPE_INSTALL_CMAKEDIR})
endif()
