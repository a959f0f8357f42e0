#pragma once
// The local user store's model (reference §3.1 user_profile, §3.3 User, §9).

#include <cstdint>
#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "common/error.h"
#include "common/secret.h"

namespace portcullis::oauth {

struct User {
  std::string user_id;
  std::string user_type;  // admin | employee | customer | partner
  std::string first_name;
  std::string last_name;
  std::string email;
  std::string password_hash;  // "$argon2id$..." or a legacy PBKDF2 string
  std::string roles;          // space-separated
  // A locked account signs in nowhere (sign-in, password grant, SSO, refresh); locking it ends
  // its grants. Not in light-oauth2, which can only delete a user.
  bool locked = false;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  // OpenID Connect standard claims (Core §5.1). email_verified is reset when the email changes
  // (unless the same change sets it), phone_number_verified likewise with the phone number.
  bool email_verified = false;
  std::string phone_number;  // E.164 recommended: "+" and digits; empty: none
  bool phone_number_verified = false;
  std::string address;  // JSON text of an OIDC address object (§5.1.1); empty: none
  // The password was chosen by someone else (first run, `user create --admin`): the browser
  // sign-in makes the user choose a new one first, other sign-ins refuse it. A new password
  // (UserStore::SetPasswordHash) clears it.
  bool password_change_required = false;
};

struct UserPatch {
  std::optional<std::string> user_id;
  std::optional<std::string> user_type;
  std::optional<std::string> first_name;
  std::optional<std::string> last_name;
  std::optional<std::string> email;
  std::optional<std::string> roles;
  std::optional<bool> locked;
  std::optional<bool> email_verified;
  std::optional<std::string> phone_number;
  std::optional<bool> phone_number_verified;
  std::optional<std::string> address;      // canonical JSON text; "" clears
  std::optional<Secret> password;          // create only
  std::optional<Secret> password_confirm;  // create only
  // Create only: the user must choose a new password at the first sign-in (User::
  // password_change_required), for a password an administrator chose. Update ignores it.
  std::optional<bool> password_change_required;
};

// JSON: userId userType firstName lastName email roles locked password passwordConfirm
// passwordChangeRequired (create; ignored by update, as light-oauth2's PUT keeps the password)
// createdAt updatedAt (read-only),
// and the OpenID Connect fields emailVerified phoneNumber phoneNumberVerified address (an object
// of the strings formatted, street_address, locality, region, postal_code, country; null clears).
Result<UserPatch> UserPatchFromJson(const boost::json::object& body);
// Never carries the password or its hash.
boost::json::object UserToJson(const User& u);

struct PasswordChange {
  Secret password;  // the current one
  Secret new_password;
  Secret new_password_confirm;
};
// {"password","newPassword","newPasswordConfirm"} (reference §9).
Result<PasswordChange> PasswordChangeFromJson(const boost::json::object& body);

void ApplyPatch(const UserPatch& patch, User& user);
Status ValidateUser(const User& u);
// NIST SP 800-63B §5.1.1: at least 8 characters; at most 256 (argon2id pre-hashes, but a bound
// keeps request bodies and hashing time predictable).
Status CheckPasswordPolicy(std::string_view field, const Secret& password);

}  // namespace portcullis::oauth
