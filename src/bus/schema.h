// schema.h — the JSON-Schema subset capabilities declare (M03 §3.4) and the schema hash
// (CONTRACT §11).
//
// Supported keywords: type (string or array of "null","boolean","object","array","number",
// "integer","string"; "integer" accepts any number with no fractional part), properties,
// required, additionalProperties (bool or schema), enum, const, minimum, maximum,
// exclusiveMinimum, exclusiveMaximum (numbers), minLength/maxLength (Unicode code points),
// items (one schema), minItems/maxItems. Boolean schemas (true/false) are allowed.
// Annotations (title, description, default, examples, format, $schema, $id, $comment,
// deprecated, readOnly, writeOnly) are ignored; any other validation keyword (pattern,
// anyOf, $ref, …) is rejected as schema_invalid, so no constraint is silently dropped.
//
// Thread-safety: pure functions; SchemaValidator is stateless and shareable.
#pragma once

#include <string>

#include "bus/capability.h"
#include "core/error.h"
#include "core/json.h"

namespace hn::bus {

// "blake3:<hex>" of canonical JSON of {name, version, request_schema, response_schema,
// stream_schema} — CONTRACT §11. The argument is that object (nulls included).
std::string compute_schema_hash(const Json& descriptor_partial);

// Whether `schema` is well-formed within the subset; schema_invalid naming the path.
Status check_schema(const Json& schema);

// Validates `instance` against a checked schema; bad_request "<json pointer>: <reason>".
Status validate_json(const Json& schema, const Json& instance);

class SchemaValidator {
 public:
  // Errors carry detail {"schema_hash_expected": ...} (CONTRACT §5.4); a request that does
  // not match is schema_mismatch (M03 §3.4), a response or frame bad_request (the bus
  // reports those as the provider's internal_error).
  Status validate_request(const CapabilityDescriptor& d, const Json& body) const;
  Status validate_response(const CapabilityDescriptor& d, const Json& body) const;
  // Validates one non-terminal frame's data against stream_schema (M03 §5.3).
  Status validate_stream_frame(const CapabilityDescriptor& d, const Json& frame_data) const;
  // check_schema over the descriptor's three schemas (response/stream may be null, not both).
  Status check_descriptor(const CapabilityDescriptor& d) const;
};

}  // namespace hn::bus
