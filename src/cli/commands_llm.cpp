// commands_llm.cpp — `hearthnet ask` (llm.chat streamed through the running node, tokens
// printed as they come) and `hearthnet models` (every model on the mesh, from the bus's
// view of llm.chat providers: params.models / params.backends of each node's entry).
#include <unistd.h>

#include <iomanip>
#include <iostream>
#include <map>

#include "cli/commands.h"
#include "cli/node_access.h"
#include "node/node.h"
#include "transport/envelope.h"

namespace hn::cli {
namespace {

const Json& at(const Json& j, const char* key) {
  static const Json null_json;
  if (!j.is_object()) return null_json;
  auto it = j.find(key);
  return it == j.end() ? null_json : *it;
}

std::string text_of(const Json& j, const char* key) {
  const Json& v = at(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

}  // namespace

int command_ask(const GlobalOptions& global, const AskArgs& args) {
  if (args.corpus) return command_ask_corpus(global, args);
  if (args.question.empty()) {
    std::cerr << "hearthnet: bad_request: the question is empty\n";
    return EXIT_USAGE;
  }
  Json body{{"input",
             {{"messages", Json::array({{{"role", "user"}, {"content", args.question}}})},
              {"stream", true}}}};
  if (args.model) body["params"] = {{"model", *args.model}};
  if (args.max_tokens > 0) body["input"]["max_tokens"] = args.max_tokens;
  auto c = connect_to_node(global);
  if (!c.client) return c.exit_code;
  const bool live = !args.json;
  std::string text;
  auto on_frame = [&](const transport::Frame& f) {
    if (f.event != "token") return true;
    const std::string piece = text_of(f.data, "text");
    text += piece;
    if (live) std::cout << piece << std::flush;
    return static_cast<bool>(std::cout);
  };
  const auto timeout = std::chrono::seconds(args.timeout_seconds > 0 ? args.timeout_seconds + 5 : 300);
  Result<transport::Frame> done = make_error(ErrorCode::internal_error, "not called");
  if (args.node) {
    Json req{{"capability", "llm.chat@1.0"}, {"node", *args.node}, {"body", body}};
    if (args.timeout_seconds > 0) req["timeout_seconds"] = args.timeout_seconds;
    done = c.client->stream_request(node::NODE_CALL_PATH, req, on_frame, timeout);
  } else {
    done = c.client->stream("llm.chat", Version{1, 0}, body, on_frame, timeout);
  }
  if (live && !text.empty()) std::cout << "\n";
  if (!done) return fail(done.error());
  if (args.json) {
    std::cout << Json{{"text", text}, {"done", done->data}}.dump(2) << "\n";
  } else if (::isatty(STDERR_FILENO)) {
    std::cerr << "[" << text_of(done->data, "model") << " via " << text_of(done->data, "backend")
              << ", " << at(done->data, "tokens_out").dump() << " tokens, "
              << at(done->data, "ms").dump() << " ms]\n";
  }
  return EXIT_OK;
}

int command_models(const GlobalOptions& global, const ModelsArgs& args) {
  auto c = connect_to_node(global);
  if (!c.client) return c.exit_code;
  auto r = c.client->get_json(node::NODE_CAPS_PATH, Json{{"name", "llm.chat"}});
  if (!r) return fail(r.error());
  const std::string ours = text_of(*r, "our_node_id");
  // model → [{node_id, local, backend, kind, requires_internet}]
  std::map<std::string, Json> models;
  const Json caps = r->value("capabilities", Json::array());
  for (const auto& e : caps) {
    if (text_of(e, "name") != "llm.chat") continue;
    const std::string node = text_of(e, "node_id");
    const Json& params = at(e, "params");
    const Json& backends = at(params, "backends");
    bool listed = false;
    if (backends.is_array()) {
      for (const auto& b : backends) {
        for (const auto& m : at(b, "models")) {
          if (!m.is_string()) continue;
          auto& list = models[m.get<std::string>()];
          if (!list.is_array()) list = Json::array();
          list.push_back({{"node_id", node}, {"local", node == ours}, {"backend", text_of(b, "name")},
                          {"kind", text_of(b, "kind")},
                          {"requires_internet", at(b, "requires_internet") == true}});
          listed = true;
        }
      }
    }
    if (!listed && at(params, "model").is_string()) {  // a provider without a backend list
      auto& list = models[at(params, "model").get<std::string>()];
      if (!list.is_array()) list = Json::array();
      list.push_back({{"node_id", node}, {"local", node == ours}, {"backend", text_of(params, "backend")},
                      {"kind", ""}, {"requires_internet", at(params, "requires_internet") == true}});
    }
  }
  if (args.json) {
    Json out = Json::array();
    for (const auto& [model, providers] : models) out.push_back({{"model", model}, {"providers", providers}});
    std::cout << out.dump(2) << "\n";
    return EXIT_OK;
  }
  if (models.empty()) {
    std::cout << "no model on the mesh yet (configure [[llm.backends]] on a node)\n";
    return EXIT_OK;
  }
  std::cout << std::left << std::setw(36) << "MODEL" << std::setw(26) << "NODE" << std::setw(20)
            << "BACKEND" << std::setw(14) << "KIND" << "INTERNET\n";
  for (const auto& [model, providers] : models) {
    for (const auto& p : providers) {
      std::string node = p["local"] == true ? "local" : text_of(p, "node_id");
      if (node.size() > 24) node = node.substr(0, 23) + "…";
      std::cout << std::left << std::setw(36) << model << std::setw(26) << node << std::setw(20)
                << text_of(p, "backend") << std::setw(14) << text_of(p, "kind")
                << (p["requires_internet"] == true ? "yes" : "no") << "\n";
    }
  }
  return EXIT_OK;
}

}  // namespace hn::cli
