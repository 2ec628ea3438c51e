// market_service.cpp — lifecycle, market.list / market.post / market.expire, the sweeper
// and the pubsub topics. market.search is in market_search.cpp.
#include "services/market/market_service.h"

#include <algorithm>
#include <cstdlib>

namespace hn::services::market {
namespace {

constexpr std::size_t MAX_REMEMBERED_WRITES = 4096;
constexpr int SWEEP_BATCH = 200;

Error bad(std::string message) { return make_error(ErrorCode::bad_request, std::move(message)); }

Result<ListQuery> parse_list_input(const Json& in) {
  ListQuery q;
  for (const auto& [key, v] : in.items()) {
    if (key != "category" && key != "tags" && key != "since_lamport" && key != "limit" &&
        key != "cursor") {
      return bad("unknown field \"" + key + "\"");
    }
  }
  if (auto it = in.find("category"); it != in.end() && !it->is_null()) {
    if (!it->is_string() || !parse_category(it->get_ref<const std::string&>())) {
      return bad("category must be offer | request | info | emergency");
    }
    q.category = parse_category(it->get_ref<const std::string&>());
  }
  if (auto it = in.find("tags"); it != in.end() && !it->is_null()) {
    // The same normalisation as a post's tags (lower case).
    auto draft = parse_created_data(Json{{"client_id", "x"},
                                         {"category", "info"},
                                         {"title", "x"},
                                         {"ttl_seconds", 1},
                                         {"tags", *it}});
    if (!draft) return draft.take_error();
    q.tags = std::move(draft->tags);
  }
  if (auto it = in.find("since_lamport"); it != in.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0)
      return bad("since_lamport must be an integer ≥ 0");
    q.since_lamport = it->get<Lamport>();
  }
  if (auto it = in.find("limit"); it != in.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 1 ||
        it->get<std::int64_t>() > MARKET_LIST_MAX_LIMIT) {
      return bad("limit must be 1.." + std::to_string(MARKET_LIST_MAX_LIMIT));
    }
    q.limit = it->get<int>();
  }
  if (auto it = in.find("cursor"); it != in.end() && !it->is_null()) {
    // "<lamport>:<event_id>" of the last post of the previous page (next_cursor).
    const std::string c = it->is_string() ? it->get<std::string>() : std::string();
    const auto colon = c.find(':');
    Lamport lamport = -1;
    if (colon != std::string::npos && colon > 0 && colon <= 16 &&
        std::all_of(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(colon),
                    [](char ch) { return ch >= '0' && ch <= '9'; })) {
      lamport = std::stoll(c.substr(0, colon));
    }
    if (lamport < 0 || c.size() - colon - 1 == 0 || c.size() - colon - 1 > 64) {
      return bad("cursor must be the next_cursor of a previous page");
    }
    q.before = std::make_pair(lamport, c.substr(colon + 1));
  }
  return q;
}

Json posts_json(const std::vector<Post>& posts) {
  Json out = Json::array();
  for (const auto& p : posts) out.push_back(p.to_json());
  return out;
}

}  // namespace

MarketService::MarketService(const service::ServiceContext& ctx, MarketOptions options)
    : m_node_id(ctx.node_id),
      m_log(ctx.log),
      m_replay(ctx.replay),
      m_bus(ctx.bus),
      m_publisher(ctx.publisher),
      m_community(ctx.community_manifest),
      m_clock(ctx.clock),
      m_options(options) {}

MarketService::~MarketService() { stop(); }

std::optional<TrustLevel> MarketService::level_of(const NodeId& node) const {
  if (!m_community) return std::nullopt;
  const auto m = m_community();
  if (!m) return std::nullopt;
  return m->level_of(node);
}

std::vector<std::string> MarketService::revoked_authors() const {
  std::vector<std::string> out;
  if (!m_community) return out;
  if (const auto m = m_community()) {
    for (const auto& r : m->revoked) out.push_back(r.node_id.str());
  }
  return out;
}

Status MarketService::start() {
  if (!m_options.enabled) return {};
  HN_TRY_ASSIGN(auto view, MarketView::open([this](const NodeId& n) { return level_of(n); }));
  m_view = std::move(view);
  HN_TRY(m_replay.register_view(*m_view, MarketView::event_types()));
  m_registered = true;
  // CONTRACT §8: every post and expiry this node learns of, local or synced.
  m_topics = m_log.subscribe(
      [this](const events::Event& e) {
        const char* topic = e.event_type == events::EventType::market_post_created
                                ? TOPIC_POST_CREATED
                                : TOPIC_POST_EXPIRED;
        m_publisher.publish(topic, events::to_json(e));
      },
      {events::EventType::market_post_created, events::EventType::market_post_expired});
  m_stopping = false;
  m_sweeper = std::thread([this] { sweeper_loop(); });
  return {};
}

void MarketService::stop() {
  {
    std::lock_guard lock(m_sweep_mutex);
    m_stopping = true;
  }
  m_sweep_cv.notify_all();
  if (m_sweeper.joinable()) m_sweeper.join();
  m_topics.reset();
  if (m_registered) {
    m_replay.unregister_view(m_view->name());
    m_registered = false;
  }
}

Json MarketService::health() const {
  if (!m_view) return Json{{"enabled", false}};
  Json h = m_view->counts(m_clock.now_ms());
  h["max_lamport"] = m_view->max_lamport();
  {
    std::lock_guard lock(m_cache_mutex);
    h["embedding_cache"] = m_embeddings.size();
  }
  h["swept"] = m_swept.load();
  return h;
}

std::vector<bus::LocalCapability> MarketService::capabilities() {
  if (!m_options.enabled) return {};
  auto descriptors = market_descriptors();
  using Handler = Result<Json> (MarketService::*)(const bus::CallContext&, const Json&);
  const Handler handlers[] = {&MarketService::handle_list, &MarketService::handle_post,
                              &MarketService::handle_expire, &MarketService::handle_search};
  std::vector<bus::LocalCapability> caps;
  for (std::size_t i = 0; i < descriptors.size(); ++i) {
    bus::LocalCapability cap;
    cap.descriptor = std::move(descriptors[i]);
    cap.handler = [this, h = handlers[i]](const bus::CallContext& ctx, const Json& body) {
      return (this->*h)(ctx, body);
    };
    caps.push_back(std::move(cap));
  }
  return caps;
}

Status MarketService::check_writer(const bus::CallContext& ctx) const {
  // Writes are signed with this node's key: only the node itself may ask for one.
  if (ctx.request.caller != m_node_id) {
    return make_error(ErrorCode::unauthorized,
                      "market writes are signed by the node that makes them: call your own node");
  }
  if (m_community) {
    if (const auto m = m_community(); m && m->is_revoked(m_node_id)) {
      return make_error(ErrorCode::revoked, "this node was revoked from the community");
    }
  }
  return {};
}

void MarketService::remember(const std::string& key, const Written& w) {
  if (m_written.emplace(key, w).second) m_written_order.push_back(key);
  while (m_written_order.size() > MAX_REMEMBERED_WRITES) {
    m_written.erase(m_written_order.front());
    m_written_order.pop_front();
  }
}

Result<Json> MarketService::handle_list(const bus::CallContext&, const Json& body) {
  HN_TRY_ASSIGN(auto q, parse_list_input(body["input"]));
  q.hidden_authors = revoked_authors();
  const Lamport max_lamport = m_view->max_lamport();
  HN_TRY_ASSIGN(auto page, m_view->list(q, m_clock.now_ms()));
  Json out{{"posts", posts_json(page.posts)}, {"max_lamport", max_lamport}};
  if (page.more && !page.posts.empty()) {
    out["next_cursor"] =
        std::to_string(page.posts.back().lamport) + ":" + page.posts.back().event_id.str();
  }
  return Json{{"output", std::move(out)}};
}

Result<Json> MarketService::handle_post(const bus::CallContext& ctx, const Json& body) {
  HN_TRY(check_writer(ctx));
  HN_TRY_ASSIGN(auto draft, parse_post_input(body["input"], m_options.default_ttl_seconds,
                                             m_options.max_ttl_seconds));
  std::lock_guard lock(m_write_mutex);
  // CONTRACT §4.12: idempotent by client_id — the same (author, client_id) is the same post.
  const std::string key = "post:" + draft.client_id;
  if (auto it = m_written.find(key); it != m_written.end()) {
    return Json{{"output",
                 {{"event_id", it->second.event_id.str()},
                  {"lamport", it->second.lamport},
                  {"duplicate", true}}}};
  }
  HN_TRY_ASSIGN(auto existing, m_view->find_by_client(m_node_id, draft.client_id));
  if (existing) {
    return Json{{"output",
                 {{"event_id", existing->event_id.str()},
                  {"lamport", existing->lamport},
                  {"duplicate", true}}}};
  }
  HN_TRY_ASSIGN(auto event,
                m_log.append_local(events::EventType::market_post_created, to_event_data(draft)));
  remember(key, Written{event.event_id, event.lamport});
  return Json{{"output", {{"event_id", event.event_id.str()}, {"lamport", event.lamport}}}};
}

Result<Json> MarketService::handle_expire(const bus::CallContext& ctx, const Json& body) {
  HN_TRY(check_writer(ctx));
  HN_TRY_ASSIGN(auto e, parse_expire_input(body["input"]));
  std::lock_guard lock(m_write_mutex);
  const std::string key = "expire:" + e.client_id;
  if (auto it = m_written.find(key); it != m_written.end()) {
    return Json{{"output",
                 {{"event_id", it->second.event_id.str()},
                  {"lamport", it->second.lamport},
                  {"duplicate", true}}}};
  }
  HN_TRY_ASSIGN(auto found, m_view->get(e.target_event_id));
  if (!found)
    return make_error(ErrorCode::not_found, "no marketplace post " + e.target_event_id.str());
  const Post& post = *found;
  // M06 §4.4: the author for any reason; trusted members and anchors moderate (not for
  // user_request, the author's own wish).
  if (post.author != m_node_id) {
    const auto level = level_of(m_node_id);
    const bool moderator = level && (*level == TrustLevel::trusted || *level == TrustLevel::anchor);
    if (!moderator) {
      return make_error(ErrorCode::unauthorized,
                        "only the post's author or a trusted member may expire it");
    }
    if (e.reason == ExpiryReason::user_request) {
      return make_error(ErrorCode::unauthorized, "reason user_request is the author's alone");
    }
  }
  if (post.expired_via_event_id) {
    // Expired before (by anyone): the first expiry stands (de-duplicated by target).
    return Json{{"output",
                 {{"event_id", post.expired_via_event_id->str()},
                  {"lamport", post.expired_lamport.value_or(0)},
                  {"duplicate", true}}}};
  }
  HN_TRY_ASSIGN(auto event,
                m_log.append_local(events::EventType::market_post_expired, to_event_data(e)));
  remember(key, Written{event.event_id, event.lamport});
  return Json{{"output", {{"event_id", event.event_id.str()}, {"lamport", event.lamport}}}};
}

int MarketService::sweep_once() {
  if (!m_view) return 0;
  // M06 §4.2: our own posts always; every post when we are an anchor (or a trusted
  // moderator). The view takes a `stale` expiry from anyone once expires_at has passed.
  const auto level = level_of(m_node_id);
  const bool everyone = level && (*level == TrustLevel::anchor || *level == TrustLevel::trusted);
  if (m_community) {
    if (const auto m = m_community(); m && m->is_revoked(m_node_id)) return 0;
  }
  auto due = m_view->due(m_clock.now_ms(), SWEEP_BATCH,
                         everyone ? std::nullopt : std::optional<NodeId>(m_node_id));
  if (!due) return 0;
  int n = 0;
  std::lock_guard lock(m_write_mutex);
  for (const auto& post : *due) {
    auto now = m_view->get(post.event_id);
    if (!now || !*now || (*now)->expired_via_event_id) continue;  // expired meanwhile
    // One client_id per target: our own repeated sweeps are one expiry.
    ExpireData e{"sweep-" + post.event_id.str(), post.event_id, ExpiryReason::stale};
    if (m_written.count("expire:" + e.client_id)) continue;
    auto event = m_log.append_local(events::EventType::market_post_expired, to_event_data(e));
    if (!event) break;  // storage trouble: the next pass tries again
    remember("expire:" + e.client_id, Written{event->event_id, event->lamport});
    ++n;
  }
  m_swept += n;
  return n;
}

void MarketService::sweeper_loop() {
  std::unique_lock lock(m_sweep_mutex);
  while (!m_stopping) {
    m_sweep_cv.wait_for(lock, std::chrono::seconds(std::max(1, m_options.sweep_seconds)),
                        [this] { return m_stopping; });
    if (m_stopping) break;
    lock.unlock();
    sweep_once();
    lock.lock();
  }
}

std::unique_ptr<bus::Service> make_service(const service::ServiceContext& ctx) {
  MarketOptions o;
  o.enabled = ctx.config.market.enabled;
  o.default_ttl_seconds = ctx.config.market.default_ttl_seconds;
  o.max_ttl_seconds = ctx.config.market.max_ttl_seconds;
  if (const char* hook = std::getenv("HEARTHNET_MARKET_SWEEP_SECONDS")) {
    const int s = std::atoi(hook);
    if (s >= 1) o.sweep_seconds = s;
  }
  return std::make_unique<MarketService>(ctx, o);
}

}  // namespace hn::services::market
