// commands_rag.h — `hearthnet rag list|ingest|reindex|query` (M12 §3.11, issue #15) and
// `hearthnet ask --corpus` (ask with sources). Each is a bus call through the running node;
// the CLI never touches the rag service itself:
//   rag list     rag.list_corpora@1.0 on every node that offers it, merged by corpus name;
//   rag ingest   the file into the blob store (file.put, as `file put`), then the local-only
//                rag.ingest_stream@1.0 with a progress bar of pages and chunks;
//   rag reindex  the local-only rag.reindex@1.0;
//   rag query    rag.query@1.0 (routed to the node that holds the corpus);
//   ask --corpus the local-only rag.answer@1.0 (services/rag/answer.h): the answer streams,
//                then its numbered sources.
//
// Thread-safety: called once per process from main's thread.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <optional>
#include <string>

#include "cli/commands.h"

namespace hn::cli {

struct RagCli {
  std::string corpus;  // --corpus of ingest / reindex / query
  // rag ingest
  std::filesystem::path path;
  std::optional<std::string> title;     // default: the file name without its extension
  std::optional<std::string> language;  // e.g. "de"
  // rag reindex
  std::optional<std::string> embedding_model;
  // rag query
  std::string text;
  int k = 5;
  bool json = false;

  CLI::App* list_cmd = nullptr;
  CLI::App* ingest_cmd = nullptr;
  CLI::App* reindex_cmd = nullptr;
  CLI::App* query_cmd = nullptr;
};

// Adds `rag` and its subcommands to app, filling r when parsed.
void add_rag_commands(CLI::App& app, RagCli& r);
// Runs the rag subcommand that was parsed; nullopt when none was.
std::optional<int> run_rag_command(const GlobalOptions& global, const RagCli& r);

// `hearthnet ask QUESTION --corpus NAME`: rag.answer streamed, then the sources.
int command_ask_corpus(const GlobalOptions& global, const AskArgs& args);

}  // namespace hn::cli
