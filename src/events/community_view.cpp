// community_view.cpp — membership state from community.* events (see community_view.h).
#include "events/community_view.h"

#include "core/time.h"
#include "events/governance.h"
#include "identity/manifest.h"

namespace hn::events {
namespace {

std::optional<std::string> str_of(const Json& data, const char* key) {
  auto it = data.find(key);
  if (it == data.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<TrustLevel> member_level(std::string_view text) {
  auto level = parse_trust_level(text);
  if (!level || *level == TrustLevel::unknown || *level == TrustLevel::self) return std::nullopt;
  return level;
}

void admit(CommunityState& s, const NodeId& node, const PendingInvite& invite, const WallClock& at,
           Lamport lamport) {
  CommunityMember m;
  m.node_id = node;
  m.level = invite.initial_level;
  m.added_at = at;
  m.added_by = invite.inviter;
  m.display_name = invite.display_name;
  m.lamport = lamport;
  s.members[node.str()] = std::move(m);
  s.invites.erase(node.str());
  s.pending_joins.erase(node.str());
}

bool join_in_time(const PendingInvite& invite, const WallClock& joined_at) {
  if (invite.expires_at.empty()) return true;
  auto expires = parse_rfc3339_ms(invite.expires_at);
  auto joined = parse_rfc3339_ms(joined_at);
  return !expires || !joined || *joined <= *expires;
}

void apply_event(CommunityState& s, const Event& e) {
  const Json& d = e.data;
  const std::string author = e.author.str();
  switch (e.event_type) {
    case EventType::community_created: {
      auto founder = str_of(d, "founder_node_id");
      if (s.created || !founder || *founder != author) return;
      s.created = true;
      s.name = str_of(d, "name").value_or("");
      s.root_key = e.author;
      s.created_at = e.wall_clock;
      s.lamport_at_creation = e.lamport;
      auto policy = d.find("policy");
      s.policy = policy != d.end() && policy->is_object() ? *policy : Json::object();
      s.members[author] = CommunityMember{e.author, TrustLevel::anchor, e.wall_clock, e.author, "", e.lamport};
      break;
    }
    case EventType::community_member_invited: {
      auto invitee = str_of(d, "invitee_node_id");
      if (!invitee || !s.members.count(author) || s.revoked.count(*invitee) || s.members.count(*invitee)) return;
      PendingInvite inv;
      inv.invitee = NodeId(*invitee);
      inv.inviter = e.author;
      inv.invite_event_id = e.event_id;
      inv.display_name = str_of(d, "display_name").value_or("");
      auto level = str_of(d, "initial_level");
      if (level) {
        auto parsed = member_level(*level);
        if (!parsed || *parsed == TrustLevel::anchor) return;  // CONTRACT §4.17
        inv.initial_level = *parsed;
      }
      inv.expires_at = str_of(d, "expires_at").value_or("");
      auto join = s.pending_joins.find(*invitee);
      if (join != s.pending_joins.end()) {
        PendingJoin pj = join->second;
        if (join_in_time(inv, pj.joined_at)) {
          admit(s, inv.invitee, inv, pj.joined_at, pj.lamport);
          break;
        }
        s.pending_joins.erase(join);
      }
      s.invites[*invitee] = std::move(inv);
      break;
    }
    case EventType::community_member_joined: {
      if (s.revoked.count(author) || s.members.count(author)) return;
      auto inv = s.invites.find(author);
      if (inv == s.invites.end()) {
        s.pending_joins[author] = PendingJoin{e.author, e.wall_clock, e.lamport};
        break;
      }
      auto invite_id = str_of(d, "invite_event_id");
      if (invite_id && *invite_id != inv->second.invite_event_id.str()) return;
      if (!join_in_time(inv->second, e.wall_clock)) return;
      PendingInvite copy = inv->second;
      admit(s, e.author, copy, e.wall_clock, e.lamport);
      break;
    }
    case EventType::community_member_revoked:
    case EventType::community_member_promoted:
    case EventType::community_member_demoted:
      if (!apply_governance(s, e)) return;
      break;
    case EventType::community_policy_updated: {
      auto policy = d.find("policy");
      if (!s.created || author != s.root_key.str() || policy == d.end() || !policy->is_object()) return;
      if (!identity::parse_community_policy(*policy)) return;  // M01: a whole, valid policy
      s.policy = *policy;
      break;
    }
    default:
      return;
  }
  s.head_lamport = std::max(s.head_lamport, e.lamport);
}

// -- JSON form -----------------------------------------------------------------------

Error bad_state(const std::string& what) {
  return make_error(ErrorCode::bad_request, "community view state: " + what);
}

Result<std::string> req_str(const Json& j, const char* key) {
  auto v = str_of(j, key);
  if (!v) return bad_state(std::string("'") + key + "' missing or not a string");
  return *v;
}

Result<Lamport> req_int(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !(it->is_number_integer() || it->is_number_unsigned())) {
    return bad_state(std::string("'") + key + "' missing or not an integer");
  }
  auto v = it->get<std::int64_t>();
  if (v < 0 || v > MAX_LAMPORT) return bad_state(std::string("'") + key + "' out of range");
  return v;
}

Result<TrustLevel> req_level(const Json& j, const char* key) {
  HN_TRY_ASSIGN(auto text, req_str(j, key));
  auto level = member_level(text);
  if (!level) return bad_state("bad level '" + text.substr(0, 32) + "'");
  return *level;
}

Result<const Json*> req_array(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return bad_state(std::string("'") + key + "' missing or not an array");
  return &*it;
}

}  // namespace

std::vector<EventType> CommunityView::event_types() {
  return {EventType::community_created,        EventType::community_member_invited,
          EventType::community_member_joined,  EventType::community_member_revoked,
          EventType::community_member_promoted, EventType::community_member_demoted,
          EventType::community_policy_updated};
}

void CommunityView::reset() {
  std::lock_guard lk(m_mutex);
  m_state = CommunityState{};
}

void CommunityView::apply(const Event& event) {
  std::lock_guard lk(m_mutex);
  apply_event(m_state, event);
}

Json CommunityView::snapshot_state() const {
  std::lock_guard lk(m_mutex);
  return community_state_to_json(m_state);
}

Status CommunityView::restore_state(const Json& state) {
  HN_TRY_ASSIGN(auto parsed, community_state_from_json(state));
  std::lock_guard lk(m_mutex);
  m_state = std::move(parsed);
  return {};
}

CommunityState CommunityView::state() const {
  std::lock_guard lk(m_mutex);
  return m_state;
}

bool CommunityView::is_member(const NodeId& node) const {
  std::lock_guard lk(m_mutex);
  return m_state.members.count(node.str()) > 0;
}

bool CommunityView::is_revoked(const NodeId& node) const {
  std::lock_guard lk(m_mutex);
  return m_state.revoked.count(node.str()) > 0;
}

std::optional<TrustLevel> CommunityView::level_of(const NodeId& node) const {
  std::lock_guard lk(m_mutex);
  auto it = m_state.members.find(node.str());
  if (it == m_state.members.end()) return std::nullopt;
  return it->second.level;
}

AuthorPolicy CommunityView::author_policy() const {
  return [this](const Event& e) {
    std::lock_guard lk(m_mutex);
    const std::string& author = e.author.str();
    auto revoked = m_state.revoked.find(author);
    if (revoked != m_state.revoked.end() && revoked->second.lamport <= e.lamport) {
      return AuthorVerdict::revoked_author;
    }
    if (m_state.members.count(author)) return AuthorVerdict::ok;
    if (e.event_type == EventType::community_created && !m_state.created) return AuthorVerdict::ok;
    if (e.event_type == EventType::community_member_joined && m_state.invites.count(author)) {
      return AuthorVerdict::ok;
    }
    // An author revoked later than this event was a member when it wrote it.
    if (revoked != m_state.revoked.end()) return AuthorVerdict::ok;
    return AuthorVerdict::unknown_author;
  };
}

Json community_state_to_json(const CommunityState& s) {
  Json members = Json::array();
  for (const auto& [id, m] : s.members) {
    members.push_back({{"node_id", id},
                       {"level", std::string(to_string(m.level))},
                       {"added_at", m.added_at},
                       {"added_by", m.added_by.str()},
                       {"display_name", m.display_name},
                       {"lamport", m.lamport}});
  }
  Json invites = Json::array();
  for (const auto& [id, i] : s.invites) {
    invites.push_back({{"invitee", id},
                       {"inviter", i.inviter.str()},
                       {"invite_event_id", i.invite_event_id.str()},
                       {"display_name", i.display_name},
                       {"initial_level", std::string(to_string(i.initial_level))},
                       {"expires_at", i.expires_at}});
  }
  Json joins = Json::array();
  for (const auto& [id, j] : s.pending_joins) {
    joins.push_back({{"node_id", id}, {"joined_at", j.joined_at}, {"lamport", j.lamport}});
  }
  Json revoked = Json::array();
  for (const auto& [id, r] : s.revoked) {
    revoked.push_back({{"node_id", id},
                       {"revoked_at", r.revoked_at},
                       {"revoked_by", r.revoked_by.str()},
                       {"reason", r.reason},
                       {"lamport", r.lamport}});
  }
  Json used = Json::array();
  for (const auto& id : s.used_client_ids) used.push_back(id);
  return Json{{"created", s.created},
              {"name", s.name},
              {"root_key", s.root_key.str()},
              {"created_at", s.created_at},
              {"lamport_at_creation", s.lamport_at_creation},
              {"policy", s.policy},
              {"members", std::move(members)},
              {"invites", std::move(invites)},
              {"pending_joins", std::move(joins)},
              {"revoked", std::move(revoked)},
              {"used_client_ids", std::move(used)},
              {"head_lamport", s.head_lamport}};
}

Result<CommunityState> community_state_from_json(const Json& j) {
  if (!j.is_object()) return bad_state("not an object");
  CommunityState s;
  auto created = j.find("created");
  if (created == j.end() || !created->is_boolean()) return bad_state("'created' missing or not a bool");
  s.created = created->get<bool>();
  HN_TRY_ASSIGN(s.name, req_str(j, "name"));
  HN_TRY_ASSIGN(auto root, req_str(j, "root_key"));
  s.root_key = NodeId(root);
  HN_TRY_ASSIGN(s.created_at, req_str(j, "created_at"));
  HN_TRY_ASSIGN(s.lamport_at_creation, req_int(j, "lamport_at_creation"));
  auto policy = j.find("policy");
  if (policy == j.end() || !policy->is_object()) return bad_state("'policy' missing or not an object");
  s.policy = *policy;
  HN_TRY_ASSIGN(s.head_lamport, req_int(j, "head_lamport"));

  HN_TRY_ASSIGN(auto members, req_array(j, "members"));
  for (const auto& m : *members) {
    if (!m.is_object()) return bad_state("member is not an object");
    CommunityMember cm;
    HN_TRY_ASSIGN(auto id, req_str(m, "node_id"));
    cm.node_id = NodeId(id);
    HN_TRY_ASSIGN(cm.level, req_level(m, "level"));
    HN_TRY_ASSIGN(cm.added_at, req_str(m, "added_at"));
    HN_TRY_ASSIGN(auto by, req_str(m, "added_by"));
    cm.added_by = NodeId(by);
    HN_TRY_ASSIGN(cm.display_name, req_str(m, "display_name"));
    HN_TRY_ASSIGN(cm.lamport, req_int(m, "lamport"));
    s.members[id] = std::move(cm);
  }
  HN_TRY_ASSIGN(auto invites, req_array(j, "invites"));
  for (const auto& i : *invites) {
    if (!i.is_object()) return bad_state("invite is not an object");
    PendingInvite inv;
    HN_TRY_ASSIGN(auto id, req_str(i, "invitee"));
    inv.invitee = NodeId(id);
    HN_TRY_ASSIGN(auto by, req_str(i, "inviter"));
    inv.inviter = NodeId(by);
    HN_TRY_ASSIGN(auto ev, req_str(i, "invite_event_id"));
    inv.invite_event_id = EventId(ev);
    HN_TRY_ASSIGN(inv.display_name, req_str(i, "display_name"));
    HN_TRY_ASSIGN(inv.initial_level, req_level(i, "initial_level"));
    HN_TRY_ASSIGN(inv.expires_at, req_str(i, "expires_at"));
    s.invites[id] = std::move(inv);
  }
  HN_TRY_ASSIGN(auto joins, req_array(j, "pending_joins"));
  for (const auto& p : *joins) {
    if (!p.is_object()) return bad_state("pending join is not an object");
    PendingJoin pj;
    HN_TRY_ASSIGN(auto id, req_str(p, "node_id"));
    pj.node_id = NodeId(id);
    HN_TRY_ASSIGN(pj.joined_at, req_str(p, "joined_at"));
    HN_TRY_ASSIGN(pj.lamport, req_int(p, "lamport"));
    s.pending_joins[id] = std::move(pj);
  }
  HN_TRY_ASSIGN(auto revoked, req_array(j, "revoked"));
  for (const auto& r : *revoked) {
    if (!r.is_object()) return bad_state("revoked entry is not an object");
    RevokedEntry re;
    HN_TRY_ASSIGN(auto id, req_str(r, "node_id"));
    re.node_id = NodeId(id);
    HN_TRY_ASSIGN(re.revoked_at, req_str(r, "revoked_at"));
    HN_TRY_ASSIGN(auto by, req_str(r, "revoked_by"));
    re.revoked_by = NodeId(by);
    HN_TRY_ASSIGN(re.reason, req_str(r, "reason"));
    HN_TRY_ASSIGN(re.lamport, req_int(r, "lamport"));
    s.revoked[id] = std::move(re);
  }
  // Absent from snapshots written before co-signed actions existed.
  if (auto used = j.find("used_client_ids"); used != j.end()) {
    if (!used->is_array()) return bad_state("'used_client_ids' is not an array");
    for (const auto& id : *used) {
      if (!id.is_string()) return bad_state("a used client id is not a string");
      s.used_client_ids.insert(id.get<std::string>());
    }
  }
  return s;
}

}  // namespace hn::events
