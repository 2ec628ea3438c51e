// push.h — events pushed to online peers as they are appended (issue #13 §1; X02 §3.6's
// periodic reconciliation stays the safety net): the wire form of a push, the receiving
// side (the same checks as sync: EventLog::append_received_batch), and the sender's
// per-peer outbox that batches under load. Transport-free: the node carries it
// (node/event_push.cpp, doc/design/events.md "Push").
//
// Wire: POST /sync/v1/push (signed, members only) with
//   {"community_id", "events": [event...], "seen_by": ["ed25519:…", ...]}
// answered like /sync/v1/events (EventsReply). `seen_by` names the nodes the pushing side
// has sent (or is sending) these events to, itself included; a receiver relays the events
// that were new to it only to its online peers outside seen_by ∪ {itself}, adding its own
// targets to seen_by. On a full LAN mesh nothing is relayed; a node that sees a peer the
// origin does not still hands the event on, and the growing seen_by stops loops.
//
// Thread-safety: the codec and serve_push are pure / as safe as the EventLog. PushOutbox is
// safe for concurrent use (one mutex).
// Invariants: parse_push_request rejects malformed input with bad_request and never throws;
// an outbox holds at most max_queued events per peer (the oldest go first when it
// overflows, counted in dropped: reconciliation delivers them); at most one batch per peer
// is in flight, so under load the next batch carries everything queued meanwhile.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/json.h"
#include "core/types.h"
#include "events/event_log.h"
#include "events/sync.h"
#include "events/types.h"

namespace hn::events {

inline constexpr std::string_view SYNC_PATH_PUSH = "/sync/v1/push";
// Most node ids in a push's seen_by.
inline constexpr std::size_t PUSH_MAX_SEEN_BY = 1024;
// Events per push request the sender builds (the receiver accepts up to SYNC_MAX_BATCH).
inline constexpr std::size_t PUSH_BATCH = 500;
// Events queued per peer before the oldest are dropped (reconciliation delivers them).
inline constexpr std::size_t PUSH_MAX_QUEUED = 20000;
// Least time between two batches to one peer (ms): an idle peer gets an event at once; under
// load events gather for this long, which keeps a writer under X01 §7's soft limit of 10
// requests per second per peer and route.
inline constexpr std::int64_t PUSH_MIN_GAP_MS = 150;

struct PushRequest {
  CommunityId community_id;
  std::vector<Event> events;    // 1..SYNC_MAX_BATCH
  std::vector<NodeId> seen_by;  // sorted, distinct
};

Json to_json(const PushRequest& request);
// bad_request for anything malformed (seen_by not an array of full node ids, too many, the
// events as parse_events_request judges them), never a throw.
Result<PushRequest> parse_push_request(Json json);

// What the receiver did: the reply for the wire, and the events that were new here (to
// relay), in replay order.
struct PushOutcome {
  EventsReply reply;
  std::vector<Event> stored;
};
// Stores a push with the same checks as a sync push (wrong_community, per-event
// rejections in the reply). Errors: storage errors from the log.
Result<PushOutcome> serve_push(SyncServer& server, const PushRequest& request);

// The seen_by of what `self` relays or originates: `seen` ∪ {self} ∪ targets, sorted, distinct.
std::vector<NodeId> merge_seen_by(std::vector<NodeId> seen, const NodeId& self,
                                  const std::vector<NodeId>& targets);

// A batch ready for one peer.
struct PushBatch {
  NodeId peer;
  std::vector<Event> events;    // in the order queued
  std::vector<NodeId> seen_by;  // the intersection of the events' seen_by sets
};

struct PushOutboxStats {
  std::int64_t queued = 0;   // events waiting across every peer
  std::int64_t dropped = 0;  // events dropped from a full queue or a peer that left
  std::int64_t in_flight = 0;  // peers with a batch on the wire
};

class PushOutbox {
 public:
  explicit PushOutbox(std::size_t max_batch = PUSH_BATCH, std::size_t max_queued = PUSH_MAX_QUEUED,
                      std::int64_t min_gap_ms = PUSH_MIN_GAP_MS)
      : m_max_batch(max_batch), m_max_queued(max_queued), m_min_gap_ms(min_gap_ms) {}

  // Queues event for every peer in targets, with the seen_by it travels with.
  void add(std::shared_ptr<const Event> event, std::shared_ptr<const std::vector<NodeId>> seen_by,
           const std::vector<NodeId>& targets);
  // Peers with events queued and no batch in flight.
  std::vector<NodeId> ready() const;
  // Up to max_batch events for peer when none is in flight to it (then it is) and the last
  // batch to it left at least min_gap before now_ms; nothing when the queue is empty, a
  // batch is out or it is too soon (next_due_ms says when).
  std::optional<PushBatch> take(const NodeId& peer, std::int64_t now_ms = 0);
  // The earliest time a peer with events queued and none in flight may be sent to; nothing
  // when no such peer waits.
  std::optional<std::int64_t> next_due_ms() const;
  // One wake-up at a time: true when the caller should arm a timer (none was armed);
  // wakeup_fired() when it went off.
  bool arm_wakeup();
  void wakeup_fired();
  // The batch in flight to peer is done (delivered or failed: a failure is the caller's to
  // repair by reconciliation).
  void finish(const NodeId& peer);
  // Forgets a peer that went away (its queued events count as dropped).
  void drop_peer(const NodeId& peer);
  PushOutboxStats stats() const;

 private:
  struct Item {
    std::shared_ptr<const Event> event;
    std::shared_ptr<const std::vector<NodeId>> seen_by;
  };
  struct PeerQueue {
    std::deque<Item> items;
    bool in_flight = false;
    std::int64_t last_sent_ms = -1;  // when the last batch to this peer was taken
  };

  std::size_t m_max_batch;
  std::size_t m_max_queued;
  std::int64_t m_min_gap_ms;
  bool m_wakeup_armed = false;
  mutable std::mutex m_mutex;  // guards the members below
  std::map<NodeId, PeerQueue> m_peers;
  std::int64_t m_dropped = 0;
};

}  // namespace hn::events
