// dns.cpp — RFC 1035 §4.1 query encoding and bounded response parsing.
#include "emergency/dns.h"

#include <algorithm>
#include <cctype>

namespace hn::emergency {
namespace {

constexpr std::size_t HEADER_SIZE = 12;
constexpr std::size_t MAX_NAME = 255;       // RFC 1035 §2.3.4, in wire octets
constexpr std::size_t MAX_LABEL = 63;
constexpr int MAX_POINTER_HOPS = 64;
constexpr std::size_t MAX_CNAME_HOPS = 8;

Error malformed(std::string what) {
  return make_error(ErrorCode::bad_request, "dns: " + std::move(what));
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Strips one trailing dot ("example.com." is the same name).
std::string_view without_root(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xFF));
}

Status put_name(std::vector<std::uint8_t>& out, std::string_view name) {
  name = without_root(name);
  if (name.empty() || name.size() > 253) return malformed("name must be 1..253 characters");
  std::size_t start = 0;
  while (start <= name.size()) {
    const auto dot = name.find('.', start);
    const auto end = dot == std::string_view::npos ? name.size() : dot;
    const auto len = end - start;
    if (len == 0 || len > MAX_LABEL) return malformed("label must be 1..63 characters");
    out.push_back(static_cast<std::uint8_t>(len));
    out.insert(out.end(), name.begin() + static_cast<std::ptrdiff_t>(start),
               name.begin() + static_cast<std::ptrdiff_t>(end));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  out.push_back(0);
  return {};
}

// A cursor over the message; every read is bounds-checked.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> b) : m_b(b) {}
  std::size_t pos() const { return m_pos; }
  std::size_t left() const { return m_b.size() - m_pos; }

  Result<std::uint16_t> u16() {
    if (left() < 2) return malformed("truncated at offset " + std::to_string(m_pos));
    const auto v = static_cast<std::uint16_t>((m_b[m_pos] << 8) | m_b[m_pos + 1]);
    m_pos += 2;
    return v;
  }
  Result<std::uint32_t> u32() {
    HN_TRY_ASSIGN(auto hi, u16());
    HN_TRY_ASSIGN(auto lo, u16());
    return (static_cast<std::uint32_t>(hi) << 16) | lo;
  }
  Status skip(std::size_t n) {
    if (left() < n) return malformed("truncated at offset " + std::to_string(m_pos));
    m_pos += n;
    return {};
  }
  std::span<const std::uint8_t> bytes(std::size_t at, std::size_t n) const {
    return m_b.subspan(at, n);
  }

  // A possibly compressed name (RFC 1035 §4.1.4). A pointer must point before the label
  // that holds it, so the walk always ends.
  Result<std::string> name() {
    std::string out;
    std::size_t wire = 0;
    std::size_t at = m_pos;
    std::size_t resume = 0;  // where the cursor continues after the first pointer
    bool jumped = false;
    int hops = 0;
    while (true) {
      if (at >= m_b.size()) return malformed("name runs past the message");
      const std::uint8_t len = m_b[at];
      if ((len & 0xC0) == 0xC0) {
        if (at + 1 >= m_b.size()) return malformed("truncated compression pointer");
        const std::size_t target = (static_cast<std::size_t>(len & 0x3F) << 8) | m_b[at + 1];
        if (target >= at) return malformed("compression pointer does not point backwards");
        if (++hops > MAX_POINTER_HOPS) return malformed("too many compression pointers");
        if (!jumped) resume = at + 2;
        jumped = true;
        at = target;
        continue;
      }
      if ((len & 0xC0) != 0) return malformed("unknown label type");
      if (len == 0) {
        ++wire;
        if (!jumped) resume = at + 1;
        break;
      }
      if (at + 1 + len > m_b.size()) return malformed("label runs past the message");
      wire += 1 + len;
      if (wire > MAX_NAME) return malformed("name longer than 255 octets");
      if (!out.empty()) out.push_back('.');
      out.append(reinterpret_cast<const char*>(m_b.data() + at + 1), len);
      at += 1 + len;
    }
    m_pos = resume;
    return lower(out);
  }

 private:
  std::span<const std::uint8_t> m_b;
  std::size_t m_pos = 0;
};

Result<DnsRecord> read_record(Reader& r) {
  DnsRecord rec;
  HN_TRY_ASSIGN(rec.name, r.name());
  HN_TRY_ASSIGN(rec.type, r.u16());
  HN_TRY_ASSIGN(rec.klass, r.u16());
  HN_TRY_ASSIGN(rec.ttl, r.u32());
  HN_TRY_ASSIGN(const std::uint16_t rdlength, r.u16());
  const std::size_t at = r.pos();
  HN_TRY(r.skip(rdlength));
  const auto rdata = r.bytes(at, rdlength);
  rec.rdata.assign(rdata.begin(), rdata.end());
  if (rec.type == DNS_TYPE_A && rec.klass == DNS_CLASS_IN && rdlength != 4) {
    return malformed("A record with " + std::to_string(rdlength) + " octets of data");
  }
  return rec;
}

}  // namespace

Result<std::vector<std::uint8_t>> encode_query(std::uint16_t id, std::string_view name,
                                               std::uint16_t type) {
  std::vector<std::uint8_t> out;
  out.reserve(HEADER_SIZE + name.size() + 6);
  put16(out, id);
  put16(out, 0x0100);  // standard query, recursion desired
  put16(out, 1);       // QDCOUNT
  put16(out, 0);
  put16(out, 0);
  put16(out, 0);
  HN_TRY(put_name(out, name));
  put16(out, type);
  put16(out, DNS_CLASS_IN);
  return out;
}

Result<DnsMessage> parse_message(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < HEADER_SIZE) return malformed("message shorter than its header");
  if (bytes.size() > DNS_MAX_MESSAGE) return malformed("message longer than 4096 octets");
  Reader r(bytes);
  DnsMessage m;
  HN_TRY_ASSIGN(m.id, r.u16());
  HN_TRY_ASSIGN(m.flags, r.u16());
  HN_TRY_ASSIGN(const std::uint16_t qd, r.u16());
  HN_TRY_ASSIGN(const std::uint16_t an, r.u16());
  HN_TRY(r.skip(4));  // NSCOUNT, ARCOUNT: those sections are not read
  // Each question takes ≥ 5 octets and each record ≥ 11: a count the rest of the message
  // cannot hold is malformed before anything is allocated for it.
  if (static_cast<std::size_t>(qd) * 5 + static_cast<std::size_t>(an) * 11 > r.left()) {
    return malformed("counts exceed the message");
  }
  m.questions.reserve(qd);
  for (std::uint16_t i = 0; i < qd; ++i) {
    DnsQuestion q;
    HN_TRY_ASSIGN(q.name, r.name());
    HN_TRY_ASSIGN(q.type, r.u16());
    HN_TRY_ASSIGN(q.klass, r.u16());
    m.questions.push_back(std::move(q));
  }
  m.answers.reserve(an);
  for (std::uint16_t i = 0; i < an; ++i) {
    HN_TRY_ASSIGN(auto rec, read_record(r));
    m.answers.push_back(std::move(rec));
  }
  return m;
}

Result<std::vector<Ipv4>> check_answer(const DnsMessage& response, std::uint16_t id,
                                       std::string_view name) {
  if (!response.is_response()) return malformed("not a response");
  if (response.id != id) return malformed("response id does not match the query");
  const std::string want = lower(without_root(name));
  if (response.questions.size() != 1 || response.questions[0].name != want ||
      response.questions[0].type != DNS_TYPE_A) {
    return malformed("response does not echo our question");
  }
  if (response.truncated() && response.answers.empty()) {
    return make_error(ErrorCode::partition, "dns: truncated answer");
  }
  switch (response.rcode()) {
    case DNS_RCODE_NOERROR:
      break;
    case DNS_RCODE_NXDOMAIN:
      return make_error(ErrorCode::not_found, "dns: " + want + " does not exist (NXDOMAIN)");
    default:
      return make_error(ErrorCode::partition,
                        "dns: resolver answered rcode " + std::to_string(response.rcode()));
  }
  // Follow CNAMEs from the name we asked for (bounded), then collect its A records.
  std::string current = want;
  for (std::size_t hop = 0; hop <= MAX_CNAME_HOPS; ++hop) {
    std::vector<Ipv4> out;
    const DnsRecord* cname = nullptr;
    for (const auto& rec : response.answers) {
      if (rec.name != current || rec.klass != DNS_CLASS_IN) continue;
      if (rec.type == DNS_TYPE_A && rec.rdata.size() == 4) {
        out.push_back({rec.rdata[0], rec.rdata[1], rec.rdata[2], rec.rdata[3]});
      } else if (rec.type == DNS_TYPE_CNAME) {
        cname = &rec;
      }
    }
    if (!out.empty()) return out;
    if (cname == nullptr) break;
    // The CNAME's target is a name inside rdata; compression pointers in it refer to the
    // whole message, which we no longer hold — accept only uncompressed targets.
    std::string target;
    std::size_t i = 0;
    const auto& d = cname->rdata;
    bool ok = false;
    while (i < d.size()) {
      const std::uint8_t len = d[i];
      if (len == 0) {
        ok = true;
        break;
      }
      if ((len & 0xC0) != 0 || i + 1 + len > d.size()) break;
      if (!target.empty()) target.push_back('.');
      target.append(reinterpret_cast<const char*>(d.data() + i + 1), len);
      i += 1 + len;
    }
    if (!ok) break;
    current = lower(target);
  }
  return make_error(ErrorCode::not_found, "dns: no A record for " + want);
}

Result<std::vector<std::uint8_t>> encode_response(std::span<const std::uint8_t> query,
                                                  const std::vector<Ipv4>& addresses,
                                                  std::uint16_t rcode) {
  HN_TRY_ASSIGN(auto q, parse_message(query));
  if (q.is_response() || q.questions.size() != 1) return malformed("not a one-question query");
  std::vector<std::uint8_t> out;
  put16(out, q.id);
  put16(out, static_cast<std::uint16_t>(0x8180 | (rcode & 0x0F)));  // QR, RD, RA
  put16(out, 1);
  put16(out, static_cast<std::uint16_t>(addresses.size()));
  put16(out, 0);
  put16(out, 0);
  HN_TRY(put_name(out, q.questions[0].name));
  put16(out, q.questions[0].type);
  put16(out, q.questions[0].klass);
  for (const auto& a : addresses) {
    put16(out, 0xC00C);  // the question's name, at offset 12
    put16(out, DNS_TYPE_A);
    put16(out, DNS_CLASS_IN);
    put16(out, 0);
    put16(out, 60);
    put16(out, 4);
    out.insert(out.end(), a.begin(), a.end());
  }
  return out;
}

}  // namespace hn::emergency
