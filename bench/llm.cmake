# LLM + embeddings: in-process llama.cpp vs llama-server on the same tiny GGUF and threads
# (include() from bench/CMakeLists.txt). Needs the tiny models (tests/models).
add_executable(hn_bench_llm ${CMAKE_CURRENT_LIST_DIR}/llm_bench.cpp)
target_link_libraries(hn_bench_llm PRIVATE hn_service_llm hn_service_embed)
target_compile_definitions(hn_bench_llm PRIVATE
  HN_TEST_MODELS_DIR="${CMAKE_BINARY_DIR}/test-models" HN_LLAMA_SERVER="${HN_LLAMA_SERVER}")
if(TARGET hn_test_models)
  add_dependencies(hn_bench_llm hn_test_models)
endif()
hn_set_warnings(hn_bench_llm)
