// json_answers.cpp — HTTP errors → contract codes, JSON requests and answers.
#include "httpc/json_answers.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace hn::httpc {

std::string vendor_message(std::string_view body) {
  try {
    Json j = Json::parse(body);
    if (j.is_object()) {
      if (auto it = j.find("error"); it != j.end()) {
        if (it->is_string()) return it->get<std::string>();
        if (it->is_object() && it->contains("message") && (*it)["message"].is_string()) {
          return (*it)["message"].get<std::string>();
        }
      }
      if (auto it = j.find("message"); it != j.end() && it->is_string()) return it->get<std::string>();
    }
  } catch (const std::exception&) {
  }
  std::string raw(body.substr(0, 200));
  std::replace_if(raw.begin(), raw.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return raw;
}

Error error_from_http(const ResponseHead& head, std::string_view body, std::string_view who) {
  const std::string msg = std::string(who) + " answered HTTP " + std::to_string(head.status) +
                          ": " + vendor_message(body);
  switch (head.status) {
    case 404: return make_error(ErrorCode::not_found, msg);
    case 400:
    case 413:
    case 422: return make_error(ErrorCode::bad_request, msg);
    case 408:
    case 504: return make_error(ErrorCode::timeout, msg);
    case 429: {
      Error e = make_error(ErrorCode::rate_limited, msg);
      const std::string after = head.header("retry-after");
      double seconds = 0;
      auto [end, ec] = std::from_chars(after.data(), after.data() + after.size(), seconds);
      if (ec == std::errc() && end == after.data() + after.size() && seconds >= 0 && seconds < 86400) {
        e.retry_after_ms = static_cast<int>(std::ceil(seconds * 1000));
      }
      return e;
    }
    default: return make_error(ErrorCode::internal_error, msg);
  }
}

Result<Json> parse_json_answer(std::string_view text, std::string_view who) {
  try {
    return Json::parse(text);
  } catch (const std::exception&) {
    return make_error(ErrorCode::internal_error, std::string(who) + " sent malformed JSON");
  }
}

Result<Json> fetch_json(Request request, const CancelToken& cancel, std::string_view who,
                        std::size_t max_body) {
  if (!request.body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  request.headers.emplace_back("Accept", "application/json");
  HN_TRY_ASSIGN(auto response, fetch(request, cancel, max_body));
  if (response.head.status < 200 || response.head.status >= 300) {
    return error_from_http(response.head, response.body, who);
  }
  return parse_json_answer(response.body, who);
}

}  // namespace hn::httpc
