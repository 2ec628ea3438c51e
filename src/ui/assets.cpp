// assets.cpp — lookup over the generated table of embedded files (assets.h).
#include "ui/assets.h"

#include <cstddef>
#include <string>
#include <vector>

namespace hn::ui {
namespace detail {
// Defined in the generated ui_assets.cpp.
struct EmbeddedFile {
  const char* path;
  const unsigned char* data;
  std::size_t size;
};
extern const EmbeddedFile EMBEDDED_FILES[];
extern const std::size_t EMBEDDED_FILE_COUNT;
}  // namespace detail

namespace {

std::string_view content_type_for(std::string_view path) {
  auto ends = [&](std::string_view ext) {
    return path.size() >= ext.size() && path.substr(path.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".json") || ends(".webmanifest")) return "application/manifest+json";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  if (ends(".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

const std::vector<Asset>& table() {
  static const std::vector<Asset> assets = [] {
    std::vector<Asset> out;
    for (std::size_t i = 0; i < detail::EMBEDDED_FILE_COUNT; ++i) {
      const auto& f = detail::EMBEDDED_FILES[i];
      std::string_view path(f.path);
      out.push_back(Asset{path, content_type_for(path),
                          std::string_view(reinterpret_cast<const char*>(f.data), f.size)});
    }
    return out;
  }();
  return assets;
}

}  // namespace

std::span<const Asset> all_assets() { return table(); }

const Asset* find_asset(std::string_view path) {
  for (const auto& a : table()) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

}  // namespace hn::ui
