#include "oauth/user/user.h"

#include <algorithm>

#include <boost/json.hpp>

#include "oauth/client/validation.h"

namespace portcullis::oauth {
namespace {

namespace json = boost::json;

json::value OrNull(const std::string& s) {
  return s.empty() ? json::value(nullptr) : json::value(s);
}

std::optional<bool> BoolField(JsonFields& f, std::string_view key) {
  const json::value* v = f.Raw(key);
  if (!v || v->is_null()) return std::nullopt;
  if (v->is_bool()) return v->as_bool();
  f.Fail(key, "must be true or false");
  return std::nullopt;
}

// OpenID Connect Core §5.1.1: the members of an address claim.
constexpr std::string_view kAddressMembers[] = {"formatted", "street_address", "locality",
                                                "region",    "postal_code",    "country"};

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
  p.email_verified = BoolField(f, "emailVerified");
  p.phone_number = f.Str("phoneNumber");
  p.phone_number_verified = BoolField(f, "phoneNumberVerified");
  if (const json::value* a = f.Raw("address")) {
    if (a->is_null()) {
      p.address = "";
    } else if (!a->is_object()) {
      f.Fail("address", "must be an object");
    } else {
      // Only the members §5.1.1 defines, as strings, kept in that order.
      json::object clean;
      bool ok = true;
      for (const auto& [k, v] : a->get_object()) {
        if (std::find(std::begin(kAddressMembers), std::end(kAddressMembers), k) ==
            std::end(kAddressMembers)) {
          f.Fail("address", "unknown member " + std::string(k.substr(0, 32)));
          ok = false;
          break;
        }
        if (!v.is_string()) {
          f.Fail("address", std::string(k) + " must be a string");
          ok = false;
          break;
        }
      }
      if (ok) {
        for (auto m : kAddressMembers) {
          if (const auto* v = a->get_object().if_contains(m); v && !v->get_string().empty()) {
            clean[m] = *v;
          }
        }
        p.address = clean.empty() ? std::string() : json::serialize(clean);
      }
    }
  }
  p.password = SecretField(f, "password");
  p.password_confirm = SecretField(f, "passwordConfirm");
  f.Ignore("createdAt");
  f.Ignore("updatedAt");
  // light-oauth2's spec lists createDt/updateDt (never used).
  f.Ignore("createDt");
  f.Ignore("updateDt");
  p.password_change_required = BoolField(f, "passwordChangeRequired");
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
  o["passwordChangeRequired"] = u.password_change_required;
  o["createdAt"] = u.created_at;
  o["updatedAt"] = u.updated_at;
  o["emailVerified"] = u.email_verified;
  o["phoneNumber"] = OrNull(u.phone_number);
  o["phoneNumberVerified"] = u.phone_number_verified;
  if (u.address.empty()) {
    o["address"] = nullptr;
  } else {
    boost::system::error_code ec;
    json::value a = json::parse(u.address, ec);
    o["address"] = ec ? json::value(nullptr) : std::move(a);
  }
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
  // A new address or number is not verified until the change says so.
  if (p.email && *p.email != u.email) u.email_verified = false;
  if (p.phone_number && *p.phone_number != u.phone_number) u.phone_number_verified = false;
  if (p.email) u.email = *p.email;
  if (p.roles) u.roles = *p.roles;
  if (p.locked) u.locked = *p.locked;
  if (p.email_verified) u.email_verified = *p.email_verified;
  if (p.phone_number) u.phone_number = *p.phone_number;
  if (p.phone_number_verified) u.phone_number_verified = *p.phone_number_verified;
  if (p.address) u.address = *p.address;
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
  if (!u.phone_number.empty()) {
    // E.164 is recommended (Core §5.1); accept its common written forms and an extension.
    std::string_view n = u.phone_number;
    size_t ext = n.find(";ext=");
    std::string_view main = n.substr(0, ext);
    int digits = 0;
    bool ok = main.size() <= 32 && !main.empty();
    for (size_t i = 0; ok && i < main.size(); ++i) {
      char c = main[i];
      if (c >= '0' && c <= '9') {
        ++digits;
      } else if (!(c == ' ' || c == '-' || c == '(' || c == ')' || c == '.' ||
                   (c == '+' && i == 0))) {
        ok = false;
      }
    }
    if (ok && ext != std::string_view::npos) {
      std::string_view e = n.substr(ext + 5);
      ok = !e.empty() && e.size() <= 10 &&
           std::all_of(e.begin(), e.end(), [](char c) { return c >= '0' && c <= '9'; });
    }
    if (!ok || digits < 3) {
      return Fail(FieldError("phoneNumber", "must be a telephone number such as +1 555 0100"));
    }
  }
  if (u.phone_number.empty() && u.phone_number_verified) {
    return Fail(FieldError("phoneNumberVerified", "needs a phoneNumber"));
  }
  if (u.address.size() > 1024) return Fail(FieldError("address", "at most 1024 characters"));
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
