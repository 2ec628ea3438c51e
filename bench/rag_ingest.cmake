# RAG ingest (issue #15): pages/s of rag.ingest with embedding through the bus on a real
# `hearthnet run` node vs embed.text on the same texts and batches in the same run (include()
# from bench/CMakeLists.txt). Reuses the functional tests' process helper and PDF generator,
# compiled in directly, like mesh.cmake; needs the tiny models (tests/models).
if(TARGET hearthnet AND TARGET hn_service_rag)
  add_executable(hn_bench_rag_ingest ${CMAKE_CURRENT_LIST_DIR}/rag_ingest_bench.cpp
    ${PROJECT_SOURCE_DIR}/tests/support/test_support.cpp
    ${PROJECT_SOURCE_DIR}/tests/support/test_node.cpp
    ${PROJECT_SOURCE_DIR}/tests/support/pdf_writer.cpp)
  target_include_directories(hn_bench_rag_ingest PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(hn_bench_rag_ingest PRIVATE
    HN_SOURCE_DIR_DEFAULT="${PROJECT_SOURCE_DIR}"
    HN_HEARTHNET_BIN_DEFAULT="$<TARGET_FILE:hearthnet>"
    HN_TEST_MODELS_DIR="${CMAKE_BINARY_DIR}/test-models")
  target_link_libraries(hn_bench_rag_ingest PRIVATE hn_node hn_service_rag hn_identity OpenSSL::SSL OpenSSL::Crypto)
  add_dependencies(hn_bench_rag_ingest hearthnet)
  if(TARGET hn_test_models)
    add_dependencies(hn_bench_rag_ingest hn_test_models)
  endif()
  hn_set_warnings(hn_bench_rag_ingest)
endif()
