# File transfer figures (issue #12) against real `hearthnet run` processes: 1 GiB between two
# nodes vs `nc` raw and two Syncthing instances on loopback, peak RSS of the fetching node,
# two sources vs one. Reuses the functional tests' process helper, like mesh.cmake.
if(TARGET hearthnet)
  add_executable(hn_bench_files ${CMAKE_CURRENT_LIST_DIR}/files_bench.cpp
    ${CMAKE_CURRENT_LIST_DIR}/syncthing_pair.cpp
    ${PROJECT_SOURCE_DIR}/tests/support/test_support.cpp
    ${PROJECT_SOURCE_DIR}/tests/support/test_node.cpp)
  target_include_directories(hn_bench_files PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(hn_bench_files PRIVATE
    HN_SOURCE_DIR_DEFAULT="${PROJECT_SOURCE_DIR}"
    HN_HEARTHNET_BIN_DEFAULT="$<TARGET_FILE:hearthnet>")
  target_link_libraries(hn_bench_files PRIVATE hn_core hn_identity OpenSSL::SSL OpenSSL::Crypto)
  add_dependencies(hn_bench_files hearthnet)
  hn_set_warnings(hn_bench_files)
endif()
