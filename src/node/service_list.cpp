// service_list.cpp — the one list the node builds its services from.
#include "node/service_list.h"

#include "services/chat/chat_service.h"
#include "services/diag/diag_echo.h"
#include "services/files/file_service.h"
#include "services/embed/embed_service.h"
#include "services/llm/llm_service.h"
#include "services/market/market_service.h"
#include "services/rag/rag_service.h"

namespace hn::node {

const std::vector<service::ServiceFactory>& service_list() {
  static const std::vector<service::ServiceFactory> list = {
      {"diag", services::diag::make_service},
      {"files", services::files::make_service},
      {"chat", services::chat::make_service},
      {"embed", services::embed::make_service},
      {"llm", services::llm::make_service},
      {"market", services::market::make_service},
      {"rag", services::rag::make_service},
  };
  return list;
}

}  // namespace hn::node
