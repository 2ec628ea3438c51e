// service_list.cpp — the one list the node builds its services from.
#include "node/service_list.h"

#include "services/diag/diag_echo.h"
#include "services/embed/embed_service.h"
#include "services/llm/llm_service.h"

namespace hn::node {

const std::vector<service::ServiceFactory>& service_list() {
  static const std::vector<service::ServiceFactory> list = {
      {"diag", services::diag::make_service},
      {"embed", services::embed::make_service},
      {"llm", services::llm::make_service},
  };
  return list;
}

}  // namespace hn::node
