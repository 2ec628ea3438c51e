// json_answers.h — what JSON APIs outside the mesh answer, in the contract's terms: the
// error of a non-2xx answer (M04 §5: the status mapped to a wire code, the server's own
// message quoted), and a JSON request whose 2xx answer is parsed.
//
// Thread-safety: free functions, reentrant.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "core/json.h"
#include "httpc/client.h"

namespace hn::httpc {

// The contract error for a server's non-2xx answer (M04 §5): 404 not_found, 429
// rate_limited (retry_after_ms from Retry-After seconds), 400/413/422 bad_request, 408/504
// timeout, everything else internal_error. The message names `who` ("backend 'x'") and
// quotes the server's own message when the body has one.
Error error_from_http(const ResponseHead& head, std::string_view body, std::string_view who);

// The server's message in an error body ({"error": "..."}, {"error": {"message": ...}},
// {"message": ...}); the raw body (first 200 bytes, one line) otherwise.
std::string vendor_message(std::string_view body);

// Parses one JSON document from a server; internal_error naming `who` otherwise.
Result<Json> parse_json_answer(std::string_view text, std::string_view who);

// Sends `request` (JSON content type and Accept added when it has a body / always) and
// returns the parsed JSON of a 2xx answer; a non-2xx answer is error_from_http.
Result<Json> fetch_json(Request request, const CancelToken& cancel, std::string_view who,
                        std::size_t max_body = 16 * 1024 * 1024);

}  // namespace hn::httpc
