// Fuzzes the admin APIs' JSON models: the body is parsed with the same limits as the server,
// then read as a client, service, endpoint list, user, password change and provider; every
// model that is accepted and valid must serialise again without surprises. The first byte
// picks the model, so each reader gets the whole input.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/json/value.hpp>

#include "oauth/client/client_json.h"
#include "oauth/client/client_service.h"
#include "oauth/client/validation.h"
#include "oauth/provider/provider.h"
#include "oauth/service/service.h"
#include "oauth/token/grant_registry.h"
#include "oauth/user/user.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace portcullis::oauth;
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto parsed = ParseStrictJson(text);  // the admin APIs' parser and limits
  if (!parsed) return 0;
  const boost::json::value& v = *parsed;
  switch (data[0] % 6) {
    case 0:
      if (v.is_object()) {
        if (auto p = ClientPatchFromJson(v.get_object())) {
          Client c;
          RejectedEnums rejected = ApplyPatch(*p, c);
          // The grant types the server serves, as registration reads them.
          if (ValidateClient(c, rejected, {.grant_types = GrantRegistry::Default().types()})) {
            (void)ClientToJson(c);
          }
        }
      }
      break;
    case 1:
      if (v.is_object()) {
        if (auto p = ServicePatchFromJson(v.get_object())) {
          Service s;
          ApplyPatch(*p, s);
          if (ValidateService(s)) (void)ServiceToJson(s);
        }
      }
      break;
    case 2:
      if (auto e = EndpointsFromJson(v)) {
        if (ValidateEndpoints(*e)) {
          for (const auto& one : *e) (void)EndpointToJson(one);
        }
      }
      break;
    case 3:
      if (v.is_object()) {
        if (auto p = UserPatchFromJson(v.get_object())) {
          User u;
          ApplyPatch(*p, u);
          if (ValidateUser(u)) (void)UserToJson(u);
        }
      }
      break;
    case 4:
      if (v.is_object()) (void)PasswordChangeFromJson(v.get_object());
      break;
    case 5:
      if (v.is_object()) {
        if (auto p = ProviderPatchFromJson(v.get_object())) (void)p;
      }
      break;
  }
  return 0;
}
