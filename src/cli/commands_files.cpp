// commands_files.cpp — `hearthnet file put|get|ls|pin|unpin` (issue #12, M12 conventions):
// every command reaches the file service of the running node through bus calls
// (file.put, file.fetch, file.list, file.pin — services/files/file_service.h), never the
// store directly. Bad input is refused before anything changes: a malformed CID, an
// unreadable path, an --out that exists (unless --force).
//
// `file put` hashes the file here (one chunk in memory at a time), sends the manifest, then
// only the chunks the node says it needs, PUT_MAX_CHUNKS_PER_CALL per call. `file get` runs
// file.fetch and draws its progress frames as a bar on stderr when stderr is a terminal.
//
// Thread-safety: called once per process from main's thread.
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "blobs/chunker.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/node_access.h"
#include "core/hash.h"

namespace hn::cli {
namespace {

const Version V1{1, 0};
// CONTRACT §4.10 batches: the service's own limit (services/files/frames.h).
constexpr std::size_t CHUNKS_PER_PUT_CALL = 8;
const auto FILE_CALL_TIMEOUT = std::chrono::seconds(620);

int usage(const std::string& message) {
  std::cerr << "hearthnet: bad_request: " << message << "\n";
  return EXIT_USAGE;
}

// A media type from the file name's extension (advisory, M07 §3.1 mime_type).
std::string media_type_of(const std::filesystem::path& path) {
  static const std::map<std::string, std::string> types = {
      {".txt", "text/plain"},        {".md", "text/markdown"},    {".html", "text/html"},
      {".json", "application/json"}, {".pdf", "application/pdf"}, {".png", "image/png"},
      {".jpg", "image/jpeg"},        {".jpeg", "image/jpeg"},     {".gif", "image/gif"},
      {".zip", "application/zip"},   {".gz", "application/gzip"}, {".mp3", "audio/mpeg"},
      {".mp4", "video/mp4"},         {".csv", "text/csv"}};
  std::string ext = path.extension().string();
  for (auto& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  auto it = types.find(ext);
  return it == types.end() ? "application/octet-stream" : it->second;
}

std::string human_bytes(double n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (n >= 1024 && u < 4) {
    n /= 1024;
    ++u;
  }
  std::ostringstream o;
  o << std::fixed << std::setprecision(u == 0 ? 0 : 1) << n << " " << units[u];
  return o.str();
}

// A one-line progress bar on stderr, redrawn in place; nothing unless stderr is a terminal.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label)
      : m_label(std::move(label)), m_tty(::isatty(STDERR_FILENO) == 1),
        m_started(std::chrono::steady_clock::now()) {}
  ~ProgressBar() { finish(); }
  void update(std::int64_t done, std::int64_t total, int sources) {
    if (!m_tty) return;
    if (m_first_done < 0) m_first_done = done;  // a resumed fetch: rate of what moves now
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_started).count();
    const double rate = secs > 0 ? static_cast<double>(done - m_first_done) / secs : 0;
    const double frac = total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
    const int width = 30, filled = static_cast<int>(frac * width);
    std::ostringstream line;
    line << "\r" << m_label << " [" << std::string(static_cast<std::size_t>(filled), '#')
         << std::string(static_cast<std::size_t>(width - filled), ' ') << "] " << std::setw(3)
         << static_cast<int>(frac * 100) << "%  " << human_bytes(static_cast<double>(done)) << " / "
         << human_bytes(static_cast<double>(total)) << "  " << human_bytes(rate) << "/s";
    if (rate > 0 && total > done) {
      line << "  ETA " << static_cast<std::int64_t>(static_cast<double>(total - done) / rate) << " s";
    }
    if (sources >= 0) line << "  sources " << sources;
    line << "   ";
    std::cerr << line.str() << std::flush;
    m_drawn = true;
  }
  void finish() {
    if (m_drawn) std::cerr << "\n" << std::flush;
    m_drawn = false;
  }

 private:
  std::string m_label;
  bool m_tty;
  bool m_drawn = false;
  std::int64_t m_first_done = -1;
  std::chrono::steady_clock::time_point m_started;
};

bool check_cid(const std::string& cid) { return is_valid_cid(cid); }

// Reads chunk `ref` of the file at path.
Result<Bytes> read_chunk_at(std::ifstream& in, const blobs::BlobManifest& m, const blobs::ChunkRef& ref) {
  Bytes data(static_cast<std::size_t>(ref.size_bytes));
  in.clear();
  in.seekg(ref.index * m.chunk_size_bytes);
  in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!in || blobs::hash_bytes(data) != ref.cid) {
    return make_error(ErrorCode::io_error, "the file changed while it was being put");
  }
  return data;
}

}  // namespace

int command_file_put(const GlobalOptions& global, const FilePutArgs& args) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(args.path, ec)) {
    std::cerr << "hearthnet: not_found: " << args.path.string() << " is not a readable file\n";
    return EXIT_ERROR;
  }
  std::ifstream probe(args.path, std::ios::binary);
  if (!probe) {
    std::cerr << "hearthnet: io_error: cannot read " << args.path.string() << "\n";
    return EXIT_ERROR;
  }
  // Pass 1: the manifest (hashes only; one chunk in memory).
  blobs::ChunkFileOptions co;
  co.filename = args.path.filename().string();
  co.mime_type = media_type_of(args.path);
  auto manifest = blobs::chunk_file(
      args.path, [](const blobs::ChunkRef&, std::span<const std::uint8_t>) { return Status{}; }, co);
  if (!manifest) return fail(manifest.error());
  auto c = connect_to_node(global);
  if (!c.client) return c.exit_code;
  const Json mj = blobs::manifest_to_json(*manifest);
  auto first = c.client->call("file.put", V1, Json{{"input", {{"manifest", mj}, {"pin", args.pin}}}},
                              FILE_CALL_TIMEOUT);
  if (!first) return fail(first.error());
  std::vector<std::int64_t> needed;
  for (const auto& i : (*first)["output"]["needed"]) needed.push_back(i.get<std::int64_t>());
  // Pass 2: only the chunks the node lacks (CONTRACT §4.10 ready{needed}).
  ProgressBar bar("put");
  std::int64_t sent = 0, total = 0;
  for (auto i : needed) total += manifest->chunks[static_cast<std::size_t>(i)].size_bytes;
  Json last = *first;
  for (std::size_t at = 0; at < needed.size(); at += CHUNKS_PER_PUT_CALL) {
    Json chunks = Json::array();
    for (std::size_t k = at; k < std::min(needed.size(), at + CHUNKS_PER_PUT_CALL); ++k) {
      const auto& ref = manifest->chunks[static_cast<std::size_t>(needed[k])];
      auto data = read_chunk_at(probe, *manifest, ref);
      if (!data) return fail(data.error());
      chunks.push_back(Json{{"i", ref.index}, {"cid", ref.cid}, {"data_b64", base64url_encode(*data)}});
      sent += ref.size_bytes;
    }
    auto r = c.client->call("file.put", V1,
                            Json{{"input", {{"manifest", mj}, {"chunks", chunks}, {"pin", args.pin}}}},
                            FILE_CALL_TIMEOUT);
    if (!r) {
      bar.finish();
      return fail(r.error());
    }
    last = *r;
    bar.update(sent, total, -1);
  }
  bar.finish();
  if (!last["output"].value("complete", false)) {
    std::cerr << "hearthnet: internal_error: the node did not complete the blob\n";
    return EXIT_ERROR;
  }
  if (args.json) {
    std::cout << Json{{"cid", manifest->cid},
                      {"name", *co.filename},
                      {"mime_type", *co.mime_type},
                      {"size_bytes", manifest->size_bytes},
                      {"chunks", manifest->chunks.size()},
                      {"chunks_sent", needed.size()},
                      {"pinned", args.pin}}
                     .dump()
              << std::endl;
  } else {
    std::cout << manifest->cid << std::endl;
  }
  return EXIT_OK;
}

int command_file_get(const GlobalOptions& global, const FileGetArgs& args) {
  if (!check_cid(args.cid)) return usage("not a CID: " + args.cid + " (want blake3:<64 hex>)");
  std::optional<std::filesystem::path> out;
  std::error_code ec;
  if (args.out) {
    out = std::filesystem::absolute(*args.out, ec);
    if (std::filesystem::exists(*out, ec) && !args.force) {
      return usage(out->string() + " exists (use --force to replace it)");
    }
  }
  auto c = connect_to_node(global);
  if (!c.client) return c.exit_code;
  Json input{{"cid", args.cid}, {"force", args.force}};
  if (out) input["out"] = out->string();
  ProgressBar bar("get");
  auto on_frame = [&](transport::Frame& f) {
    if (f.event == "progress") {
      bar.update(f.data.value("bytes_done", std::int64_t{0}), f.data.value("bytes_total", std::int64_t{0}),
                 f.data.value("sources", 0));
    }
    return true;
  };
  auto done = c.client->stream("file.fetch", V1, Json{{"input", input}}, on_frame,
                               std::chrono::hours(25));
  bar.finish();
  if (!done) return fail(done.error());
  Json report = done->data;
  if (!out) {
    // No --out: the blob's own name in the current directory (its CID when it has none).
    std::string name = report.value("name", Json(nullptr)).is_string() ? report["name"].get<std::string>() : "";
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
      name = args.cid.substr(7);
    }
    out = std::filesystem::absolute(name, ec);
    if (std::filesystem::exists(*out, ec) && !args.force) {
      return usage(out->string() + " exists (use --out or --force); the blob is stored on the node");
    }
    input["out"] = out->string();
    auto again = c.client->stream("file.fetch", V1, Json{{"input", input}}, on_frame, FILE_CALL_TIMEOUT);
    if (!again) return fail(again.error());
    report["out"] = out->string();
  }
  if (args.json) {
    std::cout << report.dump() << std::endl;
  } else {
    std::cout << out->string() << std::endl;
  }
  return EXIT_OK;
}

int command_file_ls(const GlobalOptions& global, const FileLsArgs& args) {
  auto c = connect_to_node(global);
  if (!c.client) return c.exit_code;
  auto r = c.client->call("file.list", V1, Json{{"input", {{"detail", true}, {"remote", args.remote}}}},
                          std::chrono::seconds(30));
  if (!r) return fail(r.error());
  const Json entries = (*r)["output"].value("entries", Json::array());
  if (args.json) {
    std::cout << entries.dump() << std::endl;
    return EXIT_OK;
  }
  if (entries.empty()) {
    std::cout << "no files\n";
    return EXIT_OK;
  }
  std::cout << std::left << std::setw(28) << "NAME" << std::setw(12) << "SIZE" << std::setw(73) << "CID"
            << std::setw(8) << "PINNED" << "HOLDERS\n";
  for (const auto& e : entries) {
    const std::string name = e.value("name", Json(nullptr)).is_string() ? e["name"].get<std::string>() : "-";
    const auto size = e.value("size_bytes", Json(nullptr));
    std::cout << std::setw(28) << name << std::setw(12)
              << (size.is_number() ? human_bytes(size.get<double>()) : std::string("?")) << std::setw(73)
              << e.value("cid", "") << std::setw(8) << (e.value("pinned", false) ? "yes" : "no")
              << e.value("holders", Json::array()).size() << "\n";
  }
  return EXIT_OK;
}

int command_file_pin(const GlobalOptions& global, const FilePinArgs& args) {
  if (!check_cid(args.cid)) return usage("not a CID: " + args.cid + " (want blake3:<64 hex>)");
  auto c = connect_to_node(global);
  if (!c.client) return c.exit_code;
  auto r = c.client->call("file.pin", V1, Json{{"input", {{"cid", args.cid}, {"pinned", args.pinned}}}},
                          std::chrono::seconds(30));
  if (!r) return fail(r.error());
  if (args.json) {
    std::cout << (*r)["output"].dump() << std::endl;
  } else {
    std::cout << (args.pinned ? "pinned " : "unpinned ") << args.cid << std::endl;
  }
  return EXIT_OK;
}

CommandDispatch add_file_commands(CLI::App& app) {
  struct Args {
    FilePutArgs put;
    FileGetArgs get;
    FileLsArgs ls;
    FilePinArgs pin{.pinned = true};
    FilePinArgs unpin{.pinned = false};
  };
  auto a = std::make_shared<Args>();
  auto* file = app.add_subcommand("file", "Share files across the mesh (content-addressed, verified)");
  file->require_subcommand(1);
  auto* put = file->add_subcommand("put", "Store a file on the running node; prints its CID");
  put->add_option("path", a->put.path, "The file")->required();
  put->add_flag("--pin", a->put.pin, "Never garbage-collect it");
  put->add_flag("--json", a->put.json, "Machine-readable output");
  auto* get = file->add_subcommand("get", "Fetch a file from the mesh (every node that holds it)");
  get->add_option("cid", a->get.cid, "blake3:<hex> CID")->required();
  get->add_option("--out", a->get.out, "Where to write it (default ./<name>)");
  get->add_flag("--force", a->get.force, "Replace an existing --out");
  get->add_flag("--json", a->get.json, "Machine-readable output");
  auto* ls = file->add_subcommand("ls", "List stored files (name, size, CID, pinned, holders)");
  ls->add_flag("--remote", a->ls.remote, "Also the files peers hold");
  ls->add_flag("--json", a->ls.json, "Machine-readable output");
  auto* pin = file->add_subcommand("pin", "Keep a stored file from garbage collection");
  pin->add_option("cid", a->pin.cid, "blake3:<hex> CID")->required();
  pin->add_flag("--json", a->pin.json, "Machine-readable output");
  auto* unpin = file->add_subcommand("unpin", "Let garbage collection take a file again");
  unpin->add_option("cid", a->unpin.cid, "blake3:<hex> CID")->required();
  unpin->add_flag("--json", a->unpin.json, "Machine-readable output");
  return [a, put, get, ls, pin, unpin](const GlobalOptions& global) -> std::optional<int> {
    if (*put) return command_file_put(global, a->put);
    if (*get) return command_file_get(global, a->get);
    if (*ls) return command_file_ls(global, a->ls);
    if (*pin) return command_file_pin(global, a->pin);
    if (*unpin) return command_file_pin(global, a->unpin);
    return std::nullopt;
  };
}

}  // namespace hn::cli
