// openai_api.h — the OpenAI-compatible API every node offers (issue #14 §4), so the tools
// people already use (the official `openai` clients, anything that speaks /v1) reach the
// mesh: GET /v1/models, POST /v1/chat/completions (SSE when "stream": true),
// POST /v1/completions, POST /v1/embeddings. Each request becomes a bus call —
// llm.chat@1.0, llm.complete@1.0, embed.text@1.0 with params.model — so the bus picks the
// best provider in the mesh for the model named; errors come back OpenAI-shaped
// ({"error": {"message", "type", "param", "code"}}).
//
// Plain HTTP/1.1 on its own listener ([openai_api] host/port): loopback by default; on any
// other address only with a bearer token (the variable [openai_api].token_env names) and
// every request must carry it. It lives in the node (above the bus, below no service): it
// includes no service and knows the capabilities only by their contract names.
//
// Execution: one thread accepts; each connection is a job on the API's own bounded queue
// (OPENAI_API_THREADS threads, each blocking on its bus call — the bus's blocking forms are
// for threads that may wait). A full queue answers 429 at once. A client that goes away
// mid-stream fails the next write, which cancels the bus call.
//
// Thread-safety: start/stop from the node's composition thread; everything else internal.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bus/bus.h"
#include "core/error.h"
#include "core/json.h"

namespace hn::node {

inline constexpr int OPENAI_API_THREADS = 16;

struct OpenAiApiOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;          // 0: any free port
  std::string bearer_token;        // empty: none required (loopback only)
  std::filesystem::path port_file; // written with the bound port once listening; empty: none
};

// Whether host is a loopback address or name.
bool is_loopback_host(const std::string& host);

// The models the mesh offers (params.model / params.models of every llm.chat, llm.complete
// and embed.text provider the bus knows), for GET /v1/models.
Json openai_models(const std::vector<bus::CapabilityEntry>& entries);

// OpenAI request → bus body (params.model + input), or an OpenAI-shaped 400 error.
Result<Json> chat_body_from_openai(const Json& request);
Result<Json> completion_body_from_openai(const Json& request);
Result<Json> embed_body_from_openai(const Json& request);

// A bus error → (HTTP status, OpenAI error object).
std::pair<int, Json> openai_error(const Error& e);

class OpenAiApi {
 public:
  OpenAiApi(bus::CapabilityBus& bus, OpenAiApiOptions options);
  ~OpenAiApi();
  OpenAiApi(const OpenAiApi&) = delete;
  OpenAiApi& operator=(const OpenAiApi&) = delete;

  // Binds and starts accepting; config_error when a non-loopback host has no token, the
  // address cannot be bound, or the port file cannot be written.
  Status start();
  // Stops accepting and waits for the connections in progress.
  void stop();
  std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m;
};

}  // namespace hn::node
