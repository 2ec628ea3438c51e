// mdns_avahi.cpp — MdnsAnnouncer / MdnsBrowser on the Avahi client library with an
// AvahiThreadedPoll (M02 §3.2, §3.3). Avahi callbacks run on the poll thread with the
// poll lock held; calls from other threads take the lock (avahi_threaded_poll_lock).
#include "discovery/mdns.h"

#include <atomic>
#include <mutex>

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-client/publish.h>
#include <avahi-common/address.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>
#include <avahi-common/thread-watch.h>
#include <boost/asio/post.hpp>

#include "discovery/discovery_log.h"

namespace hn::discovery {
namespace {

constexpr std::string_view COMPONENT = "discovery.mdns";

// An Avahi daemon connection driven by its own poll thread.
struct AvahiSession {
  AvahiThreadedPoll* poll = nullptr;
  AvahiClient* client = nullptr;

  Status open(AvahiClientCallback callback, void* userdata, std::string_view what) {
    poll = avahi_threaded_poll_new();
    if (!poll) return make_error(ErrorCode::mdns_unavailable, "avahi: cannot create poll");
    int err = 0;
    // The callback may run synchronously inside avahi_client_new (state S_RUNNING).
    client = avahi_client_new(avahi_threaded_poll_get(poll), static_cast<AvahiClientFlags>(0),
                              callback, userdata, &err);
    if (!client) {
      avahi_threaded_poll_free(poll);
      poll = nullptr;
      std::string msg = std::string("avahi daemon not reachable (") + avahi_strerror(err) +
                        "); " + std::string(what) + " disabled, UDP discovery only";
      discovery_log(LogSeverity::warning, COMPONENT, msg);
      return make_error(ErrorCode::mdns_unavailable, msg);
    }
    return {};
  }
  Status run() {
    if (avahi_threaded_poll_start(poll) < 0) {
      return make_error(ErrorCode::mdns_unavailable, "avahi: cannot start poll thread");
    }
    return {};
  }
  // Stops the thread first, so no callback runs while the client is freed.
  void close() {
    if (poll) avahi_threaded_poll_stop(poll);
    if (client) avahi_client_free(client);  // frees entry groups, browsers, resolvers
    if (poll) avahi_threaded_poll_free(poll);
    client = nullptr;
    poll = nullptr;
  }
  void lock() { avahi_threaded_poll_lock(poll); }
  void unlock() { avahi_threaded_poll_unlock(poll); }
};

AvahiStringList* make_txt(const MdnsServiceInfo& info) {
  auto records = build_txt_records(info);
  AvahiStringList* list = nullptr;
  // avahi_string_list_add_pair prepends: add in reverse to keep the §3.3 order.
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    list = avahi_string_list_add_pair(list, it->first.c_str(), it->second.c_str());
  }
  return list;
}

}  // namespace

// --- MdnsAnnouncer --------------------------------------------------------------------------

struct MdnsAnnouncer::Impl {
  MdnsServiceInfo info;
  std::string name;  // guarded by the poll lock once running
  AvahiSession session;
  AvahiEntryGroup* group = nullptr;
  std::atomic<bool> established{false};
  bool started = false;
  mutable std::mutex name_mutex;

  void set_name(std::string n) {
    std::lock_guard lock(name_mutex);
    name = std::move(n);
  }
  std::string get_name() const {
    std::lock_guard lock(name_mutex);
    return name;
  }

  void pick_alternative_name() {
    char* alt = avahi_alternative_service_name(get_name().c_str());
    discovery_log(LogSeverity::warning, COMPONENT,
                  "service name collision, renaming to '" + std::string(alt) + "'");
    set_name(alt);
    avahi_free(alt);
  }

  // Adds the service to the (empty) entry group and commits it. Poll lock held.
  void create_services(AvahiClient* client) {
    if (!group) {
      group = avahi_entry_group_new(client, &Impl::on_group, this);
      if (!group) {
        discovery_log(LogSeverity::warning, COMPONENT,
                      std::string("entry group: ") + avahi_strerror(avahi_client_errno(client)));
        return;
      }
    }
    if (!avahi_entry_group_is_empty(group)) return;
    for (int attempt = 0; attempt < 16; ++attempt) {
      AvahiStringList* txt = make_txt(info);
      int ret = avahi_entry_group_add_service_strlst(
          group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, static_cast<AvahiPublishFlags>(0),
          get_name().c_str(), MDNS_SERVICE_TYPE, nullptr, nullptr, info.port, txt);
      avahi_string_list_free(txt);
      if (ret == AVAHI_ERR_COLLISION) {
        pick_alternative_name();
        avahi_entry_group_reset(group);
        continue;
      }
      if (ret < 0) {
        discovery_log(LogSeverity::warning, COMPONENT,
                      std::string("add service: ") + avahi_strerror(ret));
        return;
      }
      ret = avahi_entry_group_commit(group);
      if (ret < 0) {
        discovery_log(LogSeverity::warning, COMPONENT,
                      std::string("commit: ") + avahi_strerror(ret));
      }
      return;
    }
  }

  static void on_group(AvahiEntryGroup* g, AvahiEntryGroupState state, void* userdata) {
    auto* self = static_cast<Impl*>(userdata);
    switch (state) {
      case AVAHI_ENTRY_GROUP_ESTABLISHED:
        self->established = true;
        break;
      case AVAHI_ENTRY_GROUP_COLLISION:
        self->established = false;
        self->pick_alternative_name();
        avahi_entry_group_reset(g);
        self->group = g;
        self->create_services(avahi_entry_group_get_client(g));
        break;
      case AVAHI_ENTRY_GROUP_FAILURE:
        self->established = false;
        discovery_log(LogSeverity::warning, COMPONENT,
                      std::string("entry group failure: ") +
                          avahi_strerror(avahi_client_errno(avahi_entry_group_get_client(g))));
        break;
      default:
        break;
    }
  }

  static void on_client(AvahiClient* client, AvahiClientState state, void* userdata) {
    auto* self = static_cast<Impl*>(userdata);
    switch (state) {
      case AVAHI_CLIENT_S_RUNNING:
        self->create_services(client);
        break;
      case AVAHI_CLIENT_S_COLLISION:
      case AVAHI_CLIENT_S_REGISTERING:
        self->established = false;
        if (self->group) avahi_entry_group_reset(self->group);
        break;
      case AVAHI_CLIENT_FAILURE:
        self->established = false;
        discovery_log(LogSeverity::warning, COMPONENT,
                      std::string("avahi client failure: ") +
                          avahi_strerror(avahi_client_errno(client)));
        break;
      default:
        break;
    }
  }
};

MdnsAnnouncer::MdnsAnnouncer(MdnsServiceInfo info) : m_impl(std::make_shared<Impl>()) {
  m_impl->name = mdns_instance_name(info.display_name, info.node_short);
  m_impl->info = std::move(info);
}

MdnsAnnouncer::~MdnsAnnouncer() { stop(); }

Status MdnsAnnouncer::start() {
  if (m_impl->started) return {};
  HN_TRY(m_impl->session.open(&Impl::on_client, m_impl.get(), "mDNS announcer"));
  Status run = m_impl->session.run();
  if (!run) {
    m_impl->session.close();
    m_impl->group = nullptr;
    return run;
  }
  m_impl->started = true;
  return {};
}

void MdnsAnnouncer::stop() {
  if (!m_impl->started) return;
  m_impl->started = false;
  m_impl->session.close();  // freeing the client withdraws the entry group
  m_impl->group = nullptr;
  m_impl->established = false;
}

Status MdnsAnnouncer::update_capabilities(std::vector<std::string> caps) {
  if (!m_impl->started) {
    m_impl->info.caps = std::move(caps);
    return {};
  }
  m_impl->session.lock();
  bool changed = join_caps_truncated(caps) != join_caps_truncated(m_impl->info.caps);
  m_impl->info.caps = std::move(caps);
  int ret = 0;
  if (changed && m_impl->group && !avahi_entry_group_is_empty(m_impl->group)) {
    AvahiStringList* txt = make_txt(m_impl->info);
    ret = avahi_entry_group_update_service_txt_strlst(
        m_impl->group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, static_cast<AvahiPublishFlags>(0),
        m_impl->get_name().c_str(), MDNS_SERVICE_TYPE, nullptr, txt);
    avahi_string_list_free(txt);
  }
  m_impl->session.unlock();
  if (ret < 0) {
    return make_error(ErrorCode::mdns_unavailable,
                      std::string("avahi: update TXT: ") + avahi_strerror(ret));
  }
  return {};
}

std::string MdnsAnnouncer::instance_name() const { return m_impl->get_name(); }

bool MdnsAnnouncer::established() const { return m_impl->established.load(); }

// --- MdnsBrowser ----------------------------------------------------------------------------

struct MdnsBrowser::Impl : std::enable_shared_from_this<MdnsBrowser::Impl> {
  boost::asio::io_context& io;
  std::string our_node_short;
  std::string our_community_short;
  SightingSink sink;
  Observer observer;
  AvahiSession session;
  AvahiServiceBrowser* browser = nullptr;
  // Poll-thread state (poll lock held).
  std::map<std::string, AvahiServiceResolver*> resolvers;
  std::map<std::string, std::map<std::string, std::string>> last_txt;
  std::atomic<bool> running{false};
  mutable std::mutex stats_mutex;
  MdnsBrowserStats stats;

  Impl(boost::asio::io_context& io_, std::string node, std::string community, SightingSink s,
       Observer o)
      : io(io_),
        our_node_short(std::move(node)),
        our_community_short(std::move(community)),
        sink(std::move(s)),
        observer(std::move(o)) {}

  static std::string key_of(AvahiIfIndex iface, AvahiProtocol proto, const char* name,
                            const char* domain) {
    return std::to_string(iface) + "/" + std::to_string(proto) + "/" + (name ? name : "") + "/" +
           (domain ? domain : "");
  }

  void count(std::uint64_t MdnsBrowserStats::*field) {
    std::lock_guard lock(stats_mutex);
    ++(stats.*field);
  }

  // On the io_context thread: filter and hand on.
  void deliver(const MdnsResolved& r, bool changed) {
    if (!running) return;
    count(&MdnsBrowserStats::resolved);
    if (observer) observer(r);
    auto txt = parse_txt_records(r.txt);
    if (!txt) {
      count(&MdnsBrowserStats::malformed);
      return;
    }
    if (txt->node_short == our_node_short) {
      count(&MdnsBrowserStats::own);
      return;
    }
    if (txt->community_short != our_community_short) {
      count(&MdnsBrowserStats::foreign);
      return;
    }
    count(&MdnsBrowserStats::accepted);
    if (!sink) return;
    Sighting s;
    s.endpoint = PeerEndpoint{r.address, r.port};
    s.source = PeerSource::mdns;
    s.node_short = txt->node_short;
    s.changed = changed;  // M02 §4.2: a TXT update triggers a refetch
    sink(s);
  }

  static void on_resolve(AvahiServiceResolver* r, AvahiIfIndex iface, AvahiProtocol proto,
                         AvahiResolverEvent event, const char* name, const char* /*type*/,
                         const char* domain, const char* host_name, const AvahiAddress* address,
                         uint16_t port, AvahiStringList* txt, AvahiLookupResultFlags /*flags*/,
                         void* userdata) {
    auto* self = static_cast<Impl*>(userdata);
    std::string key = key_of(iface, proto, name, domain);
    if (event != AVAHI_RESOLVER_FOUND) {
      // A failed resolver is finished; drop it so a later "new" event starts over.
      auto it = self->resolvers.find(key);
      if (it != self->resolvers.end() && it->second == r) {
        self->resolvers.erase(it);
        avahi_service_resolver_free(r);
      }
      return;
    }
    MdnsResolved res;
    res.instance_name = name ? name : "";
    res.host_name = host_name ? host_name : "";
    char addr[AVAHI_ADDRESS_STR_MAX] = {0};
    if (address) avahi_address_snprint(addr, sizeof addr, address);
    res.address = addr;
    res.port = port;
    for (AvahiStringList* l = txt; l; l = avahi_string_list_get_next(l)) {
      char* k = nullptr;
      char* v = nullptr;
      size_t size = 0;
      if (avahi_string_list_get_pair(l, &k, &v, &size) == 0 && k) {
        res.txt[k] = v ? std::string(v, size) : std::string();
      }
      avahi_free(k);
      avahi_free(v);
    }
    if (res.address.empty() || res.port == 0) return;
    auto prev = self->last_txt.find(key);
    bool changed = prev != self->last_txt.end() && prev->second != res.txt;
    self->last_txt[key] = res.txt;
    boost::asio::post(self->io, [impl = self->shared_from_this(), res = std::move(res), changed] {
      impl->deliver(res, changed);
    });
  }

  static void on_browse(AvahiServiceBrowser* b, AvahiIfIndex iface, AvahiProtocol proto,
                        AvahiBrowserEvent event, const char* name, const char* type,
                        const char* domain, AvahiLookupResultFlags /*flags*/, void* userdata) {
    auto* self = static_cast<Impl*>(userdata);
    switch (event) {
      case AVAHI_BROWSER_NEW: {
        std::string key = key_of(iface, proto, name, domain);
        if (self->resolvers.count(key)) break;
        // The resolver stays open, so TXT changes are reported again (M02 §4.2).
        AvahiServiceResolver* r = avahi_service_resolver_new(
            avahi_service_browser_get_client(b), iface, proto, name, type, domain,
            AVAHI_PROTO_INET, static_cast<AvahiLookupFlags>(0), &Impl::on_resolve, self);
        if (r) self->resolvers[key] = r;
        break;
      }
      case AVAHI_BROWSER_REMOVE: {
        std::string key = key_of(iface, proto, name, domain);
        auto it = self->resolvers.find(key);
        if (it != self->resolvers.end()) {
          avahi_service_resolver_free(it->second);
          self->resolvers.erase(it);
        }
        self->last_txt.erase(key);
        break;  // the registry prunes the peer once it stops being seen (M02 §4.2)
      }
      case AVAHI_BROWSER_FAILURE:
        discovery_log(LogSeverity::warning, COMPONENT,
                      std::string("browser failure: ") +
                          avahi_strerror(avahi_client_errno(avahi_service_browser_get_client(b))));
        break;
      default:
        break;
    }
  }

  static void on_client(AvahiClient* client, AvahiClientState state, void* /*userdata*/) {
    if (state == AVAHI_CLIENT_FAILURE) {
      discovery_log(LogSeverity::warning, COMPONENT,
                    std::string("avahi client failure: ") +
                        avahi_strerror(avahi_client_errno(client)));
    }
  }
};

MdnsBrowser::MdnsBrowser(boost::asio::io_context& io, std::string our_node_short,
                         std::string our_community_short, SightingSink sink, Observer observer)
    : m_impl(std::make_shared<Impl>(io, std::move(our_node_short), std::move(our_community_short),
                                    std::move(sink), std::move(observer))) {}

MdnsBrowser::~MdnsBrowser() { stop(); }

Status MdnsBrowser::start() {
  if (m_impl->running) return {};
  HN_TRY(m_impl->session.open(&Impl::on_client, m_impl.get(), "mDNS browser"));
  m_impl->browser = avahi_service_browser_new(
      m_impl->session.client, AVAHI_IF_UNSPEC, AVAHI_PROTO_INET, MDNS_SERVICE_TYPE, nullptr,
      static_cast<AvahiLookupFlags>(0), &Impl::on_browse, m_impl.get());
  if (!m_impl->browser) {
    std::string msg = std::string("avahi: service browser: ") +
                      avahi_strerror(avahi_client_errno(m_impl->session.client));
    m_impl->session.close();
    discovery_log(LogSeverity::warning, COMPONENT, msg);
    return make_error(ErrorCode::mdns_unavailable, msg);
  }
  m_impl->running = true;
  Status run = m_impl->session.run();
  if (!run) {
    m_impl->running = false;
    m_impl->session.close();
    m_impl->browser = nullptr;
    return run;
  }
  return {};
}

void MdnsBrowser::stop() {
  if (!m_impl->running.exchange(false)) return;
  m_impl->session.close();  // frees the browser and every resolver
  m_impl->browser = nullptr;
  m_impl->resolvers.clear();
  m_impl->last_txt.clear();
}

MdnsBrowserStats MdnsBrowser::stats() const {
  std::lock_guard lock(m_impl->stats_mutex);
  return m_impl->stats;
}

}  // namespace hn::discovery
