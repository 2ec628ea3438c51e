// commands_chat.cpp — `hearthnet chat send|history|peers|read` (M10, issue #13 §3): each is a
// bus call to this node's chat service over POST /node/v1/call pinned to "self" (the CLI
// reaches services only through bus calls; chat.send signs as this node).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <deque>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/node_access.h"
#include "core/ulid.h"
#include "node/node.h"
#include "transport/envelope.h"

namespace hn::cli {
namespace {

class ChatCommands {
 public:
  // Adds `chat` and its subcommands to app.
  explicit ChatCommands(CLI::App& app);
  // The exit code when a chat command was chosen, nullopt otherwise.
  std::optional<int> run(const GlobalOptions& global) const;

 private:
  CLI::App* m_send = nullptr;
  CLI::App* m_history = nullptr;
  CLI::App* m_peers = nullptr;
  CLI::App* m_read = nullptr;
  std::string m_node_id;
  std::string m_text;
  std::vector<std::string> m_attach;
  std::optional<std::string> m_client_id;
  std::optional<std::string> m_peer;
  int m_limit = 50;
  bool m_json = false;
};


// A chat capability on this node: its `output`, or the error (already the wire's).
Result<Json> call_chat(node::LocalClient& client, const std::string& capability, Json input) {
  const Json request{{"capability", capability + "@1.0"}, {"node", "self"},
                     {"body", Json{{"input", std::move(input)}}}};
  auto r = client.request("POST", node::NODE_CALL_PATH, request);
  if (!r) return r.take_error();
  if (r->status / 100 != 2) return transport::parse_error_response(r->status, r->body);
  auto out = r->body.find("output");
  if (out == r->body.end() || !out->is_object()) {
    return make_error(ErrorCode::internal_error, "the node answered without an output");
  }
  return *out;
}

std::string text_of(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "ed25519:abcd…wxyz" — enough of an id to tell peers apart on a terminal.
std::string brief(const std::string& id) {
  return id.size() > 24 ? id.substr(0, 14) + "…" + id.substr(id.size() - 6) : id;
}

void print_message(const Json& m, const std::string& us) {
  const std::string from = text_of(m, "from");
  const std::string state = !m["read_at"].is_null()        ? "read"
                            : !m["delivered_at"].is_null() ? "delivered"
                                                           : "sent";
  std::cout << text_of(m, "created_at") << "  " << (from == us ? "me" : brief(from)) << " → "
            << (text_of(m, "to") == us ? "me" : brief(text_of(m, "to"))) << "  "
            << text_of(m, "body");
  for (const auto& a : m.value("attachments", Json::array())) {
    std::cout << "  [" << text_of(a, "name") << " " << text_of(a, "cid") << "]";
  }
  std::cout << "  (" << state << ")\n";
}

}  // namespace

ChatCommands::ChatCommands(CLI::App& app) {
  auto* chat = app.add_subcommand("chat", "Direct messages with community members");
  chat->require_subcommand(1);
  m_send = chat->add_subcommand("send", "Send a message to a member");
  m_send->add_option("node_id", m_node_id, "The recipient's full node id (ed25519:...)")->required();
  m_send->add_option("text", m_text, "The message")->required();
  m_send->add_option("--attach", m_attach, "A blob's CID (blake3:...) to attach; repeatable");
  m_send->add_option("--client-id", m_client_id, "Idempotency key (default: a new ULID)");
  m_send->add_flag("--json", m_json, "Machine-readable output");
  m_history = chat->add_subcommand("history", "Messages with one peer, or with all");
  m_history->add_option("node_id", m_peer, "Only the conversation with this node");
  m_history->add_option("--limit", m_limit, "The newest N messages (default 50)");
  m_history->add_flag("--json", m_json, "Machine-readable output");
  m_peers = chat->add_subcommand("peers", "Conversations with their unread counts");
  m_peers->add_flag("--json", m_json, "Machine-readable output");
  m_read = chat->add_subcommand("read", "Mark a peer's messages read (sends read receipts)");
  m_read->add_option("node_id", m_node_id, "The peer's full node id")->required();
  m_read->add_flag("--json", m_json, "Machine-readable output");
}

std::optional<int> ChatCommands::run(const GlobalOptions& global) const {
  if (!*m_send && !*m_history && !*m_peers && !*m_read) return std::nullopt;
  if (m_limit < 1) {
    std::cerr << "hearthnet: --limit must be at least 1\n";
    return EXIT_USAGE;
  }
  auto c = connect_to_node(global);
  if (!c.client) return c.exit_code;
  auto& client = *c.client;
  const std::string us = client.keys().node_id().str();

  if (*m_send) {
    Json attachments = Json::array();
    for (const auto& cid : m_attach) attachments.push_back(Json{{"cid", cid}, {"name", cid}});
    Json input{{"client_id", m_client_id.value_or(new_ulid())},
               {"recipient", m_node_id},
               {"body", m_text}};
    if (!attachments.empty()) input["attachments"] = std::move(attachments);
    auto out = call_chat(client, "chat.send", std::move(input));
    if (!out) return fail(out.error());
    if (m_json) {
      std::cout << out->dump() << "\n";
    } else {
      std::cout << "sent " << text_of(*out, "event_id") << " (lamport " << (*out)["lamport"]
                << ", " << text_of(*out, "delivered") << ")\n";
    }
    return EXIT_OK;
  }
  if (*m_history) {
    // Page forward through everything (pages of 500) and keep the newest --limit.
    std::deque<Json> newest;
    Json input{{"limit", 500}};
    if (m_peer) input["peer"] = *m_peer;
    for (;;) {
      auto out = call_chat(client, "chat.history", input);
      if (!out) return fail(out.error());
      for (auto& m : (*out)["messages"]) {
        newest.push_back(std::move(m));
        if (newest.size() > static_cast<std::size_t>(m_limit)) newest.pop_front();
      }
      auto next = out->find("next");
      if (next == out->end() || !next->is_object()) break;
      input["since_lamport"] = (*next)["since_lamport"];
      input["since_event_id"] = (*next)["since_event_id"];
    }
    if (m_json) {
      std::cout << Json{{"messages", Json(std::vector<Json>(newest.begin(), newest.end()))}}.dump()
                << "\n";
      return EXIT_OK;
    }
    if (newest.empty()) std::cout << "no messages\n";
    for (const auto& m : newest) print_message(m, us);
    return EXIT_OK;
  }
  if (*m_peers) {
    auto out = call_chat(client, "chat.peers", Json::object());
    if (!out) return fail(out.error());
    if (m_json) {
      std::cout << out->dump() << "\n";
      return EXIT_OK;
    }
    const Json peers = (*out)["peers"];
    if (peers.empty()) std::cout << "no conversations yet\n";
    for (const auto& p : peers) {
      std::cout << text_of(p, "node_id") << "  " << p["messages"] << " messages  " << p["unread"]
                << " unread  last " << text_of(p, "last_at") << "\n";
    }
    return EXIT_OK;
  }
  auto out = call_chat(client, "chat.read", Json{{"peer", m_node_id}});
  if (!out) return fail(out.error());
  if (m_json) {
    std::cout << out->dump() << "\n";
  } else {
    std::cout << "marked " << (*out)["marked"] << " message(s) read\n";
  }
  return EXIT_OK;
}

CommandDispatch add_chat_commands(CLI::App& app) {
  auto chat = std::make_shared<ChatCommands>(app);
  return [chat](const GlobalOptions& global) { return chat->run(global); };
}

}  // namespace hn::cli
