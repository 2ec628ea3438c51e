# Mesh core figures against real `hearthnet run` processes: signed calls, stream relay, UDP
# discovery, idle RSS (include() from bench/CMakeLists.txt). Reuses the functional tests'
# process helper (tests/support/test_node.cpp, no GoogleTest in it), compiled in directly.
if(TARGET hearthnet)
  add_executable(hn_bench_mesh ${CMAKE_CURRENT_LIST_DIR}/mesh_bench.cpp
    ${CMAKE_CURRENT_LIST_DIR}/bare_https_server.cpp
    ${PROJECT_SOURCE_DIR}/tests/support/test_support.cpp
    ${PROJECT_SOURCE_DIR}/tests/support/test_node.cpp)
  target_include_directories(hn_bench_mesh PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(hn_bench_mesh PRIVATE
    HN_SOURCE_DIR_DEFAULT="${PROJECT_SOURCE_DIR}"
    HN_HEARTHNET_BIN_DEFAULT="$<TARGET_FILE:hearthnet>")
  target_link_libraries(hn_bench_mesh PRIVATE hn_node hn_transport hn_bus hn_identity PkgConfig::SODIUM OpenSSL::SSL OpenSSL::Crypto)
  # The client side stands in for another node: same allocator as the hearthnet binary.
  if(TARGET PkgConfig::JEMALLOC)
    target_link_libraries(hn_bench_mesh PRIVATE PkgConfig::JEMALLOC)
  endif()
  add_dependencies(hn_bench_mesh hearthnet)
  hn_set_warnings(hn_bench_mesh)
endif()
