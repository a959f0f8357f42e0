#include "oauth/key/key_admin.h"

#include <algorithm>
#include <optional>
#include <utility>

#include <boost/json/value.hpp>

#include "jose/alg.h"

namespace portcullis::oauth {

boost::json::object KeyToJson(const SigningKeyRecord& r) {
  return boost::json::object{{"kid", r.kid},
                             {"alg", std::string(jose::AlgName(r.alg))},
                             {"state", std::string(KeyStateName(r.state))},
                             {"publishAt", r.publish_at},
                             {"activateAt", r.activate_at},
                             {"retiredAt", r.retired_at},
                             {"expiresAt", r.expires_at}};
}

Result<std::string> KeyAdmin::Rotate(std::string_view actor) {
  auto before = keys_.Records();
  if (!before) return Fail(std::move(before.error()));
  auto kid = keys_.Rotate();
  if (!kid) return kid;
  if (auto s = RecordChanges("key.rotate", actor, *before); !s) return Fail(std::move(s.error()));
  return kid;
}

Status KeyAdmin::Revoke(std::string_view kid, std::string_view actor) {
  auto before = keys_.Records();
  if (!before) return Fail(std::move(before.error()));
  if (auto s = keys_.Revoke(kid); !s) return s;
  return RecordChanges("key.revoke", actor, *before);
}

Status KeyAdmin::RecordChanges(std::string_view action, std::string_view actor,
                               const std::vector<SigningKeyRecord>& before) {
  auto after = keys_.Records();
  if (!after) return Fail(std::move(after.error()));
  std::vector<audit::Entry> entries;
  for (const auto& a : *after) {
    auto was = std::ranges::find(before, a.kid, &SigningKeyRecord::kid);
    std::optional<boost::json::value> old;
    if (was != before.end()) {
      boost::json::object o = KeyToJson(*was);
      boost::json::object n = KeyToJson(a);
      if (o == n) continue;
      old = boost::json::value(std::move(o));
    }
    entries.push_back({std::string(actor), std::string(action), "key", a.kid, std::move(old),
                       boost::json::value(KeyToJson(a))});
  }
  if (entries.empty()) return {};
  // Oldest kid first, so the new key's entry is the newest.
  std::ranges::sort(entries, {}, &audit::Entry::entity_id);
  const int64_t now = clock_.Now();
  return db_.Transact("key.audit", [&](store::Tx& tx) -> Status {
    for (auto& e : entries) {
      if (auto s = audit_.Record(tx, now, e); !s) return s;
    }
    return {};
  });
}

}  // namespace portcullis::oauth
