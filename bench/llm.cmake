# LLM + embeddings (include() from bench/CMakeLists.txt):
#   hn_bench_llm         in-process llama.cpp vs llama-server on the same tiny GGUF and threads
#                        (needs the tiny models, tests/models);
#   hn_bench_llm_remote  llama-server read directly vs through a remote node's llm.chat
#                        (real `hearthnet` processes; a larger generated GGUF, see its header).
add_library(hn_bench_llama_server STATIC ${CMAKE_CURRENT_LIST_DIR}/llama_server_proc.cpp)
target_link_libraries(hn_bench_llama_server PUBLIC hn_httpc)
hn_set_warnings(hn_bench_llama_server)

add_executable(hn_bench_llm ${CMAKE_CURRENT_LIST_DIR}/llm_bench.cpp)
target_link_libraries(hn_bench_llm PRIVATE hn_service_llm hn_service_embed hn_bench_llama_server)
target_compile_definitions(hn_bench_llm PRIVATE
  HN_TEST_MODELS_DIR="${CMAKE_BINARY_DIR}/test-models" HN_LLAMA_SERVER="${HN_LLAMA_SERVER}")
if(TARGET hn_test_models)
  add_dependencies(hn_bench_llm hn_test_models)
endif()
hn_set_warnings(hn_bench_llm)

if(TARGET hearthnet AND TARGET hn_make_test_models)
  add_executable(hn_bench_llm_remote ${CMAKE_CURRENT_LIST_DIR}/llm_remote_bench.cpp
    ${PROJECT_SOURCE_DIR}/tests/support/test_support.cpp
    ${PROJECT_SOURCE_DIR}/tests/support/test_node.cpp)
  target_include_directories(hn_bench_llm_remote PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(hn_bench_llm_remote PRIVATE
    HN_SOURCE_DIR_DEFAULT="${PROJECT_SOURCE_DIR}"
    HN_HEARTHNET_BIN_DEFAULT="$<TARGET_FILE:hearthnet>"
    HN_LLAMA_SERVER="${HN_LLAMA_SERVER}" HN_LLAMA_VOCAB_DIR="${HN_LLAMA_VOCAB_DIR}"
    HN_MAKE_TEST_MODELS="$<TARGET_FILE:hn_make_test_models>")
  target_link_libraries(hn_bench_llm_remote PRIVATE hn_transport hn_identity hn_bench_llama_server
                        OpenSSL::SSL OpenSSL::Crypto)
  hn_set_warnings(hn_bench_llm_remote)
  # Asio 1.74's coroutine frame allocator and GCC 12 (as hn_transport).
  target_compile_options(hn_bench_llm_remote PRIVATE -Wno-mismatched-new-delete)
  add_dependencies(hn_bench_llm_remote hearthnet hn_make_test_models)
endif()
