// Fuzzes what the token endpoint reads from the network before any lookup: the form body
// (Params::FromForm), the Authorization header (ReadClientCredentials, Basic with base64 and
// percent-decoding or light-oauth2's unencoded form) and the PKCE parameters. Input layout:
// "<authorization header>\n<form body>".

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "oauth/token/client_auth.h"
#include "oauth/token/params.h"
#include "oauth/token/pkce.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nl = input.find('\n');
  std::string_view header = input.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);

  auto params = portcullis::oauth::Params::FromForm(body);
  const portcullis::oauth::Params* form = params ? &*params : nullptr;
  auto creds = portcullis::oauth::ReadClientCredentials(
      header.empty() ? std::nullopt : std::optional<std::string_view>(header), form);
  if (creds) {
    // Whatever was decoded must be usable as text without surprises.
    (void)creds->client_id.size();
    (void)creds->secret.Reveal().size();
  }
  if (form) {
    (void)portcullis::oauth::CheckCodeChallenge(form->Value("code_challenge"),
                                                form->Value("code_challenge_method"), false);
    (void)portcullis::oauth::CheckCodeVerifier(form->Value("code_verifier"),
                                               form->Value("code_challenge"), "S256");
  }
  return 0;
}
