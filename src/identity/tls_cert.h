// tls_cert.h — the node's self-signed TLS certificate, made from its Ed25519 device key
// (M01 §3.1 generate_self_signed_cert), and the helpers a TLS layer needs to pin a peer's
// certificate to its node id (X01 §4, M01 §5.4).
//
// Certificate profile: X.509 v3, key and signature Ed25519 (the device key itself), subject
// and issuer CN "<short id without 'ed25519:', lower case, dashes kept>.hearthnet.local",
// SAN with that DNS name (plus `host` when given), random positive 128-bit serial,
// notBefore = now - 1 day (tolerates peers' clock skew), notAfter = now + 3652 days (10 years),
// basicConstraints CA:FALSE, keyUsage digitalSignature, extendedKeyUsage serverAuth+clientAuth.
// Fingerprint decision: "sha256:<64 lowercase hex>" of the DER certificate — the form
// `openssl x509 -fingerprint -sha256` prints (without colons), usable with any TLS stack.
//
// Thread-safety: pure functions over OpenSSL 3 (thread-safe by default).
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"
#include "identity/keys.h"

namespace hn::identity {

inline constexpr int TLS_CERT_VALIDITY_DAYS = 3652;  // 10 years, leap days included
inline constexpr const char* TLS_CERT_DOMAIN = "hearthnet.local";

struct TlsCertificate {
  std::string cert_pem;
  std::string key_pem;  // unencrypted PKCS#8 of the device key
};

// "xxxx-xxxx-xxxx-xxxx.hearthnet.local" for a key.
std::string tls_host_name(const PublicKey& key);
// A fresh self-signed certificate for keys; sign_failed when OpenSSL fails. A non-empty host
// (an IP address or a DNS name, e.g. the advertised endpoint) is added to the SAN.
Result<TlsCertificate> generate_self_signed_cert(const KeyPair& keys, std::string_view host = {},
                                                 const Clock& clock = SystemClock::instance());
// "sha256:<hex>" of the certificate's DER; bad_request for unparseable PEM.
Result<std::string> cert_fingerprint(std::string_view cert_pem);
// The certificate's raw Ed25519 public key; bad_request for unparseable PEM, keys_invalid for
// a key of another algorithm.
Result<PublicKey> public_key_from_cert(std::string_view cert_pem);
// Ties a presented certificate to a node id: Ed25519 key equal to node_id's key and a valid
// self-signature; invalid_signature otherwise (bad_request for unparseable PEM).
Status verify_cert_for_node_id(std::string_view cert_pem, std::string_view node_id);

}  // namespace hn::identity
