// Fuzzes Verifier::Verify. Inputs starting with '{' are "<header json>\n<payload json>": they are
// signed with the fixed ES256 key first, so that header and claim handling after the signature
// check is reached too. Anything else is verified as a compact token.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/clock.h"
#include "jose/jws_testing.h"
#include "jose/signer.h"
#include "jose/verifier.h"

namespace {

using portcullis::ManualClock;
using namespace portcullis::jose;

struct Fixture {
  ManualClock clock{1'700'000'000};
  Key es = Key::Generate(Alg::kES256).value();
  Verifier verifier = Make();

  Verifier Make() {
    KeySet keys;
    (void)keys.Add("rs", Key::Generate(Alg::kRS256).value(), Alg::kRS256);
    (void)keys.Add("rsa", Key::Generate(Alg::kRS256).value());
    (void)keys.Add("es", es, Alg::kES256);
    (void)keys.Add("ed", Key::Generate(Alg::kEdDSA).value(), Alg::kEdDSA);
    VerifyOptions options;
    options.issuer = "urn:com:networknt:oauth2:v1";
    options.audience = "urn:com.networknt";
    options.typ = "jwt";
    return Verifier(std::move(keys), options, clock);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fixture = new Fixture();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (!input.empty() && input.front() == '{') {
    size_t nl = input.find('\n');
    if (nl == std::string_view::npos) return 0;
    std::string token = portcullis::jose::testing::SignRaw(
        fixture->es, Alg::kES256, input.substr(0, nl), input.substr(nl + 1));
    (void)fixture->verifier.Verify(token);
    return 0;
  }
  auto result = fixture->verifier.Verify(input);
  if (result) {
    // Nothing unsigned may ever be accepted: only the '{' mode can produce a valid token.
    __builtin_trap();
  }
  return 0;
}
