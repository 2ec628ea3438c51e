// test_cert.cpp — OpenSSL 3 self-signed Ed25519 certificates for tests.
#include "test_cert.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <stdexcept>

namespace hn::transport::test {
namespace {
std::string bio_string(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}
}  // namespace

TestCert make_test_cert(const std::string& cn) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!key) throw std::runtime_error("keygen failed");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, name);
  if (X509_sign(x, key, nullptr) <= 0) throw std::runtime_error("X509_sign failed");
  BIO* cb = BIO_new(BIO_s_mem());
  BIO* kb = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cb, x);
  PEM_write_bio_PrivateKey(kb, key, nullptr, nullptr, 0, nullptr, nullptr);
  TestCert out{bio_string(cb), bio_string(kb)};
  BIO_free(cb);
  BIO_free(kb);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

}  // namespace hn::transport::test
