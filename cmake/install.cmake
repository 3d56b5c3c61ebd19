# `cmake --install build --prefix P` (or `make install PREFIX=P`): the avow command, its man pages and shell
# completions, and the library (static libraries of every layer, public headers, a CMake package) so another C++
# program can `find_package(avow)` and link `avow::archive` to verify or append without the CLI.
include(CMakePackageConfigHelpers)

install(TARGETS avow RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The helper that runs the network commands for avow, which looks for it in ../libexec/avow/ (tool/core/forward.hpp).
install(TARGETS avow-net RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/avow)
install(DIRECTORY ${avow_docs_dir}/man1 DESTINATION ${CMAKE_INSTALL_MANDIR})
install(FILES ${avow_docs_dir}/bash/avow DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(FILES ${avow_docs_dir}/zsh/_avow DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/site-functions)

set_target_properties(avow_options PROPERTIES EXPORT_NAME options)
install(TARGETS archive archive_verify archive_index archive_store archive_log archive_record archive_json archive_text
                archive_crypto archive_util archive_net archive_witness avow_options
        EXPORT avowTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS archive_warc EXPORT avowTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
# archive/html (the capture's HTML layer), exported with the others.
install(TARGETS archive_html EXPORT avowTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# Public headers only: the façade's private state and the RAII wrappers of OpenSSL and libgit2 handles stay inside.
install(DIRECTORY ${CMAKE_SOURCE_DIR}/archive DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp"
        PATTERN "archive_impl.hpp" EXCLUDE
        PATTERN "site_assets.hpp" EXCLUDE
        PATTERN "*_handles.hpp" EXCLUDE)

set(avow_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/avow)
install(EXPORT avowTargets NAMESPACE avow:: DESTINATION ${avow_cmake_dir})
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/avowConfig.cmake.in ${CMAKE_BINARY_DIR}/avowConfig.cmake
                              INSTALL_DESTINATION ${avow_cmake_dir})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/avowConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/avowConfig.cmake ${CMAKE_BINARY_DIR}/avowConfigVersion.cmake
        DESTINATION ${avow_cmake_dir})
