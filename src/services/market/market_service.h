// market_service.h — the marketplace service (M06): market.list, market.post,
// market.expire and market.search @1.0 (CONTRACT §4.11–4.14) over MarketView, the auto-expiry
// sweeper (M06 §4.2) and the pubsub topics marketplace.post.created|expired (CONTRACT §8).
//
// Event-sourced (M06 §4.1): handlers never write posts; they append signed
// market.post.* events to the log, and the view follows the log. Writes are signed with
// this node's key, so market.post and market.expire serve only the node itself (its CLI
// and UI); another node writes through its own node (doc/design/market.md).
//
// Thread-safety: handlers run on the service's queue threads, concurrently; writes are
// serialised by one mutex (idempotency by client_id checks and appends under it). The
// sweeper is one thread of the service's own, stopped by stop().
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bus/service.h"
#include "events/event_log.h"
#include "service/context.h"
#include "services/market/market_view.h"

namespace hn::services::market {

// CONTRACT §8 topics.
inline constexpr const char* TOPIC_POST_CREATED = "marketplace.post.created";
inline constexpr const char* TOPIC_POST_EXPIRED = "marketplace.post.expired";
// M06 §4.2: the sweeper's period; the test hook HEARTHNET_MARKET_SWEEP_SECONDS shortens it.
inline constexpr int MARKET_SWEEP_SECONDS = 60;
inline constexpr int MARKET_SEARCH_DEFAULT_K = 10;
inline constexpr int MARKET_SEARCH_MAX_K = 100;
// M06 §4.3: per-post embeddings cached, at most this many.
inline constexpr std::size_t EMBEDDING_CACHE_SIZE = 5000;

// The four descriptors (market_descriptors.cpp).
std::vector<bus::CapabilityDescriptor> market_descriptors();

struct MarketOptions {
  std::int64_t default_ttl_seconds = 7 * 86400;
  std::int64_t max_ttl_seconds = 30 * 86400;
  int sweep_seconds = MARKET_SWEEP_SECONDS;
  bool enabled = true;  // config.market.enabled: false offers nothing
};

class MarketService final : public bus::Service {
 public:
  MarketService(const service::ServiceContext& ctx, MarketOptions options);
  ~MarketService() override;

  std::string name() const override { return "marketplace"; }
  std::string version() const override { return "1.0.0"; }
  std::vector<std::string> namespace_prefixes() const override { return {"market"}; }
  std::vector<bus::LocalCapability> capabilities() override;
  bus::ExecutionSpec execution() const override { return {4, 64}; }
  Status start() override;
  void stop() override;
  Json health() const override;

  // The handlers (CONTRACT §4.11–4.14), public for tests.
  Result<Json> handle_list(const bus::CallContext& ctx, const Json& body);
  Result<Json> handle_post(const bus::CallContext& ctx, const Json& body);
  Result<Json> handle_expire(const bus::CallContext& ctx, const Json& body);
  Result<Json> handle_search(const bus::CallContext& ctx, const Json& body);
  // One pass of the sweeper (M06 §4.2); returns how many posts it expired.
  int sweep_once();

  const MarketView& view() const { return *m_view; }

 private:
  struct Written {
    EventId event_id;
    Lamport lamport = 0;
  };
  Status check_writer(const bus::CallContext& ctx) const;
  std::optional<TrustLevel> level_of(const NodeId& node) const;
  std::vector<std::string> revoked_authors() const;
  // Remembers a write by client_id (the view may apply it a moment later).
  void remember(const std::string& key, const Written& w);
  // embed.text over the bus: one vector per text, or the call's error.
  Result<std::vector<std::vector<float>>> embed_texts(const std::vector<std::string>& texts);
  // The query's vector; nullopt when no provider answers (lexical alone then; `error` is set
  // for a failure other than no provider).
  std::optional<std::vector<float>> embed_query(const std::string& query, std::string* error);
  // Cosine similarity of each post to the query vector (post vectors cached); nullopt when
  // embedding them failed.
  std::optional<std::vector<double>> similarities(const std::vector<float>& query_vec,
                                                  const std::vector<Post>& posts,
                                                  std::string* error);
  void sweeper_loop();

  NodeId m_node_id;
  events::EventLog& m_log;
  events::ReplayEngine& m_replay;
  bus::CapabilityBus& m_bus;
  service::Publisher& m_publisher;
  std::function<std::optional<identity::CommunityManifest>()> m_community;
  const Clock& m_clock;
  MarketOptions m_options;

  std::unique_ptr<MarketView> m_view;
  bool m_registered = false;
  events::Subscription m_topics;

  std::mutex m_write_mutex;                  // serialises market.post / market.expire / the sweeper
  std::map<std::string, Written> m_written;  // "post:<client_id>" | "expire:<client_id>"
  std::deque<std::string> m_written_order;

  mutable std::mutex m_cache_mutex;
  std::unordered_map<std::string, std::vector<float>> m_embeddings;  // event_id|hash → vector
  std::deque<std::string> m_embedding_order;

  std::mutex m_sweep_mutex;
  std::condition_variable m_sweep_cv;
  bool m_stopping = false;
  std::thread m_sweeper;
  std::atomic<std::int64_t> m_swept{0};
};

// The service host's factory (src/node/service_list.cpp): config.market, the test hook
// HEARTHNET_MARKET_SWEEP_SECONDS. With config.market.enabled false it offers nothing.
std::unique_ptr<bus::Service> make_service(const service::ServiceContext& ctx);

}  // namespace hn::services::market
