# Helpers that keep every layer's CMakeLists.txt three lines long.
#
#   hn_add_layer(NAME events SOURCES a.cpp b.cpp DEPS hn_core hn_identity SQLite::SQLite3)
#     -> static library hn_events, include root src/, linked PUBLIC to DEPS.
#   hn_add_tests(LAYER events SOURCES event_log_test.cpp DEPS hn_events [LABELS unit])
#     -> one GoogleTest executable hn_events_tests, each TEST a ctest case.

function(hn_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
  if(HN_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

function(hn_add_layer)
  cmake_parse_arguments(A "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_library(hn_${A_NAME} STATIC ${A_SOURCES})
  target_include_directories(hn_${A_NAME} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(hn_${A_NAME} PUBLIC ${A_DEPS})
  hn_set_warnings(hn_${A_NAME})
  if(HN_BUILD_FUZZ)
    # clang 14 cannot emit ASan/UBSan-instrumented C++20 coroutines ("Cannot represent a
    # difference across sections"); sources with coroutines keep fuzzer coverage only.
    foreach(src IN LISTS A_SOURCES)
      # (Generated sources are absolute paths in the build tree, not there yet at configure.)
      cmake_path(ABSOLUTE_PATH src BASE_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR} OUTPUT_VARIABLE path)
      set(hits "")
      if(EXISTS ${path})
        file(STRINGS ${path} hits REGEX "co_await|co_return|awaitable<")
      endif()
      if(hits)
        set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "-fno-sanitize=address,undefined")
      endif()
    endforeach()
  endif()
endfunction()

function(hn_add_tests)
  cmake_parse_arguments(A "" "LAYER" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT A_LABELS)
    set(A_LABELS unit)
  endif()
  set(exe hn_${A_LAYER}_tests)
  add_executable(${exe} ${A_SOURCES})
  target_link_libraries(${exe} PRIVATE ${A_DEPS} hn_test_support GTest::gtest GTest::gtest_main)
  hn_set_warnings(${exe})
  # No test probes the public internet: the emergency detector stays off unless a test
  # turns it on for its own loopback probe servers (src/node/emergency_mode.cpp).
  gtest_discover_tests(${exe} PROPERTIES LABELS "${A_LABELS}" DISCOVERY_TIMEOUT 60
                       ENVIRONMENT "HEARTHNET_EMERGENCY_DETECTOR=off")
endfunction()

#   hn_add_service(NAME chat SOURCES a.cpp [DEPS extra...])
#     -> static library hn_service_chat over the layers a service may use (never another
#        service), added to the global HN_SERVICE_TARGETS the node links.
function(hn_add_service)
  cmake_parse_arguments(A "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_library(hn_service_${A_NAME} STATIC ${A_SOURCES})
  target_include_directories(hn_service_${A_NAME} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(hn_service_${A_NAME} PUBLIC hn_service ${A_DEPS})
  hn_set_warnings(hn_service_${A_NAME})
  set_property(GLOBAL APPEND PROPERTY HN_SERVICE_TARGETS hn_service_${A_NAME})
endfunction()
