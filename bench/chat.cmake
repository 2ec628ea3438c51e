# Chat figures against two real `hearthnet run` processes (include() from bench/CMakeLists.txt):
# chat.send → delivered receipt back at the sender, with the transport's own floors measured
# in the same run.
if(TARGET hearthnet)
  add_executable(hn_bench_chat ${CMAKE_CURRENT_LIST_DIR}/chat_bench.cpp
    ${PROJECT_SOURCE_DIR}/tests/support/test_support.cpp
    ${PROJECT_SOURCE_DIR}/tests/support/test_node.cpp)
  target_include_directories(hn_bench_chat PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(hn_bench_chat PRIVATE
    HN_SOURCE_DIR_DEFAULT="${PROJECT_SOURCE_DIR}"
    HN_HEARTHNET_BIN_DEFAULT="$<TARGET_FILE:hearthnet>")
  target_link_libraries(hn_bench_chat PRIVATE hn_transport hn_identity OpenSSL::SSL OpenSSL::Crypto)
  add_dependencies(hn_bench_chat hearthnet)
  hn_set_warnings(hn_bench_chat)
endif()
