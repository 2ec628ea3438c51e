// openai_wire.cpp — OpenAI JSON ↔ the bus's llm.chat / llm.complete / embed.text bodies,
// the model list, and OpenAI-shaped errors.
#include <set>

#include "node/openai_api.h"

namespace hn::node {
namespace {

Error invalid(const std::string& message, const std::string& param = "") {
  return make_error(ErrorCode::bad_request, message, param.empty() ? Json() : Json{{"param", param}});
}

const Json* find(const Json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

Result<std::string> model_of(const Json& request) {
  if (!request.is_object()) return invalid("the request body must be a JSON object");
  const Json* m = find(request, "model");
  if (m == nullptr || !m->is_string() || m->get_ref<const std::string&>().empty()) {
    return invalid("you must provide a model parameter", "model");
  }
  return m->get<std::string>();
}

// max_tokens (or max_completion_tokens), temperature, top_p, stop, seed, stream → input.
Status copy_sampling(const Json& request, Json& input) {
  const Json* max = find(request, "max_completion_tokens");
  if (max == nullptr) max = find(request, "max_tokens");
  if (max != nullptr) {
    if (!max->is_number_integer() || max->get<std::int64_t>() < 1) {
      return invalid("max_tokens must be a positive integer", "max_tokens");
    }
    input["max_tokens"] = *max;
  }
  for (const char* key : {"temperature", "top_p"}) {
    if (const Json* v = find(request, key)) {
      if (!v->is_number()) return invalid(std::string(key) + " must be a number", key);
      input[key] = *v;
    }
  }
  if (const Json* stop = find(request, "stop")) {
    if (stop->is_string()) {
      input["stop"] = Json::array({*stop});
    } else if (stop->is_array()) {
      for (const auto& s : *stop) {
        if (!s.is_string()) return invalid("stop must be a string or an array of strings", "stop");
      }
      input["stop"] = *stop;
    } else {
      return invalid("stop must be a string or an array of strings", "stop");
    }
  }
  if (const Json* seed = find(request, "seed")) {
    if (!seed->is_number_integer()) return invalid("seed must be an integer", "seed");
    input["seed"] = *seed;
  }
  bool stream = false;
  if (const Json* s = find(request, "stream")) {
    if (!s->is_boolean()) return invalid("stream must be a boolean", "stream");
    stream = s->get<bool>();
  }
  input["stream"] = stream;
  return {};
}

}  // namespace

Json openai_models(const std::vector<bus::CapabilityEntry>& entries) {
  std::set<std::string> seen;
  Json data = Json::array();
  auto add = [&](const Json& name, const std::string& owner) {
    if (name.is_string() && seen.insert(name.get<std::string>()).second) {
      data.push_back({{"id", name}, {"object", "model"}, {"created", 0}, {"owned_by", owner}});
    }
  };
  for (const auto& e : entries) {
    const std::string& cap = e.descriptor.name;
    if (cap != "llm.chat" && cap != "llm.complete" && cap != "embed.text") continue;
    const Json& p = e.descriptor.params.get();
    if (!p.is_object()) continue;
    const std::string owner = "hearthnet:" + e.node_id.str();
    if (const Json* list = find(p, "models"); list != nullptr && list->is_array()) {
      for (const auto& m : *list) add(m, owner);
    }
    if (const Json* m = find(p, "model")) add(*m, owner);
  }
  return Json{{"object", "list"}, {"data", data}};
}

Result<Json> chat_body_from_openai(const Json& request) {
  HN_TRY_ASSIGN(auto model, model_of(request));
  const Json* messages = find(request, "messages");
  if (messages == nullptr || !messages->is_array() || messages->empty()) {
    return invalid("messages must be a non-empty array", "messages");
  }
  Json out_messages = Json::array();
  for (const auto& m : *messages) {
    const Json* role = m.is_object() ? find(m, "role") : nullptr;
    if (role == nullptr || !role->is_string()) return invalid("each message needs a role", "messages");
    std::string r = role->get<std::string>();
    if (r == "developer") r = "system";
    if (r != "system" && r != "user" && r != "assistant") {
      return invalid("role '" + r + "' is not supported here (system, user, assistant)", "messages");
    }
    std::string content;
    const Json* c = find(m, "content");
    if (c != nullptr && c->is_string()) {
      content = c->get<std::string>();
    } else if (c != nullptr && c->is_array()) {  // content parts: text only
      for (const auto& part : *c) {
        const Json* type = part.is_object() ? find(part, "type") : nullptr;
        const Json* text = part.is_object() ? find(part, "text") : nullptr;
        if (type == nullptr || *type != "text" || text == nullptr || !text->is_string()) {
          return invalid("only text content parts are supported", "messages");
        }
        content += text->get<std::string>();
      }
    } else if (c != nullptr) {
      return invalid("message content must be a string or an array of text parts", "messages");
    }
    out_messages.push_back({{"role", r}, {"content", content}});
  }
  Json input{{"messages", out_messages}};
  HN_TRY(copy_sampling(request, input));
  return Json{{"params", {{"model", model}}}, {"input", input}};
}

Result<Json> completion_body_from_openai(const Json& request) {
  HN_TRY_ASSIGN(auto model, model_of(request));
  const Json* prompt = find(request, "prompt");
  std::string text;
  if (prompt != nullptr && prompt->is_string()) {
    text = prompt->get<std::string>();
  } else if (prompt != nullptr && prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_string()) {
    text = (*prompt)[0].get<std::string>();
  } else {
    return invalid("prompt must be a string (or an array of one string)", "prompt");
  }
  Json input{{"prompt", text}};
  HN_TRY(copy_sampling(request, input));
  return Json{{"params", {{"model", model}}}, {"input", input}};
}

Result<Json> embed_body_from_openai(const Json& request) {
  HN_TRY_ASSIGN(auto model, model_of(request));
  const Json* input = find(request, "input");
  Json texts = Json::array();
  if (input != nullptr && input->is_string()) {
    texts.push_back(*input);
  } else if (input != nullptr && input->is_array() && !input->empty()) {
    for (const auto& t : *input) {
      if (!t.is_string()) return invalid("input must be a string or an array of strings", "input");
      texts.push_back(t);
    }
  } else {
    return invalid("input must be a string or an array of strings", "input");
  }
  if (const Json* f = find(request, "encoding_format"); f != nullptr && *f != "float" && *f != "base64") {
    return invalid("encoding_format must be float or base64", "encoding_format");
  }
  return Json{{"params", {{"model", model}}}, {"input", {{"texts", texts}, {"normalize", true}}}};
}

std::pair<int, Json> openai_error(const Error& e) {
  const ErrorCode code = to_wire_code(e.code);
  int status = 500;
  std::string type = "api_error";
  std::string oa_code = std::string(to_string(code));
  switch (code) {
    case ErrorCode::bad_request:
    case ErrorCode::schema_mismatch:
      status = 400;
      type = "invalid_request_error";
      break;
    case ErrorCode::not_found:
      status = 404;
      type = "invalid_request_error";
      oa_code = "model_not_found";
      break;
    case ErrorCode::unauthorized:
      status = 401;
      type = "invalid_request_error";
      oa_code = "invalid_api_key";
      break;
    case ErrorCode::rate_limited:
    case ErrorCode::capacity_exceeded:
      status = 429;
      type = "rate_limit_error";
      break;
    case ErrorCode::timeout: status = 504; break;
    case ErrorCode::not_implemented: status = 501; break;
    default: break;
  }
  Json param = nullptr;
  if (e.detail.is_object() && e.detail.contains("param")) param = e.detail["param"];
  if (code == ErrorCode::not_found && param.is_null()) param = "model";
  return {status, Json{{"error", {{"message", e.message}, {"type", type}, {"param", param}, {"code", oa_code}}}}};
}

}  // namespace hn::node
