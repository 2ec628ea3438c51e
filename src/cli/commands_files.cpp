// commands_files.cpp — `hearthnet file put|get|ls|pin|unpin` (issue #12, M12 conventions):
// every command reaches the file service of the running node through bus calls
// (file.put, file.fetch, file.list, file.pin — services/files/file_service.h), never the
// store directly. Bad input is refused before anything changes: a malformed CID, an
// unreadable path, an --out that exists (unless --force).
//
// `file put` hashes the file here (one chunk in memory at a time), sends the manifest, then
// only the chunks the node says it needs (cli/file_put.h, shared with `rag ingest`). `file get` runs
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
#include "cli/file_put.h"
#include "cli/node_access.h"
#include "cli/progress.h"
#include "core/hash.h"

namespace hn::cli {
namespace {

const Version V1{1, 0};
const auto FILE_CALL_TIMEOUT = std::chrono::seconds(620);

int usage(const std::string& message) {
  std::cerr << "hearthnet: bad_request: " << message << "\n";
  return EXIT_USAGE;
}

bool check_cid(const std::string& cid) { return is_valid_cid(cid); }

}  // namespace

int command_file_put(const GlobalOptions& global, const FilePutArgs& args) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(args.path, ec)) {
    std::cerr << "hearthnet: not_found: " << args.path.string() << " is not a readable file\n";
    return EXIT_ERROR;
  }
  if (!std::ifstream(args.path, std::ios::binary)) {
    std::cerr << "hearthnet: io_error: cannot read " << args.path.string() << "\n";
    return EXIT_ERROR;
  }
  auto c = connect_to_node(global);
  if (!c.client) return c.exit_code;
  auto put = put_file(*c.client, args.path, args.pin);  // cli/file_put.h
  if (!put) return fail(put.error());
  if (args.json) {
    std::cout << Json{{"cid", put->cid},
                      {"name", put->name},
                      {"mime_type", put->mime_type},
                      {"size_bytes", put->size_bytes},
                      {"chunks", put->chunks},
                      {"chunks_sent", put->chunks_sent},
                      {"pinned", args.pin}}
                     .dump()
              << std::endl;
  } else {
    std::cout << put->cid << std::endl;
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
  Json input{{"cid", args.cid}, {"force", args.force}, {"copy", args.copy}};
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
  get->add_flag("--copy", a->get.copy,
                "Write an independent, writable copy (default: the node's read-only copy under a "
                "second name when on the same filesystem — a reflink where supported)");
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
