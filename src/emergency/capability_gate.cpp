// capability_gate.cpp — requires_internet capabilities off the bus while offline (M09 §5.2).
#include "emergency/capability_gate.h"

#include "observability/logging.h"

namespace hn::emergency {
namespace {

observability::Logger& gate_log() {
  static observability::Logger logger = observability::get_logger("emergency");
  return logger;
}

std::string label(const bus::EntryKey& k) { return k.name + "@" + k.version.to_string(); }

}  // namespace

bool requires_internet(const bus::CapabilityDescriptor& d) {
  const Json& p = d.params.get();
  if (!p.is_object()) return false;
  const auto it = p.find("requires_internet");
  return it != p.end() && it->is_boolean() && it->get<bool>();
}

CapabilityGate::CapabilityGate(bus::Registry& registry) : m_registry(registry) {
  m_subscription = m_registry.subscribe([this](const bus::RegistryEvent& ev) {
    if (ev.kind == bus::RegistryEventKind::removed || !ev.entry.is_local) return;
    if (!requires_internet(ev.entry.descriptor)) return;
    std::lock_guard lock(m_mutex);
    if (m_closed) take_off(ev.entry);
  });
}

CapabilityGate::~CapabilityGate() { m_registry.unsubscribe(m_subscription); }

void CapabilityGate::take_off(const bus::CapabilityEntry& e) {
  if (!e.local) return;
  if (!m_registry.deregister_local(e.descriptor.name, e.descriptor.version)) return;
  m_held[e.key()] = *e.local;
  gate_log().info("offline: capability withdrawn",
                  Json{{"capability", e.descriptor.name},
                       {"version", e.descriptor.version.to_string()}});
}

std::vector<std::string> CapabilityGate::close() {
  std::lock_guard lock(m_mutex);
  m_closed = true;
  for (const auto& e : m_registry.all_local()) {
    if (requires_internet(e.descriptor)) take_off(e);
  }
  std::vector<std::string> out;
  for (const auto& [k, cap] : m_held) out.push_back(label(k));
  return out;
}

std::vector<std::string> CapabilityGate::open() {
  std::map<bus::EntryKey, bus::LocalCapability> held;
  {
    std::lock_guard lock(m_mutex);
    m_closed = false;
    held.swap(m_held);
  }
  std::vector<std::string> out;
  for (auto& [k, cap] : held) {
    // Validated when its service registered it; any allocated prefix is accepted here.
    if (auto s = m_registry.register_local(std::move(cap)); !s) {
      gate_log().warning("online: capability not restored",
                      Json{{"capability", label(k)}, {"error", s.error().to_string()}});
      continue;
    }
    gate_log().info("online: capability restored", Json{{"capability", label(k)}});
    out.push_back(label(k));
  }
  return out;
}

bool CapabilityGate::is_closed() const {
  std::lock_guard lock(m_mutex);
  return m_closed;
}

std::vector<std::string> CapabilityGate::withdrawn() const {
  std::lock_guard lock(m_mutex);
  std::vector<std::string> out;
  for (const auto& [k, cap] : m_held) out.push_back(label(k));
  return out;
}

}  // namespace hn::emergency
