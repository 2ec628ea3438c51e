// schema.cpp — the JSON-Schema subset validator and the schema hash.
#include "bus/schema.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/hash.h"

namespace hn::bus {
namespace {

constexpr std::array<std::string_view, 7> TYPE_NAMES = {
    "null", "boolean", "object", "array", "number", "integer", "string"};
constexpr std::array<std::string_view, 11> ANNOTATIONS = {
    "title", "description", "default", "examples", "format", "$schema",
    "$id", "$comment", "deprecated", "readOnly", "writeOnly"};
constexpr std::array<std::string_view, 17> SUPPORTED = {
    "type", "properties", "required", "additionalProperties", "enum", "const",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
    "items", "minItems", "maxItems", "$defs", "definitions"};

template <size_t N>
bool contains(const std::array<std::string_view, N>& set, std::string_view s) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

// RFC 6901 escaping of one reference token.
std::string escape_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string child(const std::string& path, std::string_view key) {
  return path + "/" + escape_token(key);
}

std::string where(const std::string& path) { return path.empty() ? "/" : path; }

Error schema_error(const std::string& path, const std::string& why) {
  return make_error(ErrorCode::schema_invalid, "schema " + where(path) + ": " + why);
}

Error instance_error(const std::string& path, const std::string& why) {
  return make_error(ErrorCode::bad_request, where(path) + ": " + why);
}

// Where validation is inside the instance: a chain of steps on the stack, spelled out as a
// JSON pointer only when an error needs it (validating a valid instance allocates nothing).
struct InstancePath {
  const InstancePath* parent = nullptr;
  std::string_view key;  // an object member, or
  std::size_t index = 0;  // an array item (when is_index)
  bool is_index = false;

  std::string str() const {
    if (parent == nullptr) return {};
    std::string step = is_index ? std::to_string(index) : escape_token(key);
    return parent->str() + "/" + step;
  }
};

Error instance_error(const InstancePath& path, const std::string& why) {
  return instance_error(path.str(), why);
}

bool is_non_negative_integer(const Json& j) {
  if (j.is_number_unsigned()) return true;
  if (j.is_number_integer()) return j.get<std::int64_t>() >= 0;
  return false;
}

std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

bool is_integral(const Json& j) {
  if (j.is_number_integer() || j.is_number_unsigned()) return true;
  if (!j.is_number_float()) return false;
  double d = j.get<double>();
  return std::isfinite(d) && std::floor(d) == d;
}

bool matches_type(std::string_view type, const Json& j) {
  if (type == "null") return j.is_null();
  if (type == "boolean") return j.is_boolean();
  if (type == "object") return j.is_object();
  if (type == "array") return j.is_array();
  if (type == "number") return j.is_number();
  if (type == "integer") return is_integral(j);
  if (type == "string") return j.is_string();
  return false;
}

Status check_at(const Json& schema, const std::string& path, int depth) {
  if (depth > JSON_MAX_DEPTH) return schema_error(path, "nested too deeply");
  if (schema.is_boolean()) return {};
  if (!schema.is_object()) return schema_error(path, "a schema must be an object or a boolean");
  for (const auto& [key, value] : schema.items()) {
    const std::string kpath = child(path, key);
    if (contains(ANNOTATIONS, key)) continue;
    if (!contains(SUPPORTED, key)) return schema_error(kpath, "unsupported keyword");
    if (key == "type") {
      auto ok_name = [](const Json& t) {
        return t.is_string() && contains(TYPE_NAMES, t.get_ref<const std::string&>());
      };
      if (value.is_array()) {
        if (value.empty()) return schema_error(kpath, "empty type list");
        for (const auto& t : value) {
          if (!ok_name(t)) return schema_error(kpath, "unknown type name");
        }
      } else if (!ok_name(value)) {
        return schema_error(kpath, "unknown type name");
      }
    } else if (key == "properties" || key == "$defs" || key == "definitions") {
      if (!value.is_object()) return schema_error(kpath, "must be an object");
      for (const auto& [name, sub] : value.items()) {
        HN_TRY(check_at(sub, child(kpath, name), depth + 1));
      }
    } else if (key == "required") {
      if (!value.is_array()) return schema_error(kpath, "must be an array of strings");
      for (const auto& r : value) {
        if (!r.is_string()) return schema_error(kpath, "must be an array of strings");
      }
    } else if (key == "additionalProperties" || key == "items") {
      if (key == "items" && value.is_array()) return schema_error(kpath, "tuple form unsupported");
      HN_TRY(check_at(value, kpath, depth + 1));
    } else if (key == "enum") {
      if (!value.is_array() || value.empty()) return schema_error(kpath, "must be a non-empty array");
    } else if (key == "const") {
      // any value
    } else if (key == "minimum" || key == "maximum" || key == "exclusiveMinimum" ||
               key == "exclusiveMaximum") {
      if (!value.is_number()) return schema_error(kpath, "must be a number");
    } else {  // minLength, maxLength, minItems, maxItems
      if (!is_non_negative_integer(value)) return schema_error(kpath, "must be a non-negative integer");
    }
  }
  return {};
}

Status validate_at(const Json& schema, const Json& inst, const InstancePath& path, int depth) {
  if (depth > JSON_MAX_DEPTH) return instance_error(path, "nested too deeply");
  if (schema.is_boolean()) {
    if (schema.get<bool>()) return {};
    return instance_error(path, "no value is allowed here");
  }
  if (!schema.is_object()) return make_error(ErrorCode::schema_invalid, "schema is not an object");

  if (auto it = schema.find("type"); it != schema.end()) {
    bool ok = false;
    if (it->is_array()) {
      for (const auto& t : *it) ok = ok || (t.is_string() && matches_type(t.get_ref<const std::string&>(), inst));
    } else if (it->is_string()) {
      ok = matches_type(it->get_ref<const std::string&>(), inst);
    }
    if (!ok) return instance_error(path, "expected type " + it->dump());
  }
  if (auto it = schema.find("enum"); it != schema.end() && it->is_array()) {
    if (std::find(it->begin(), it->end(), inst) == it->end()) {
      return instance_error(path, "value not in enum " + it->dump());
    }
  }
  if (auto it = schema.find("const"); it != schema.end() && *it != inst) {
    return instance_error(path, "value must equal " + it->dump());
  }
  if (inst.is_number()) {
    const double v = inst.get<double>();
    auto num = [&](const char* k) -> const Json* {
      auto it = schema.find(k);
      return it != schema.end() && it->is_number() ? &*it : nullptr;
    };
    if (auto* m = num("minimum"); m && v < m->get<double>()) {
      return instance_error(path, "must be >= " + m->dump());
    }
    if (auto* m = num("maximum"); m && v > m->get<double>()) {
      return instance_error(path, "must be <= " + m->dump());
    }
    if (auto* m = num("exclusiveMinimum"); m && v <= m->get<double>()) {
      return instance_error(path, "must be > " + m->dump());
    }
    if (auto* m = num("exclusiveMaximum"); m && v >= m->get<double>()) {
      return instance_error(path, "must be < " + m->dump());
    }
  }
  auto limit = [&](const char* k) -> std::optional<std::uint64_t> {
    auto it = schema.find(k);
    if (it == schema.end() || !is_non_negative_integer(*it)) return std::nullopt;
    return it->get<std::uint64_t>();
  };
  if (inst.is_string()) {
    const auto n = code_points(inst.get_ref<const std::string&>());
    if (auto m = limit("minLength"); m && n < *m) {
      return instance_error(path, "shorter than minLength " + std::to_string(*m));
    }
    if (auto m = limit("maxLength"); m && n > *m) {
      return instance_error(path, "longer than maxLength " + std::to_string(*m));
    }
  }
  if (inst.is_array()) {
    if (auto m = limit("minItems"); m && inst.size() < *m) {
      return instance_error(path, "fewer than minItems " + std::to_string(*m));
    }
    if (auto m = limit("maxItems"); m && inst.size() > *m) {
      return instance_error(path, "more than maxItems " + std::to_string(*m));
    }
    if (auto it = schema.find("items"); it != schema.end()) {
      for (std::size_t i = 0; i < inst.size(); ++i) {
        HN_TRY(validate_at(*it, inst[i], InstancePath{&path, {}, i, true}, depth + 1));
      }
    }
  }
  if (inst.is_object()) {
    if (auto it = schema.find("required"); it != schema.end() && it->is_array()) {
      for (const auto& r : *it) {
        if (r.is_string() && !inst.contains(r.get_ref<const std::string&>())) {
          return instance_error(InstancePath{&path, r.get_ref<const std::string&>()},
                                "required property missing");
        }
      }
    }
    const Json* props = nullptr;
    if (auto it = schema.find("properties"); it != schema.end() && it->is_object()) props = &*it;
    const Json* additional = nullptr;
    if (auto it = schema.find("additionalProperties"); it != schema.end()) additional = &*it;
    for (const auto& [key, value] : inst.items()) {
      const InstancePath kpath{&path, key};
      if (props != nullptr) {
        if (auto p = props->find(key); p != props->end()) {
          HN_TRY(validate_at(*p, value, kpath, depth + 1));
          continue;
        }
      }
      if (additional != nullptr) {
        if (additional->is_boolean() && !additional->get<bool>()) {
          return instance_error(kpath, "additional property not allowed");
        }
        HN_TRY(validate_at(*additional, value, kpath, depth + 1));
      }
    }
  }
  return {};
}

Status with_expected_hash(Status s, const CapabilityDescriptor& d) {
  if (s) return s;
  Error e = s.take_error();
  e.detail = Json{{"schema_hash_expected", d.schema_hash().str()}};
  return e;
}

// M03 §3.4, GLOSSARY: a request body that does not match the declared schema is a
// schema_mismatch, carrying the schema hash the provider speaks (CONTRACT §5.4).
Status as_schema_mismatch(Status s, const CapabilityDescriptor& d) {
  if (s) return s;
  Error e = with_expected_hash(std::move(s), d).take_error();
  e.code = ErrorCode::schema_mismatch;
  return e;
}

}  // namespace

std::string compute_schema_hash(const Json& descriptor_partial) {
  return blake3_cid(canonical_json(descriptor_partial));
}

Status check_schema(const Json& schema) { return check_at(schema, "", 0); }

Status validate_json(const Json& schema, const Json& instance) {
  return validate_at(schema, instance, InstancePath{}, 0);
}

Status SchemaValidator::validate_request(const CapabilityDescriptor& d, const Json& body) const {
  return as_schema_mismatch(validate_json(d.request_schema.get(), body), d);
}

Status SchemaValidator::validate_response(const CapabilityDescriptor& d, const Json& body) const {
  if (d.response_schema.is_null()) return {};
  return with_expected_hash(validate_json(d.response_schema.get(), body), d);
}

Status SchemaValidator::validate_stream_frame(const CapabilityDescriptor& d,
                                              const Json& frame_data) const {
  if (d.stream_schema.is_null()) return {};
  return with_expected_hash(validate_json(d.stream_schema.get(), frame_data), d);
}

Status SchemaValidator::check_descriptor(const CapabilityDescriptor& d) const {
  auto prefixed = [](Status s, const char* which) -> Status {
    if (s) return s;
    Error e = s.take_error();
    e.message = std::string(which) + " " + e.message;
    return e;
  };
  if (d.request_schema.is_null()) {
    return make_error(ErrorCode::schema_invalid, "request_schema is required");
  }
  HN_TRY(prefixed(check_schema(d.request_schema.get()), "request"));
  if (!d.response_schema.is_null()) HN_TRY(prefixed(check_schema(d.response_schema.get()), "response"));
  if (!d.stream_schema.is_null()) HN_TRY(prefixed(check_schema(d.stream_schema.get()), "stream"));
  if (d.response_schema.is_null() && d.stream_schema.is_null()) {
    return make_error(ErrorCode::schema_invalid, "need a response_schema or a stream_schema");
  }
  return {};
}

}  // namespace hn::bus
