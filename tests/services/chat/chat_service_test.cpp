// chat_service_test.cpp — ChatService on a real event log and bus, without a network
// (M10 §7 unit tests): send appends once per client_id and, with nobody to deliver to,
// queues; no chat with oneself; recipients must be current members; history and the other
// self-only capabilities refuse other callers; chat.deliver stores a message once and
// answers one receipt however often it comes; bad peer bytes are bad_request; only an anchor
// holds messages for others.
#include "services/chat/chat_service.h"

#include <gtest/gtest.h>

#include <map>

#include "blobs/store.h"
#include "core/ulid.h"
#include "events/event_log.h"
#include "events/replay.h"
#include "support/test_support.h"

namespace hn::services::chat {
namespace {

using events::Event;
using events::EventType;

class NoPublisher final : public service::Publisher {
 public:
  void publish(const std::string& topic, const Json& data) override { published.emplace_back(topic, data); }
  std::vector<std::pair<std::string, Json>> published;
};

struct ChatServiceTest : ::testing::Test {
  ManualClock clock{1'780'000'000'000};
  identity::KeyPair keys = identity::KeyPair::generate();
  identity::KeyPair peer = identity::KeyPair::generate();
  identity::KeyPair revoked = identity::KeyPair::generate();
  CommunityId community{keys.node_id().str()};
  bus::CapabilityBus bus{keys.node_id(), bus::BusConfig{}, clock};
  test::TempDir dir;
  std::unique_ptr<events::EventLog> log =
      events::EventLog::open(dir / "events.db", community, keys).value();
  events::ReplayEngine replay{*log};
  std::unique_ptr<blobs::BlobStore> blobs = blobs::BlobStore::open(dir / "blobs").value();
  NoPublisher publisher;
  config::Config config;
  std::map<std::string, TrustLevel> levels{{keys.node_id().str(), TrustLevel::anchor},
                                           {peer.node_id().str(), TrustLevel::member}};
  std::unique_ptr<ChatService> chat;

  void SetUp() override {
    service::ServiceContext ctx{keys, keys.node_id(), community, *log, replay, *blobs, bus, publisher,
                                config, [] { return std::optional<identity::CommunityManifest>(); },
                                clock, dir / "chat"};
    ctx.membership = [this](const NodeId& n) -> Result<TrustLevel> {
      if (n == revoked.node_id()) return make_error(ErrorCode::revoked, "revoked");
      auto it = levels.find(n.str());
      if (it == levels.end()) return make_error(ErrorCode::unauthorized, "not a member");
      return it->second;
    };
    chat = std::make_unique<ChatService>(ctx);
    ASSERT_TRUE(chat->start());
  }
  void TearDown() override { chat->stop(); }

  bus::CallContext as(const NodeId& caller) const {
    bus::CallContext c;
    c.request.caller = caller;
    return c;
  }
  bus::CallContext self() const { return as(keys.node_id()); }
  Json send_body(const std::string& client_id, const NodeId& to, const std::string& body = "hi") {
    return Json{{"input", {{"client_id", client_id}, {"recipient", to.str()}, {"body", body}}}};
  }
  // A chat.message.sent from the peer to us, signed by the peer.
  Event from_peer(const std::string& client_id) {
    Event e;
    e.event_id = EventId(new_ulid());
    e.lamport = 5;
    e.wall_clock = "2026-05-26T08:14:22.000Z";
    e.community_id = community;
    e.author = peer.node_id();
    e.event_type = EventType::chat_message_sent;
    e.data = Json{{"client_id", client_id}, {"recipient", keys.node_id().str()}, {"body", "hallo"},
                  {"attachments", Json::array()}};
    EXPECT_TRUE(events::sign_event(e, peer));
    return e;
  }
  std::int64_t count(EventType type) {
    return static_cast<std::int64_t>(log->read_events({.types = {type}}).value().size());
  }
};

TEST_F(ChatServiceTest, SendAppendsOncePerClientIdAndQueuesWithNobodyOnline) {
  auto first = chat->send(self(), send_body("c1", peer.node_id()));
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_EQ((*first)["output"]["delivered"], "queued");
  auto again = chat->send(self(), send_body("c1", peer.node_id()));
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)["output"]["event_id"], (*first)["output"]["event_id"]);
  EXPECT_EQ((*again)["output"]["duplicate"], true);
  EXPECT_EQ(count(EventType::chat_message_sent), 1);
  EXPECT_EQ(chat->view().size(), 1u);
  // The sender publishes on the recipient's topic (CONTRACT §8).
  ASSERT_EQ(publisher.published.size(), 1u);
  EXPECT_EQ(publisher.published[0].first, "chat.message." + peer.short_id());
}

TEST_F(ChatServiceTest, RefusesSelfChatNonMembersAndBadInput) {
  auto self_chat = chat->send(self(), send_body("c1", keys.node_id()));
  ASSERT_FALSE(self_chat);
  EXPECT_EQ(self_chat.error().code, ErrorCode::bad_request);
  auto stranger = chat->send(self(), send_body("c2", identity::KeyPair::generate().node_id()));
  ASSERT_FALSE(stranger);
  EXPECT_EQ(stranger.error().code, ErrorCode::not_found);
  auto gone = chat->send(self(), send_body("c3", revoked.node_id()));
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::not_found);
  EXPECT_EQ(gone.error().detail["reason"], "revoked");
  auto empty = chat->send(self(), send_body("c4", peer.node_id(), ""));
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::bad_request);
  Json bad_cid = send_body("c5", peer.node_id());
  bad_cid["input"]["attachments"] = Json::array({Json{{"cid", "md5:abc"}}});
  EXPECT_EQ(chat->send(self(), bad_cid).error().code, ErrorCode::bad_request);
  auto huge = chat->send(self(), send_body("c6", peer.node_id(), std::string(CHAT_MAX_BODY_BYTES + 1, 'x')));
  EXPECT_EQ(huge.error().code, ErrorCode::bad_request);
  EXPECT_EQ(count(EventType::chat_message_sent), 0);  // nothing half-done
}

TEST_F(ChatServiceTest, SelfOnlyCapabilitiesRefuseOtherCallers) {
  const auto other = as(peer.node_id());
  EXPECT_EQ(chat->history(other, Json::object()).error().code, ErrorCode::unauthorized);
  EXPECT_EQ(chat->peers(other, Json::object()).error().code, ErrorCode::unauthorized);
  EXPECT_EQ(chat->send(other, send_body("c1", keys.node_id())).error().code, ErrorCode::unauthorized);
  EXPECT_EQ(chat->read(other, Json{{"input", {{"peer", peer.node_id().str()}}}}).error().code,
            ErrorCode::unauthorized);
}

TEST_F(ChatServiceTest, DeliverStoresOnceAndAnswersOneReceipt) {
  const Event message = from_peer("p1");
  const Json body{{"input", {{"event", events::to_json(message)}}}};
  auto first = chat->deliver(as(peer.node_id()), body);
  ASSERT_TRUE(first) << first.error().to_string();
  auto second = chat->deliver(as(peer.node_id()), body);
  ASSERT_TRUE(second);
  EXPECT_EQ((*first)["output"]["receipt"]["event_id"], (*second)["output"]["receipt"]["event_id"]);
  EXPECT_EQ((*first)["output"]["receipt"]["event_type"], "chat.message.delivered");
  EXPECT_EQ(count(EventType::chat_message_sent), 1);
  EXPECT_EQ(count(EventType::chat_message_delivered), 1);
  // The recipient's UI topic heard of it once.
  std::size_t on_our_topic = 0;
  for (const auto& [topic, data] : publisher.published) on_our_topic += topic == "chat.message." + keys.short_id();
  EXPECT_EQ(on_our_topic, 1u);
  // History, peers, read.
  auto h = chat->history(self(), Json{{"input", {{"peer", peer.node_id().str()}}}});
  ASSERT_TRUE(h);
  ASSERT_EQ((*h)["output"]["messages"].size(), 1u);
  EXPECT_FALSE((*h)["output"]["messages"][0]["delivered_at"].is_null());
  EXPECT_EQ((*chat->peers(self(), Json::object()))["output"]["peers"][0]["unread"], 1);
  auto marked = chat->read(self(), Json{{"input", {{"peer", peer.node_id().str()}}}});
  ASSERT_TRUE(marked);
  EXPECT_EQ((*marked)["output"]["marked"], 1);
  EXPECT_EQ(count(EventType::chat_message_read), 1);
  EXPECT_EQ((*chat->peers(self(), Json::object()))["output"]["peers"][0]["unread"], 0);
}

TEST_F(ChatServiceTest, BadPeerBytesAreBadRequest) {
  auto call = [&](const Json& event) { return chat->deliver(as(peer.node_id()), Json{{"input", {{"event", event}}}}); };
  EXPECT_EQ(call(Json("not an event")).error().code, ErrorCode::bad_request);
  EXPECT_EQ(call(Json::object()).error().code, ErrorCode::bad_request);
  Event tampered = from_peer("p2");
  tampered.data["body"] = "changed";
  EXPECT_EQ(call(events::to_json(tampered)).error().code, ErrorCode::invalid_signature);
  // A message for somebody else is not ours to take.
  Event elsewhere = from_peer("p3");
  elsewhere.data["recipient"] = peer.node_id().str();
  ASSERT_TRUE(events::sign_event(elsewhere, peer));
  EXPECT_EQ(call(events::to_json(elsewhere)).error().code, ErrorCode::bad_request);
  EXPECT_EQ(count(EventType::chat_message_sent), 0);
}

TEST_F(ChatServiceTest, OnlyAnAnchorHoldsMessagesForOthers) {
  const Json body{{"input", {{"event", events::to_json(from_peer("p4"))}}}};
  ASSERT_TRUE(chat->forward(as(peer.node_id()), body));  // we are an anchor
  levels[keys.node_id().str()] = TrustLevel::member;
  EXPECT_EQ(chat->forward(as(peer.node_id()), body).error().code, ErrorCode::unauthorized);
}

}  // namespace
}  // namespace hn::services::chat
