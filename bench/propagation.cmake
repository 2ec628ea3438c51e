# Event propagation (issue #13 §1): append on A → visible on B and C, real `hearthnet run`
# processes on loopback (include() from bench/CMakeLists.txt).
if(TARGET hearthnet)
  add_executable(hn_bench_propagation ${CMAKE_CURRENT_LIST_DIR}/propagation_bench.cpp
    ${PROJECT_SOURCE_DIR}/tests/support/test_support.cpp
    ${PROJECT_SOURCE_DIR}/tests/support/test_node.cpp)
  target_include_directories(hn_bench_propagation PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(hn_bench_propagation PRIVATE
    HN_SOURCE_DIR_DEFAULT="${PROJECT_SOURCE_DIR}"
    HN_HEARTHNET_BIN_DEFAULT="$<TARGET_FILE:hearthnet>")
  target_link_libraries(hn_bench_propagation PRIVATE hn_node)
  add_dependencies(hn_bench_propagation hearthnet)
  hn_set_warnings(hn_bench_propagation)
endif()
