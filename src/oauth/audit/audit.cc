#include "oauth/audit/audit.h"

#include <array>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace portcullis::oauth::audit {
namespace {

namespace json = boost::json;

constexpr std::array<std::string_view, 13> kSecretNames = {
    "clientSecret", "client_secret", "secretHash",      "secret_hash", "password",
    "passwordHash", "password_hash", "passwordConfirm", "newPassword", "newPasswordConfirm",
    "refreshToken", "refresh_token", "secret"};

bool IsSecretName(std::string_view k) {
  for (auto s : kSecretNames) {
    if (s == k) return true;
  }
  return false;
}

}  // namespace

void Scrub(json::value& value) {
  if (value.is_object()) {
    auto& o = value.as_object();
    for (auto it = o.begin(); it != o.end();) {
      if (IsSecretName(std::string_view(it->key().data(), it->key().size()))) {
        it = o.erase(it);
      } else {
        Scrub(it->value());
        ++it;
      }
    }
  } else if (value.is_array()) {
    for (auto& item : value.as_array()) Scrub(item);
  }
}

std::string StoredJson(const std::optional<json::value>& v) {
  if (!v) return {};
  json::value copy = *v;
  Scrub(copy);
  return json::serialize(copy);
}

Status MemoryAuditLog::Record(store::Tx& /*tx*/, int64_t now, Entry entry) {
  std::lock_guard lock(mu_);
  rows_.push_back(Row{static_cast<int64_t>(rows_.size()) + 1, now, std::move(entry.actor),
                      std::move(entry.action), std::move(entry.entity_kind),
                      std::move(entry.entity_id), StoredJson(entry.before),
                      StoredJson(entry.after)});
  return {};
}

Result<Page> MemoryAuditLog::List(const Query& q) {
  std::lock_guard lock(mu_);
  Page page;
  int64_t skipped = 0;
  for (auto it = rows_.rbegin(); it != rows_.rend(); ++it) {
    const Row& r = *it;
    if (!q.entity_kind.empty() && r.entity_kind != q.entity_kind) continue;
    if (!q.entity_id.empty() && r.entity_id != q.entity_id) continue;
    if (!q.actor.empty() && r.actor != q.actor) continue;
    if (!q.action.empty() &&
        (q.action.back() == '.' ? !r.action.starts_with(q.action) : r.action != q.action)) {
      continue;
    }
    if (q.since && r.at < *q.since) continue;
    if (q.until && r.at >= *q.until) continue;
    ++page.total;
    if (skipped++ < q.offset) continue;
    if (static_cast<int64_t>(page.entries.size()) < q.limit) page.entries.push_back(r);
  }
  return page;
}

json::object RowToJson(const Row& row) {
  auto parse = [](const std::string& text) -> json::value {
    if (text.empty()) return nullptr;
    json::error_code ec;
    json::value v = json::parse(text, ec);
    return ec ? json::value(nullptr) : v;
  };
  json::object o;
  o["id"] = row.id;
  o["at"] = row.at;
  o["actor"] = row.actor;
  o["action"] = row.action;
  o["entityKind"] = row.entity_kind;
  o["entityId"] = row.entity_id;
  o["before"] = parse(row.before_json);
  o["after"] = parse(row.after_json);
  return o;
}

}  // namespace portcullis::oauth::audit
