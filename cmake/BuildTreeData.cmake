# The build tree's share/flakescope, laid out as in the install tree, so a binary finds its data
# files relative to itself in both (analyzer/core/install_layout.h) and nothing depends on
# where the sources are. Copied on every build when a source file changed.
file(GLOB FLAKESCOPE_PYTEST_PLUGIN_FILES CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/integrations/pytest/*.py)
set(_fs_plugin_dir ${PROJECT_BINARY_DIR}/share/flakescope/pytest)
set(_fs_plugin_copies)
foreach(_src IN LISTS FLAKESCOPE_PYTEST_PLUGIN_FILES)
  get_filename_component(_name ${_src} NAME)
  add_custom_command(OUTPUT ${_fs_plugin_dir}/${_name}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${_fs_plugin_dir}
    COMMAND ${CMAKE_COMMAND} -E copy_if_different ${_src} ${_fs_plugin_dir}/${_name}
    DEPENDS ${_src} VERBATIM)
  list(APPEND _fs_plugin_copies ${_fs_plugin_dir}/${_name})
endforeach()
add_custom_target(flakescope_pytest_plugin ALL DEPENDS ${_fs_plugin_copies})
add_dependencies(flakescope flakescope_pytest_plugin)

# The capture's native measurement (integrations/pytest/native), a plain C-ABI library the plugin
# loads with ctypes from beside its modules. Never sanitized (it is loaded into a Python process
# without the sanitizer runtimes) and never contracted into fused multiply-adds: its numbers must
# equal the numpy path's bit for bit.
add_library(flakescope_measure MODULE
            ${PROJECT_SOURCE_DIR}/integrations/pytest/native/flakescope_measure.cpp)
set_target_properties(flakescope_measure PROPERTIES
  LIBRARY_OUTPUT_DIRECTORY ${_fs_plugin_dir} PREFIX "lib" CXX_VISIBILITY_PRESET default)
target_compile_options(flakescope_measure PRIVATE ${FLAKESCOPE_WARNINGS} -O3 -ffp-contract=off
                       -fno-sanitize=all)
target_link_options(flakescope_measure PRIVATE -fno-sanitize=all)
add_dependencies(flakescope flakescope_measure)
