// descriptors.cpp — the file service's capability descriptors (M07 §4.2, CONTRACT
// §4.7–4.10) and its local-only extensions file.fetch and file.pin (file_service.h).
#include "services/files/file_service.h"

#include "bus/descriptor.h"

namespace hn::services::files {
namespace {

bus::CapabilityDescriptor base(const char* name, int max_concurrent, TrustLevel trust,
                               int timeout_seconds) {
  return bus::stable_descriptor(name, trust, max_concurrent, timeout_seconds);
}

// {"params"?: {}, "input": {<properties>}} with `required` input fields.
Json request_schema(Json properties, Json required) {
  return Json{{"type", "object"},
              {"required", Json::array({"input"})},
              {"properties",
               {{"params", {{"type", "object"}}},
                {"input",
                 {{"type", "object"},
                  {"required", std::move(required)},
                  {"properties", std::move(properties)}}}}}};
}

// The handlers check the form (blake3:<64 hex>); the schema subset has no "pattern".
const Json CID = Json{{"type", "string"}, {"maxLength", 71}};

}  // namespace

bus::CapabilityDescriptor file_read_descriptor() {
  auto d = base(FILE_READ, 8, TrustLevel::member, 300);
  d.request_schema =
      request_schema(Json{{"cid", CID},
                          {"stream", {{"type", "boolean"}}},
                          {"chunks", {{"type", "array"}, {"maxItems", 4096}, {"items", {{"type", "integer"}}}}}},
                     Json::array({"cid"}));
  d.response_schema = Json{{"type", "object"}, {"required", Json::array({"output"})}};
  d.stream_schema = Json{{"type", "object"}};  // manifest | chunk frames (CONTRACT §4.7)
  return d;
}

bus::CapabilityDescriptor file_list_descriptor() {
  auto d = base(FILE_LIST, 4, TrustLevel::member, 5);
  d.request_schema = request_schema(
      Json{{"prefix", {{"type", "string"}, {"maxLength", 71}}},
           {"detail", {{"type", "boolean"}}},
           {"remote", {{"type", "boolean"}}}},
      Json::array());
  d.response_schema = Json{{"type", "object"}, {"required", Json::array({"output"})}};
  return d;
}

bus::CapabilityDescriptor file_advertise_descriptor() {
  auto d = base(FILE_ADVERTISE, 16, TrustLevel::member, 5);
  d.request_schema = request_schema(
      Json{{"cids", {{"type", "array"}, {"maxItems", 10000}, {"items", CID}}}}, Json::array({"cids"}));
  d.response_schema = Json{{"type", "object"}, {"required", Json::array({"output"})}};
  return d;
}

bus::CapabilityDescriptor file_put_descriptor() {
  auto d = base(FILE_PUT, 2, TrustLevel::trusted, 600);
  d.request_schema = request_schema(Json{{"manifest", {{"type", "object"}}},
                                         {"chunks", {{"type", "array"}}},
                                         {"pin", {{"type", "boolean"}}}},
                                    Json::array({"manifest"}));
  d.response_schema = Json{{"type", "object"}, {"required", Json::array({"output"})}};
  d.stream_schema = Json{{"type", "object"}};  // ready frames (CONTRACT §4.10)
  return d;
}

bus::CapabilityDescriptor file_fetch_descriptor() {
  auto d = base(FILE_FETCH, 2, TrustLevel::self, 24 * 3600);
  d.request_schema = request_schema(Json{{"cid", CID},
                                         {"out", {{"type", "string"}}},
                                         {"force", {{"type", "boolean"}}},
                                         {"copy", {{"type", "boolean"}}},
                                         {"sources", {{"type", "array"}}}},
                                    Json::array({"cid"}));
  d.stream_schema = Json{{"type", "object"}};  // progress frames
  return d;
}

bus::CapabilityDescriptor file_pin_descriptor() {
  auto d = base(FILE_PIN, 4, TrustLevel::self, 30);
  d.request_schema =
      request_schema(Json{{"cid", CID}, {"pinned", {{"type", "boolean"}}}}, Json::array({"cid", "pinned"}));
  d.response_schema = Json{{"type", "object"}, {"required", Json::array({"output"})}};
  return d;
}

}  // namespace hn::services::files
