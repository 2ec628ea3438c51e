// commands_rag.cpp — `hearthnet rag list|ingest|reindex|query` (M12 §3.11, issue #15) and
// `hearthnet ask --corpus` (ask with sources). Each is a bus call through the running node;
// the CLI never touches the rag service itself:
//   rag list     rag.list_corpora@1.0 on every node that offers it, merged by corpus name;
//   rag ingest   the file into the blob store (file.put, as `file put`), then the local-only
//                rag.ingest_stream@1.0 with a progress bar of pages and chunks;
//   rag reindex  the local-only rag.reindex@1.0;
//   rag query    rag.query@1.0 (routed to the node that holds the corpus);
//   ask --corpus the local-only rag.answer@1.0 (services/rag/answer.h): the answer streams,
//                then its numbered sources.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "cli/commands.h"
#include "cli/file_put.h"
#include "cli/node_access.h"
#include "cli/progress.h"
#include "core/constants.h"
#include "node/node.h"
#include "transport/envelope.h"

namespace hn::cli {
namespace {

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


const Version V1{1, 0};
const auto INGEST_TIMEOUT = std::chrono::hours(6);
const auto QUERY_TIMEOUT = std::chrono::seconds(60);

int usage(const std::string& message) {
  std::cerr << "hearthnet: bad_request: " << message << "\n";
  return EXIT_USAGE;
}

std::string str(const Json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t num(const Json& j, const char* key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<std::int64_t>() : 0;
}

// [a-z0-9-]+, at most 64 characters (M05 §4.2).
bool valid_corpus(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char ch : name) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-')) return false;
  }
  return true;
}

int bad_corpus(const std::string& name) {
  return usage("not a corpus name: \"" + name + "\" (lower-case letters, digits and '-', at most 64)");
}

// The error, then a line that says what to do next (M12: helpful errors).
int fail_with_hint(const Error& e, const std::string& hint) {
  const int rc = fail(e);
  if (!hint.empty()) std::cerr << "hint: " << hint << "\n";
  return rc;
}

// What to do next after an error of the rag capabilities ("" when nothing useful).
std::string hint_for(const Error& e, const std::string& corpus) {
  const std::string stage = e.detail.is_object() ? str(e.detail, "stage") : "";
  if (stage == "generation" && (e.code == ErrorCode::not_found || e.code == ErrorCode::schema_mismatch)) {
    return "no language model answers on the mesh: add a [[llm.backends]] entry to a node's "
           "config.toml (README \"Language models\"), or pick one of `hearthnet models` with --model";
  }
  if (e.code != ErrorCode::not_found) return {};
  for (const char* local : {"rag.answer", "rag.ingest_stream", "rag.reindex", "rag.list_corpora"}) {
    if (e.message.find(std::string("provider of ") + local) != std::string::npos) {
      return "this node runs no rag service: set `enabled = true` in the [rag] section of config.toml "
             "and restart it";
    }
  }
  if (!corpus.empty()) {
    return "no corpus \"" + corpus + "\" answers on the mesh: `hearthnet rag list` shows the corpora";
  }
  return {};
}

// A call pinned to this node (POST NODE_CALL_PATH, node "self" or a node id), plain.
Result<Json> call_on(node::LocalClient& client, const std::string& node, const std::string& capability,
                     const Json& body) {
  Json req{{"capability", capability}, {"node", node}, {"body", body}};
  HN_TRY_ASSIGN(auto r, client.request("POST", node::NODE_CALL_PATH, req));
  if (r.status / 100 != 2) return transport::parse_error_response(r.status, r.body);
  return std::move(r.body);
}

// A streamed call pinned to this node.
Result<transport::Frame> stream_self(node::LocalClient& client, const std::string& capability, const Json& body,
                                     transport::FrameCallback on_frame, std::chrono::milliseconds timeout) {
  Json req{{"capability", capability}, {"node", "self"}, {"body", body}};
  return client.stream_request(node::NODE_CALL_PATH, req, std::move(on_frame), timeout);
}

// One line of text: whitespace runs become one space, at most `limit` bytes (UTF-8 safe).
std::string one_line(const std::string& text, std::size_t limit) {
  std::string out;
  bool space = false;
  for (char ch : text) {
    if (ch == '\n' || ch == '\r' || ch == '\t' || ch == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += ch;
  }
  if (out.size() <= limit) return out;
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(out[end]) & 0xC0) == 0x80) --end;
  return out.substr(0, end) + "…";
}

std::string where(const std::string& title, std::int64_t page) {
  return page > 0 ? title + ", page " + std::to_string(page) : title;
}

// --- rag list ---

int command_rag_list(const GlobalOptions& global, const RagCli& r) {
  auto c = connect_to_node(global);
  if (!c.client) return c.exit_code;
  auto caps = c.client->get_json(node::NODE_CAPS_PATH, Json{{"name", "rag.list_corpora"}});
  if (!caps) return fail(caps.error());
  const std::string ours = str(*caps, "our_node_id");
  std::set<std::string> nodes;
  for (const auto& e : caps->value("capabilities", Json::array())) {
    if (str(e, "name") == "rag.list_corpora") nodes.insert(str(e, "node_id"));
  }
  // corpus name → its merged entry, with the nodes that hold it.
  std::map<std::string, Json> corpora;
  for (const auto& node : nodes) {
    auto out = call_on(*c.client, node == ours ? "self" : node, "rag.list_corpora@1.0", Json{{"input", Json::object()}});
    if (!out) {
      std::cerr << "hearthnet: warning: " << (node == ours ? std::string("this node") : node) << ": "
                << out.error().to_string() << "\n";
      continue;
    }
    for (const auto& corpus : (*out)["output"].value("corpora", Json::array())) {
      const std::string name = str(corpus, "name");
      if (name.empty()) continue;
      Json& entry = corpora[name];
      if (entry.is_null()) {
        entry = corpus;
        entry["nodes"] = Json::array();
      }
      entry["nodes"].push_back(Json{{"node_id", node}, {"local", node == ours}});
    }
  }
  if (r.json) {
    Json out = Json::array();
    for (auto& [name, entry] : corpora) out.push_back(entry);
    std::cout << out.dump(2) << "\n";
    return EXIT_OK;
  }
  if (corpora.empty()) {
    std::cout << "no corpus on the mesh yet (hearthnet rag ingest FILE --corpus NAME)\n";
    return EXIT_OK;
  }
  std::cout << std::left << std::setw(28) << "CORPUS" << std::setw(7) << "DOCS" << std::setw(9) << "CHUNKS"
            << std::setw(12) << "SIZE" << std::setw(6) << "LANG" << "NODES\n";
  for (const auto& [name, e] : corpora) {
    std::string holders;
    for (const auto& n : e["nodes"]) {
      std::string id = n["local"] == true ? "local" : str(n, "node_id");
      if (id.size() > 24) id = id.substr(0, 23) + "…";
      holders += (holders.empty() ? "" : ", ") + id;
    }
    const std::string lang = str(e, "language_majority");
    std::cout << std::left << std::setw(28) << name << std::setw(7) << num(e, "docs") << std::setw(9)
              << num(e, "chunks") << std::setw(12) << human_bytes(static_cast<double>(num(e, "size_bytes")))
              << std::setw(6) << (lang.empty() ? "-" : lang) << holders << "\n";
  }
  return EXIT_OK;
}

// --- rag ingest ---

int command_rag_ingest(const GlobalOptions& global, const RagCli& r) {
  if (!valid_corpus(r.corpus)) return bad_corpus(r.corpus);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(r.path, ec) || !std::ifstream(r.path, std::ios::binary)) {
    std::cerr << "hearthnet: not_found: " << r.path.string() << " is not a readable file\n";
    return EXIT_ERROR;
  }
  const std::string media = media_type_of(r.path);
  if (media != "application/pdf" && media != "text/plain" && media != "text/markdown") {
    return usage("unsupported file type: " + r.path.filename().string() +
                 " (RAG takes PDF, plain text and Markdown: .pdf, .txt, .md)");
  }
  auto c = connect_to_node(global);
  if (!c.client) return c.exit_code;
  // 1. The document into this node's blob store (pinned: the corpus cites it).
  auto put = put_file(*c.client, r.path, /*pin=*/true);
  if (!put) return fail(put.error());
  // 2. rag.ingest_stream: progress frames, then the rag.ingest output (CONTRACT §4.5).
  Json input{{"doc_cid", put->cid}, {"title", r.title.value_or(r.path.stem().string())}};
  if (r.language) input["language"] = *r.language;
  const Json body{{"params", {{"corpus", r.corpus}}}, {"input", input}};
  ProgressBar bar("ingest");
  auto on_frame = [&](transport::Frame& f) {
    if (f.event != "progress") return true;
    const std::int64_t pages = num(f.data, "pages_done"), pages_total = num(f.data, "pages_total");
    const std::int64_t chunks = num(f.data, "chunks_done"), chunks_total = num(f.data, "chunks_total");
    // Reading pages is a tenth of the work, embedding the rest; pages are chunked while the
    // chunks of earlier pages embed, so chunks_total grows until every page is read.
    const double p = pages_total > 0 ? static_cast<double>(pages) / static_cast<double>(pages_total) : 0.0;
    const double c = chunks_total > 0 ? static_cast<double>(chunks) / static_cast<double>(chunks_total) : 0.0;
    const double frac = 0.1 * p + 0.9 * p * c;
    bar.update_fraction(frac, "pages " + std::to_string(pages) + "/" + std::to_string(pages_total) + "  chunks " +
                                  std::to_string(chunks) + "/" + std::to_string(chunks_total));
    return true;
  };
  auto done = stream_self(*c.client, "rag.ingest_stream@1.0", body, on_frame, INGEST_TIMEOUT);
  bar.finish();
  if (!done) return fail_with_hint(done.error(), hint_for(done.error(), ""));
  const Json& d = done->data;
  const Json output = d.contains("output") ? d["output"] : d;
  if (r.json) {
    Json out = d;
    out["corpus"] = r.corpus;
    out["file"] = Json{{"cid", put->cid}, {"name", put->name}, {"size_bytes", put->size_bytes}};
    std::cout << out.dump(2) << "\n";
    return EXIT_OK;
  }
  std::cout << "ingested " << put->name << " into " << r.corpus << ": " << num(output, "chunks_indexed")
            << " chunks, " << num(output, "tokens_indexed") << " tokens (" << put->cid << ")\n";
  return EXIT_OK;
}

// --- rag reindex ---

int command_rag_reindex(const GlobalOptions& global, const RagCli& r) {
  if (!valid_corpus(r.corpus)) return bad_corpus(r.corpus);
  auto c = connect_to_node(global);
  if (!c.client) return c.exit_code;
  Json input{{"corpus", r.corpus}};
  if (r.embedding_model) input["embedding_model"] = *r.embedding_model;
  const Json body{{"params", {{"corpus", r.corpus}}}, {"input", input}};
  ProgressBar bar("reindex");
  auto on_frame = [&](transport::Frame& f) {
    if (f.event != "progress") return true;
    const std::int64_t done = num(f.data, "chunks_done"), total = num(f.data, "chunks_total");
    bar.update_fraction(total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 0.0,
                        "chunks " + std::to_string(done) + "/" + std::to_string(total));
    return true;
  };
  auto done = stream_self(*c.client, "rag.reindex@1.0", body, on_frame, INGEST_TIMEOUT);
  bar.finish();
  if (!done) return fail_with_hint(done.error(), hint_for(done.error(), r.corpus));
  const Json& d = done->data;
  if (r.json) {
    std::cout << d.dump(2) << "\n";
    return EXIT_OK;
  }
  const Json output = d.contains("output") ? d["output"] : d;
  std::cout << "reindexed " << r.corpus;
  if (!str(output, "embedding_model").empty()) std::cout << " with " << str(output, "embedding_model");
  if (output.contains("chunks")) std::cout << ": " << num(output, "chunks") << " chunks";
  std::cout << "\n";
  return EXIT_OK;
}

// --- rag query ---

int command_rag_query(const GlobalOptions& global, const RagCli& r) {
  if (!valid_corpus(r.corpus)) return bad_corpus(r.corpus);
  if (r.text.empty()) return usage("the query text is empty");
  if (r.k < 1 || r.k > RAG_MAX_K) return usage("--k must be in 1.." + std::to_string(RAG_MAX_K));
  auto c = connect_to_node(global);
  if (!c.client) return c.exit_code;
  const Json body{{"params", {{"corpus", r.corpus}}},
                  {"input", {{"query", r.text}, {"k", r.k}, {"include_text", true}}}};
  auto out = c.client->call("rag.query", V1, body, QUERY_TIMEOUT);
  if (!out) return fail_with_hint(out.error(), hint_for(out.error(), r.corpus));
  if (r.json) {
    std::cout << out->dump(2) << "\n";
    return EXIT_OK;
  }
  const Json chunks = (*out)["output"].value("chunks", Json::array());
  if (chunks.empty()) std::cout << "no match in " << r.corpus << "\n";
  for (const auto& ch : chunks) {
    const Json meta = ch.value("metadata", Json::object());
    std::cout << num(ch, "rank") << ". " << std::fixed << std::setprecision(3) << ch.value("score", 0.0) << "  "
              << where(str(meta, "doc_title"), num(meta, "page")) << "  (" << str(meta, "chunk_id") << ")\n";
    const std::string text = one_line(str(ch, "text"), 200);
    if (!text.empty()) std::cout << "   " << text << "\n";
  }
  return EXIT_OK;
}

}  // namespace

// --- ask --corpus ---

int command_ask_corpus(const GlobalOptions& global, const AskArgs& args) {
  if (args.question.empty()) return usage("the question is empty");
  if (!valid_corpus(*args.corpus)) return bad_corpus(*args.corpus);
  if (args.node) return usage("--node does not apply with --corpus (the answer is composed on this node)");
  if (args.k != 0 && (args.k < 1 || args.k > RAG_MAX_K)) {
    return usage("--k must be in 1.." + std::to_string(RAG_MAX_K));
  }
  Json input{{"question", args.question}, {"corpus", *args.corpus}};
  if (args.k > 0) input["k"] = args.k;
  if (args.model) input["model"] = *args.model;
  if (args.max_tokens > 0) input["max_tokens"] = args.max_tokens;
  auto c = connect_to_node(global);
  if (!c.client) return c.exit_code;
  const bool live = !args.json;
  std::string text;
  Json sources = Json::array();
  auto on_frame = [&](transport::Frame& f) {
    if (f.event == "sources") {
      sources = f.data.value("sources", Json::array());
      return true;
    }
    if (f.event != "token") return true;
    const std::string piece = str(f.data, "text");
    text += piece;
    if (live) std::cout << piece << std::flush;
    return static_cast<bool>(std::cout);
  };
  const auto timeout = std::chrono::seconds(args.timeout_seconds > 0 ? args.timeout_seconds + 5 : 300);
  Json req{{"capability", "rag.answer@1.0"}, {"node", "self"}, {"body", Json{{"input", input}}}};
  if (args.timeout_seconds > 0) req["timeout_seconds"] = args.timeout_seconds;
  auto done = c.client->stream_request(node::NODE_CALL_PATH, req, on_frame, timeout);
  if (live && !text.empty()) std::cout << "\n";
  if (!done) return fail_with_hint(done.error(), hint_for(done.error(), *args.corpus));
  if (args.json) {
    std::cout << Json{{"text", text}, {"sources", sources}, {"done", done->data}}.dump(2) << "\n";
    return EXIT_OK;
  }
  if (!sources.empty()) {
    std::cout << "\nSources:\n";
    for (const auto& s : sources) {
      std::cout << "  [" << num(s, "n") << "] " << where(str(s, "doc_title"), num(s, "page")) << "  ("
                << str(s, "doc_cid") << ")\n";
    }
  }
  if (::isatty(STDERR_FILENO) && done->data.contains("model")) {
    std::cerr << "[" << str(done->data, "model") << ", " << num(done->data, "tokens_out") << " tokens, "
              << num(done->data, "ms") << " ms]\n";
  }
  return EXIT_OK;
}

namespace {

void add_rag_options(CLI::App& app, RagCli& r) {
  auto* rag = app.add_subcommand("rag", "Documents the mesh can answer from (RAG corpora)");
  rag->require_subcommand(1);
  r.list_cmd = rag->add_subcommand("list", "Corpora on the mesh: documents, chunks, size, nodes");
  r.list_cmd->add_flag("--json", r.json, "Machine-readable output");

  r.ingest_cmd = rag->add_subcommand("ingest", "Add a PDF, text or Markdown file to a corpus on this node");
  r.ingest_cmd->add_option("path", r.path, "The file (.pdf, .txt, .md)")->required();
  r.ingest_cmd->add_option("--corpus", r.corpus, "Corpus name ([a-z0-9-], created when new)")->required();
  r.ingest_cmd->add_option("--title", r.title, "Document title (default: the file name)");
  r.ingest_cmd->add_option("--language", r.language, "Language code, e.g. de");
  r.ingest_cmd->add_flag("--json", r.json, "Machine-readable output");

  r.reindex_cmd = rag->add_subcommand("reindex", "Re-embed every chunk of a corpus on this node");
  r.reindex_cmd->add_option("--corpus", r.corpus, "Corpus name")->required();
  r.reindex_cmd->add_option("--embedding-model", r.embedding_model,
                            "Embedding model (default: [rag] embedding_model, else the mesh's)");
  r.reindex_cmd->add_flag("--json", r.json, "Machine-readable output");

  r.query_cmd = rag->add_subcommand("query", "Ranked chunks of a corpus for a text (hybrid search)");
  r.query_cmd->add_option("text", r.text, "What to look for")->required();
  r.query_cmd->add_option("--corpus", r.corpus, "Corpus name")->required();
  r.query_cmd->add_option("--k", r.k, "How many chunks (1..20, default 5)");
  r.query_cmd->add_flag("--json", r.json, "Machine-readable output");
}

std::optional<int> run_rag(const GlobalOptions& global, const RagCli& r) {
  if (r.list_cmd != nullptr && *r.list_cmd) return command_rag_list(global, r);
  if (r.ingest_cmd != nullptr && *r.ingest_cmd) return command_rag_ingest(global, r);
  if (r.reindex_cmd != nullptr && *r.reindex_cmd) return command_rag_reindex(global, r);
  if (r.query_cmd != nullptr && *r.query_cmd) return command_rag_query(global, r);
  return std::nullopt;
}

}  // namespace

CommandDispatch add_rag_commands(CLI::App& app) {
  auto r = std::make_shared<RagCli>();
  add_rag_options(app, *r);
  return [r](const GlobalOptions& global) { return run_rag(global, *r); };
}

}  // namespace hn::cli
