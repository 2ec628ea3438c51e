// tls_cert.cpp — self-signed Ed25519 X.509 certificates over OpenSSL 3 (M01 §3.1).
#include "identity/tls_cert.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "core/encoding.h"

namespace hn::identity {
namespace {

template <auto Fn>
struct Deleter {
  template <typename T>
  void operator()(T* p) const { Fn(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;

// Errors leave OpenSSL's per-thread queue empty, so they cannot leak into a later caller.
Error ssl_error(const std::string& what) {
  ERR_clear_error();
  return make_error(ErrorCode::sign_failed, "TLS certificate: " + what + " failed");
}

Result<std::string> bio_to_string(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len < 0 || (len > 0 && data == nullptr)) return ssl_error("reading PEM");
  return std::string(data, static_cast<std::size_t>(len));
}

Result<X509Ptr> read_cert(std::string_view pem) {
  if (pem.size() > (1u << 20)) {
    return make_error(ErrorCode::bad_request, "certificate PEM larger than 1 MiB");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return ssl_error("BIO_new_mem_buf");
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    ERR_clear_error();
    return make_error(ErrorCode::bad_request, "not a PEM X.509 certificate");
  }
  return cert;
}

Status add_extension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return ssl_error(std::string("extension ") + OBJ_nid2sn(nid));
  }
  return {};
}

bool is_ip_literal(std::string_view host) {
  const std::string h(host);
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

bool valid_dns_name(std::string_view host) {
  return !host.empty() && host.size() <= 253 &&
         std::all_of(host.begin(), host.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
         });
}

}  // namespace

std::string tls_host_name(const PublicKey& key) {
  std::string id = short_node_id(key).substr(std::string_view("ed25519:").size());
  std::transform(id.begin(), id.end(), id.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return id + "." + TLS_CERT_DOMAIN;
}

Result<TlsCertificate> generate_self_signed_cert(const KeyPair& keys, std::string_view host,
                                                 const Clock& clock) {
  std::string san = "DNS:" + tls_host_name(keys.public_key());
  if (!host.empty()) {
    if (is_ip_literal(host)) {
      san += ",IP:" + std::string(host);
    } else if (valid_dns_name(host)) {
      san += ",DNS:" + std::string(host);
    } else {
      return make_error(ErrorCode::bad_request, "TLS certificate: bad host name '" +
                                                    std::string(host.substr(0, 64)) + "'");
    }
  }

  PkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, keys.seed().data(),
                                            keys.seed().size()));
  if (!pkey) return ssl_error("EVP_PKEY_new_raw_private_key");
  X509Ptr cert(X509_new());
  if (!cert) return ssl_error("X509_new");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) return ssl_error("X509_set_version");

  // A random positive 128-bit serial (RFC 5280 §4.1.2.2: at most 20 octets, positive).
  std::uint8_t serial_bytes[16];
  randombytes_buf(serial_bytes, sizeof serial_bytes);
  serial_bytes[0] = static_cast<std::uint8_t>((serial_bytes[0] & 0x7f) | 0x01);
  BnPtr serial(BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr));
  if (!serial || !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()))) {
    return ssl_error("serial number");
  }

  const time_t now = static_cast<time_t>(clock.now_seconds());
  if (!ASN1_TIME_adj(X509_getm_notBefore(cert.get()), now, -1, 0) ||
      !ASN1_TIME_adj(X509_getm_notAfter(cert.get()), now, TLS_CERT_VALIDITY_DAYS, 0)) {
    return ssl_error("validity");
  }

  const std::string cn = tls_host_name(keys.public_key());
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1) {
    return ssl_error("subject name");
  }
  if (X509_set_pubkey(cert.get(), pkey.get()) != 1) return ssl_error("X509_set_pubkey");

  HN_TRY(add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  HN_TRY(add_extension(cert.get(), NID_key_usage, "critical,digitalSignature"));
  HN_TRY(add_extension(cert.get(), NID_ext_key_usage, "serverAuth,clientAuth"));
  HN_TRY(add_extension(cert.get(), NID_subject_key_identifier, "hash"));
  HN_TRY(add_extension(cert.get(), NID_subject_alt_name, san));

  // Ed25519 signs the whole TBS certificate itself: the digest must be null.
  if (X509_sign(cert.get(), pkey.get(), nullptr) <= 0) return ssl_error("X509_sign");

  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  if (!cert_bio || !key_bio) return ssl_error("BIO_new");
  if (PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1) return ssl_error("PEM_write_bio_X509");
  if (PEM_write_bio_PrivateKey(key_bio.get(), pkey.get(), nullptr, nullptr, 0, nullptr,
                               nullptr) != 1) {
    return ssl_error("PEM_write_bio_PrivateKey");
  }
  TlsCertificate out;
  HN_TRY_ASSIGN(out.cert_pem, bio_to_string(cert_bio.get()));
  HN_TRY_ASSIGN(out.key_pem, bio_to_string(key_bio.get()));
  return out;
}

Result<std::string> cert_fingerprint(std::string_view cert_pem) {
  HN_TRY_ASSIGN(X509Ptr cert, read_cert(cert_pem));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert.get(), EVP_sha256(), md, &len) != 1 || len != 32) {
    ERR_clear_error();
    return make_error(ErrorCode::bad_request, "certificate digest failed");
  }
  return "sha256:" + hex_encode(std::span<const std::uint8_t>(md, len));
}

Result<PublicKey> public_key_from_cert(std::string_view cert_pem) {
  HN_TRY_ASSIGN(X509Ptr cert, read_cert(cert_pem));
  EVP_PKEY* pkey = X509_get0_pubkey(cert.get());  // owned by cert
  if (!pkey || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
    ERR_clear_error();
    return make_error(ErrorCode::keys_invalid, "certificate key is not Ed25519");
  }
  PublicKey key{};
  std::size_t len = key.size();
  if (EVP_PKEY_get_raw_public_key(pkey, key.data(), &len) != 1 || len != key.size()) {
    return make_error(ErrorCode::keys_invalid, "certificate key is not a raw Ed25519 key");
  }
  return key;
}

Status verify_cert_for_node_id(std::string_view cert_pem, std::string_view node_id) {
  auto expected = parse_node_id(node_id);
  if (!expected) return make_error(ErrorCode::invalid_signature, expected.error().message);
  HN_TRY_ASSIGN(X509Ptr cert, read_cert(cert_pem));
  auto key = public_key_from_cert(cert_pem);
  if (!key || *key != *expected) {
    return make_error(ErrorCode::invalid_signature,
                      "certificate key does not belong to " + std::string(node_id));
  }
  if (X509_verify(cert.get(), X509_get0_pubkey(cert.get())) != 1) {
    ERR_clear_error();
    return make_error(ErrorCode::invalid_signature, "certificate self-signature does not verify");
  }
  return {};
}

}  // namespace hn::identity
