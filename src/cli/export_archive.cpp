// export_archive.cpp — signed ZIP export over libarchive.
#include "cli/export_archive.h"

#include <archive.h>
#include <archive_entry.h>

#include <map>
#include <memory>

#include "core/file_util.h"
#include "core/hash.h"
#include "core/time.h"
#include "core/ulid.h"

namespace hn::cli {
namespace {

using ArchivePtr = std::unique_ptr<archive, int (*)(archive*)>;

Status add_entry(archive* a, const std::string& name, std::string_view data) {
  std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(), archive_entry_free);
  archive_entry_set_pathname(e.get(), name.c_str());
  archive_entry_set_size(e.get(), static_cast<la_int64_t>(data.size()));
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_perm(e.get(), 0600);
  if (archive_write_header(a, e.get()) != ARCHIVE_OK ||
      archive_write_data(a, data.data(), data.size()) != static_cast<la_ssize_t>(data.size())) {
    return make_error(ErrorCode::io_error, std::string("zip write failed: ") + archive_error_string(a));
  }
  return {};
}

}  // namespace

Status write_signed_export(const std::filesystem::path& out, const std::vector<ExportEntry>& entries,
                           const identity::KeyPair& keys, const Json& extra) {
  const auto tmp = out.parent_path() / ("." + out.filename().string() + ".tmp-" + new_ulid());
  ArchivePtr a(archive_write_new(), archive_write_free);
  archive_write_set_format_zip(a.get());
  if (archive_write_open_filename(a.get(), tmp.c_str()) != ARCHIVE_OK) {
    return make_error(ErrorCode::io_error, "cannot create " + tmp.string() + ": " +
                                               archive_error_string(a.get()));
  }
  Json files = Json::array();
  Json skipped = Json::array();
  Status status;
  for (const auto& entry : entries) {
    auto data = read_file(entry.source);
    if (!data) {
      skipped.push_back(entry.archive_path);
      continue;
    }
    status = add_entry(a.get(), entry.archive_path, *data);
    if (!status) break;
    files.push_back({{"path", entry.archive_path},
                     {"size_bytes", data->size()},
                     {"cid", blake3_cid(*data)}});
  }
  if (status) {
    Json manifest = extra;
    manifest["format"] = EXPORT_FORMAT;
    manifest["node_id"] = keys.node_id().str();
    manifest["created_at"] = format_rfc3339(SystemClock::instance().now_seconds());
    manifest["files"] = files;
    manifest["skipped"] = skipped;
    status = add_entry(a.get(), EXPORT_MANIFEST_NAME, canonical_json(keys.sign(manifest)));
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK && status) {
    status = make_error(ErrorCode::io_error, "zip close failed");
  }
  a.reset();
  std::error_code ec;
  if (!status) {
    std::filesystem::remove(tmp, ec);
    return status;
  }
  std::filesystem::rename(tmp, out, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return make_error(ErrorCode::io_error, "rename to " + out.string() + " failed");
  }
  return fsync_directory(out.has_parent_path() ? out.parent_path() : ".");
}

Result<std::map<std::string, std::string>> read_export_entries(const std::filesystem::path& path) {
  ArchivePtr a(archive_read_new(), archive_read_free);
  archive_read_support_format_zip(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 65536) != ARCHIVE_OK) {
    return make_error(ErrorCode::bad_request, "not a readable ZIP: " + path.string());
  }
  std::map<std::string, std::string> contents;
  archive_entry* entry = nullptr;
  int rc;
  while ((rc = archive_read_next_header(a.get(), &entry)) == ARCHIVE_OK) {
    std::string name = archive_entry_pathname(entry);
    std::string data;
    char buf[65536];
    la_ssize_t n;
    while ((n = archive_read_data(a.get(), buf, sizeof buf)) > 0) data.append(buf, static_cast<size_t>(n));
    if (n < 0) return make_error(ErrorCode::bad_request, "corrupt ZIP entry " + name);
    contents[name] = std::move(data);
  }
  if (rc != ARCHIVE_EOF) return make_error(ErrorCode::bad_request, "corrupt ZIP: " + path.string());
  return contents;
}

Result<Json> verify_signed_export(const std::filesystem::path& path) {
  HN_TRY_ASSIGN(auto contents, read_export_entries(path));
  auto it = contents.find(EXPORT_MANIFEST_NAME);
  if (it == contents.end()) return make_error(ErrorCode::bad_request, "export has no manifest");
  HN_TRY_ASSIGN(Json manifest, parse_json(it->second));
  HN_TRY_ASSIGN(std::string node_id, get_string(manifest, "node_id"));
  HN_TRY(identity::verify_payload_with_node_id(manifest, node_id));
  HN_TRY_ASSIGN(Json files, get_array(manifest, "files"));
  size_t listed = 0;
  for (const auto& f : files) {
    HN_TRY_ASSIGN(std::string p, get_string(f, "path"));
    HN_TRY_ASSIGN(std::string cid, get_string(f, "cid"));
    auto c = contents.find(p);
    if (c == contents.end()) return make_error(ErrorCode::bad_request, "export lacks listed file " + p);
    if (blake3_cid(c->second) != cid) return make_error(ErrorCode::hash_mismatch, "file changed: " + p);
    ++listed;
  }
  if (listed + 1 != contents.size()) {
    return make_error(ErrorCode::bad_request, "export holds files its manifest does not list");
  }
  return manifest;
}

Result<SecretFiles> open_export_keys(const std::filesystem::path& path, std::string_view passphrase) {
  HN_TRY(verify_signed_export(path));
  HN_TRY_ASSIGN(auto contents, read_export_entries(path));
  auto it = contents.find(SEALED_KEYS_PATH);
  if (it == contents.end()) {
    return make_error(ErrorCode::not_found,
                      "this export holds no keys (it was written without --include-keys)");
  }
  HN_TRY_ASSIGN(Json sealed, parse_json(it->second));
  return open_secrets(sealed, passphrase);
}

}  // namespace hn::cli
