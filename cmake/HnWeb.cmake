# HnWeb.cmake — builds the dashboard (web/, Preact + esbuild; doc/design/ui.md) at build
# time and turns web/dist into a C++ source of byte arrays for hn_ui (HnEmbedAssets.cmake),
# so the `hearthnet` binary serves it and nothing needs Node.js at run time.
#   npm ci        when package-lock.json changes (stamp inside node_modules, so deleting
#                 node_modules reinstalls)
#   node build.mjs → ${CMAKE_BINARY_DIR}/web/dist   when a source under web/ changes
#   ui_assets.cpp  when dist changes
# Sets HN_UI_ASSETS_CPP. Needs node and npm (scripts/bootstrap installs them).
find_program(HN_NPM npm)
find_program(HN_NODE node)
if(NOT HN_NPM OR NOT HN_NODE)
  message(FATAL_ERROR "the dashboard needs node and npm: run scripts/bootstrap (make build does)")
endif()
set(HN_WEB_SRC ${CMAKE_SOURCE_DIR}/web)
set(HN_WEB_OUT ${CMAKE_BINARY_DIR}/web)
set(HN_WEB_DIST ${HN_WEB_OUT}/dist)
file(GLOB_RECURSE hn_web_inputs CONFIGURE_DEPENDS ${HN_WEB_SRC}/src/* ${HN_WEB_SRC}/public/*)
set(hn_npm_stamp ${HN_WEB_SRC}/node_modules/.hn-npm-ci.stamp)
add_custom_command(OUTPUT ${hn_npm_stamp}
  COMMAND ${HN_NPM} ci --no-audit --no-fund --loglevel=error
  COMMAND ${CMAKE_COMMAND} -E touch ${hn_npm_stamp}
  WORKING_DIRECTORY ${HN_WEB_SRC}
  DEPENDS ${HN_WEB_SRC}/package.json ${HN_WEB_SRC}/package-lock.json
  COMMENT "web: npm ci"
  VERBATIM)
add_custom_command(OUTPUT ${HN_WEB_OUT}/dist.stamp
  COMMAND ${CMAKE_COMMAND} -E rm -rf ${HN_WEB_DIST}
  COMMAND ${HN_NODE} build.mjs --outdir ${HN_WEB_DIST}
  COMMAND ${CMAKE_COMMAND} -E touch ${HN_WEB_OUT}/dist.stamp
  WORKING_DIRECTORY ${HN_WEB_SRC}
  DEPENDS ${hn_npm_stamp} ${hn_web_inputs} ${HN_WEB_SRC}/build.mjs
  COMMENT "web: esbuild → ${HN_WEB_DIST}"
  VERBATIM)
set(HN_UI_ASSETS_CPP ${HN_WEB_OUT}/ui_assets.cpp)
add_custom_command(OUTPUT ${HN_UI_ASSETS_CPP}
  COMMAND ${CMAKE_COMMAND} -DDIR=${HN_WEB_DIST} -DOUT=${HN_UI_ASSETS_CPP}
          -P ${CMAKE_SOURCE_DIR}/cmake/HnEmbedAssets.cmake
  DEPENDS ${HN_WEB_OUT}/dist.stamp ${CMAKE_SOURCE_DIR}/cmake/HnEmbedAssets.cmake
  COMMENT "web: embedding dist into ui_assets.cpp"
  VERBATIM)
add_custom_target(hn_web DEPENDS ${HN_UI_ASSETS_CPP})
