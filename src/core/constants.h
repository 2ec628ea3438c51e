// constants.h — every hard-coded constant of the spec (GLOSSARY §Defaults,
// IMPLEMENTATION_REFERENCE §0.2). Never configurable; never re-typed elsewhere.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hn {

inline constexpr int MANIFEST_TTL_SECONDS = 30;                   // M01
inline constexpr int MANIFEST_REPUBLISH_INTERVAL_SECONDS = 20;    // M01
inline constexpr int DISCOVERY_UDP_INTERVAL_ACTIVE_SECONDS = 5;   // M02, fewer than 2 peers
inline constexpr int DISCOVERY_UDP_INTERVAL_STABLE_SECONDS = 30;  // M02
inline constexpr int EMERGENCY_PROBE_INTERVAL_ONLINE = 10;        // M09
inline constexpr int EMERGENCY_PROBE_INTERVAL_OFFLINE = 2;        // M09
inline constexpr int EMERGENCY_PROBE_TIMEOUT_SECONDS = 2;         // M09
inline constexpr int EMERGENCY_TRANSITION_DEBOUNCE_SECONDS = 30;  // M09
inline constexpr int SYNC_INTERVAL_SECONDS = 300;         // X02 §5.5: every 5 minutes
inline constexpr int SYNC_INTERVAL_OFFLINE_SECONDS = 30;  // X02 §5.5: in emergency mode
inline constexpr int CONNECTION_IDLE_SECONDS = 60;                // X01
inline constexpr int RECONNECT_BACKOFF_CAP_SECONDS = 30;          // X01
inline constexpr int STREAM_WINDOW_FRAMES = 16;                   // X01
inline constexpr int STREAM_ACK_INTERVAL_FRAMES = 8;              // X01
inline constexpr int STREAM_ACK_TIMEOUT_SECONDS = 5;              // X01
inline constexpr int RPC_DEFAULT_TIMEOUT_SECONDS = 30;            // X01
inline constexpr int LLM_GENERATION_DEFAULT_TIMEOUT_SECONDS = 120;  // M04
inline constexpr std::int64_t CHUNK_SIZE_BYTES = 262144;          // M07, 256 KiB
inline constexpr double BLOB_GC_DISK_THRESHOLD = 0.80;            // M07
inline constexpr int RAG_CHUNK_TOKENS = 1000;                     // M05
inline constexpr int RAG_CHUNK_OVERLAP_TOKENS = 200;              // M05
inline constexpr int RAG_DEFAULT_K = 5;                           // M05
inline constexpr int RAG_MAX_K = 20;                              // M05
inline constexpr std::size_t EMBED_MAX_TEXTS = 256;               // CONTRACT §4.3
inline constexpr std::size_t EMBED_MAX_TEXT_CHARS = 8192;          // CONTRACT §4.3, characters
inline constexpr int HEALTH_WINDOW_CALLS = 100;                   // M03
inline constexpr double HEALTH_QUARANTINE_THRESHOLD = 0.5;        // M03
inline constexpr int HEALTH_QUARANTINE_SECONDS = 60;              // M03
inline constexpr int RATE_LIMIT_SOFT_RPS_PER_CAP = 10;            // X01
inline constexpr int RATE_LIMIT_HARD_RPS_PER_CAP = 100;           // X01
inline constexpr int RATE_LIMIT_SOFT_RPS_TOTAL = 100;             // X01
inline constexpr int RATE_LIMIT_HARD_RPS_TOTAL = 1000;            // X01
inline constexpr int EVENT_LOG_RETENTION_DAYS = 30;               // X02
inline constexpr int SNAPSHOT_LAG_LAMPORT = 1000;                 // X02
inline constexpr int TRACE_RING_BUFFER = 10000;                   // X03
inline constexpr int LOG_RETENTION_DAYS = 14;                     // X03

// Decisions of DESIGN.md that the spec leaves open.
inline constexpr int REQUEST_MAX_SKEW_SECONDS = 60;        // X-HearthNet-Timestamp window
inline constexpr int REQUEST_ID_REPLAY_WINDOW_SECONDS = 120;  // request_id reuse window

// Contract version carried in manifests and requests — CONTRACT §2.2.
inline constexpr const char* CONTRACT_VERSION = "1.0";
// Event schema version — CONTRACT §2.3.
inline constexpr int EVENT_SCHEMA_VERSION = 1;

}  // namespace hn
