// test_cert.h — throwaway self-signed Ed25519 TLS certificates for the transport tests
// (stand-in until identity/tls_cert.h derives the node's certificate from its key).
#pragma once

#include <string>

namespace hn::transport::test {

struct TestCert {
  std::string cert_pem;
  std::string key_pem;
};

// A fresh Ed25519 key and a self-signed certificate for it (CN=<cn>, 1 day).
TestCert make_test_cert(const std::string& cn = "test.hearthnet.local");

}  // namespace hn::transport::test
