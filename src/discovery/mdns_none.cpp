// mdns_none.cpp — MdnsAnnouncer / MdnsBrowser for builds without the Avahi client library:
// start() always reports mdns_unavailable (M02 §5), so the node runs UDP-only.
#include "discovery/discovery_log.h"
#include "discovery/mdns.h"

namespace hn::discovery {
namespace {

Status unavailable(std::string_view what) {
  std::string msg = "built without Avahi; " + std::string(what) + " disabled, UDP discovery only";
  discovery_log(LogSeverity::warning, "discovery.mdns", msg);
  return make_error(ErrorCode::mdns_unavailable, msg);
}

}  // namespace

struct MdnsAnnouncer::Impl {
  MdnsServiceInfo info;
};

MdnsAnnouncer::MdnsAnnouncer(MdnsServiceInfo info) : m_impl(std::make_shared<Impl>()) {
  m_impl->info = std::move(info);
}
MdnsAnnouncer::~MdnsAnnouncer() = default;
Status MdnsAnnouncer::start() { return unavailable("mDNS announcer"); }
void MdnsAnnouncer::stop() {}
Status MdnsAnnouncer::update_capabilities(std::vector<std::string> caps) {
  m_impl->info.caps = std::move(caps);
  return {};
}
std::string MdnsAnnouncer::instance_name() const {
  return mdns_instance_name(m_impl->info.display_name, m_impl->info.node_short);
}
bool MdnsAnnouncer::established() const { return false; }

struct MdnsBrowser::Impl {};

MdnsBrowser::MdnsBrowser(boost::asio::io_context&, std::string, std::string, SightingSink,
                         Observer)
    : m_impl(std::make_shared<Impl>()) {}
MdnsBrowser::~MdnsBrowser() = default;
Status MdnsBrowser::start() { return unavailable("mDNS browser"); }
void MdnsBrowser::stop() {}
MdnsBrowserStats MdnsBrowser::stats() const { return {}; }

}  // namespace hn::discovery
