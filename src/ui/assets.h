// assets.h — the dashboard's files (web/, built by esbuild at build time) embedded in the
// binary: the generated ui_assets.cpp holds their bytes (cmake/HnEmbedAssets.cmake), so
// the node serves the SPA with nothing from Node.js at run time (doc/design/ui.md).
//
// Immutable after static initialisation; thread-safe.
#pragma once

#include <span>
#include <string_view>

namespace hn::ui {

struct Asset {
  std::string_view path;          // "/index.html", "/app.js", …
  std::string_view content_type;  // from the extension
  std::string_view bytes;
};

// Every embedded file.
std::span<const Asset> all_assets();
// The file at `path` (a URL path), or nullptr.
const Asset* find_asset(std::string_view path);

}  // namespace hn::ui
