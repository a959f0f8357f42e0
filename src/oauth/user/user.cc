#include "oauth/user/user.h"

#include "oauth/client/validation.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;

json::value OrNull(const std::string& s) {
  return s.empty() ? json::value(nullptr) : json::value(s);
}

std::optional<Secret> SecretField(JsonFields& f, std::string_view key) {
  auto v = f.Str(key);
  if (!v) return std::nullopt;
  return Secret(std::move(*v));
}

}  // namespace

Result<UserPatch> UserPatchFromJson(const boost::json::object& body) {
  JsonFields f(body);
  UserPatch p;
  p.user_id = f.Str("userId");
  p.user_type = f.Str("userType");
  p.first_name = f.Str("firstName");
  p.last_name = f.Str("lastName");
  p.email = f.Str("email");
  p.roles = f.Str("roles");
  if (const json::value* locked = f.Raw("locked")) {
    if (locked->is_bool()) {
      p.locked = locked->as_bool();
    } else if (!locked->is_null()) {
      f.Fail("locked", "must be true or false");
    }
  }
  p.password = SecretField(f, "password");
  p.password_confirm = SecretField(f, "passwordConfirm");
  f.Ignore("createdAt");
  f.Ignore("updatedAt");
  // light-oauth2's spec lists createDt/updateDt (never used).
  f.Ignore("createDt");
  f.Ignore("updateDt");
  if (auto st = f.Finish(); !st) return Fail(std::move(st.error()));
  return p;
}

boost::json::object UserToJson(const User& u) {
  json::object o;
  o["userId"] = u.user_id;
  o["userType"] = u.user_type;
  o["firstName"] = OrNull(u.first_name);
  o["lastName"] = OrNull(u.last_name);
  o["email"] = u.email;
  o["roles"] = OrNull(u.roles);
  o["locked"] = u.locked;
  o["createdAt"] = u.created_at;
  o["updatedAt"] = u.updated_at;
  return o;
}

Result<PasswordChange> PasswordChangeFromJson(const boost::json::object& body) {
  JsonFields f(body);
  PasswordChange c;
  c.password = Secret(f.Str("password").value_or(""));
  c.new_password = Secret(f.Str("newPassword").value_or(""));
  c.new_password_confirm = Secret(f.Str("newPasswordConfirm").value_or(""));
  if (auto st = f.Finish(); !st) return Fail(std::move(st.error()));
  return c;
}

void ApplyPatch(const UserPatch& p, User& u) {
  if (p.user_type) u.user_type = *p.user_type;
  if (p.first_name) u.first_name = *p.first_name;
  if (p.last_name) u.last_name = *p.last_name;
  if (p.email) u.email = *p.email;
  if (p.roles) u.roles = *p.roles;
  if (p.locked) u.locked = *p.locked;
}

Status ValidateUser(const User& u) {
  if (auto st = CheckId("userId", u.user_id, 64); !st) return st;
  if (auto st = CheckEnum("userType", u.user_type, {"admin", "employee", "customer", "partner"});
      !st) {
    return st;
  }
  if (auto st = CheckText("firstName", u.first_name, 32, false); !st) return st;
  if (auto st = CheckText("lastName", u.last_name, 32, false); !st) return st;
  if (auto st = CheckEmail("email", u.email, 64); !st) return st;
  if (auto st = CheckScope("roles", u.roles, 2048); !st) return st;
  return {};
}

Status CheckPasswordPolicy(std::string_view field, const Secret& password) {
  if (!IsValidUtf8(password.Reveal())) return Fail(FieldError(field, "is not valid UTF-8"));
  size_t n = Utf8Length(password.Reveal());
  if (n < 8) return Fail(FieldError(field, "at least 8 characters"));
  if (n > 256) return Fail(FieldError(field, "at most 256 characters"));
  return {};
}

}  // namespace portcullis::oauth
