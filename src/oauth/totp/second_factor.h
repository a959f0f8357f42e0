#pragma once
// The second factor of a local user's sign-in: TOTP (RFC 6238: SHA-1, 6 digits, 30 s, one step
// of clock skew either way) and one-time recovery codes.
//
// Enrolment makes a pending enrolment: a fresh 160-bit secret from the injected RNG, sealed
// with the master key (AES-256-GCM, oauth/key/master_key.h) before it reaches the store, and
// ten recovery codes stored as keyed digests (SecretHasher, the client-secret pepper). The
// secret and the codes are shown once, to the caller of Enrol. A first valid code confirms the
// enrolment; only then does it protect sign-ins (an enrolled user needs a code everywhere).
//
// Every code is single-use: the store records the last accepted time step with a conditional
// update (the same code, or an older one, is refused even on another instance), and a recovery
// code is marked used by one. Wrong codes are throttled like passwords (LoginThrottle, the
// password throttle's buckets): per address, and per account on key "otp:<user>" from any
// address, since whoever reaches this step already holds the password.
//
// Ownership: borrows every constructor argument; they must outlive it.
// Thread-safety: all members may be called from any thread; the checks block on the store.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "common/random.h"
#include "common/secret.h"
#include "oauth/credentials/secret_hash.h"
#include "oauth/key/master_key.h"
#include "oauth/login/throttle.h"
#include "oauth/totp/totp_store.h"

namespace portcullis::oauth {

struct SecondFactorSettings {
  std::string issuer_label = "Portcullis";  // the otpauth:// issuer shown by authenticator apps
  int recovery_codes = 10;
  // Clients whose sign-ins need a second factor even from users who have none yet: those users
  // enrol on the way (code.second_factor_clients).
  std::vector<std::string> required_clients;
  // Users who need a second factor at every client, enrolling on the way when they have none:
  // those with one of these roles (code.second_factor_roles), and every user of these realms
  // (code.second_factor_realms; "" is the built-in user store, also called "default").
  std::vector<std::string> required_roles;
  std::vector<std::string> required_realms;
};

// Whether settings.required_roles or required_realms name a user of enrolment realm `realm`
// ("" for the built-in user store; EnrolmentRealm, authenticators.h) with the space-separated
// `roles`.
bool UserRequiresSecondFactor(const SecondFactorSettings& settings, std::string_view realm,
                              std::string_view roles);

class SecondFactor {
 public:
  SecondFactor(TotpStore& store, const MasterKey& master, const SecretHasher& hasher,
               const Clock& clock, Random& random, LoginThrottle& throttle,
               SecondFactorSettings settings = {});

  enum class State { kNone, kPending, kActive };
  enum class Method { kTotp, kRecoveryCode };

  struct Enrolment {
    Secret secret;  // base32, as typed into an authenticator app
    std::string otpauth_uri;
    std::string qr_svg;  // otpauth_uri as a QR code, SVG markup (oauth/totp/qr_svg.h)
    std::vector<std::string> recovery_codes;  // "xxxxx-xxxxx", shown once
  };

  // A new pending enrolment, replacing a pending one. 409 already_enrolled when one is active.
  // `account`: the name authenticator apps show (default: `user_id`).
  Result<Enrolment> Enrol(std::string_view user_id, std::string_view account = {});
  // Confirms the pending enrolment with a code of its secret. 400 invalid_code when the code is
  // wrong or there is nothing pending; 429 when throttled.
  Status Confirm(std::string_view user_id, std::string_view code, std::string_view remote_ip);
  // A sign-in's second step: a TOTP code or an unused recovery code of the active enrolment.
  // 400 invalid_code (wrong, replayed, used, or not enrolled); 429 when throttled.
  Result<Method> Verify(std::string_view user_id, std::string_view code,
                        std::string_view remote_ip);

  Result<State> StateOf(std::string_view user_id);
  Result<int64_t> RecoveryCodesLeft(std::string_view user_id);
  // New recovery codes for an active enrolment, replacing every old one (used or not); shown
  // once. 409 not_enrolled unless the enrolment is active.
  Result<std::vector<std::string>> RegenerateRecoveryCodes(std::string_view user_id);
  // Removes the enrolment and its recovery codes. False when there was none.
  Result<bool> Disable(std::string_view user_id);

  // Whether `client_id` requires a second factor from every user: its client field
  // (`client_requires`, Client::second_factor_required) or settings.required_clients.
  bool RequiredBy(std::string_view client_id, bool client_requires = false) const;
  // Whether a user of enrolment realm `realm` with `roles` (common/roles.h) must have a
  // second factor at every client (settings.required_roles, required_realms). `chain_member`
  // (AuthenticatedUser::chain_member): the directory inside a chain that answered, whose listing
  // in required_realms counts too.
  bool RequiredFor(std::string_view realm, std::string_view roles,
                   std::string_view chain_member = {}) const;
  // Whether a sign-in of `user_id` of enrolment realm `realm` (TotpSubject keys the enrolment),
  // with `roles`, to `client_id` needs a second factor: the client, the user's realm or one of
  // the user's roles requires one, or the user has an active enrolment. Blocking.
  Result<bool> NeededFor(std::string_view realm, std::string_view user_id, std::string_view roles,
                         std::string_view client_id, bool client_requires = false,
                         std::string_view chain_member = {});
  // Whether the space-separated RFC 8176 `amr` of a session includes "otp".
  static bool HasOtp(std::string_view amr);

  // "ab cde-FGH..." -> "abcdefgh..." (lower case, no separators): how recovery codes compare.
  static std::string NormalizeRecoveryCode(std::string_view code);

 private:
  // settings_.recovery_codes fresh codes: `shown` gets them as shown, the result their digests.
  std::vector<std::string> MakeRecoveryCodes(std::vector<std::string>& shown);
  // The step among now-1, now, now+1 whose code is `code`; -1 when none.
  int64_t MatchingStep(const TotpEnrolment& e, std::string_view code) const;
  Result<LoginThrottle::Admission> Admit(std::string_view user_id, std::string_view remote_ip);
  void Succeeded(std::string_view user_id, std::string_view remote_ip);
  void Refund(std::string_view user_id, std::string_view remote_ip);

  TotpStore& store_;
  const MasterKey& master_;
  const SecretHasher& hasher_;
  const Clock& clock_;
  Random& random_;
  LoginThrottle& throttle_;
  SecondFactorSettings settings_;
};

// The error for a wrong code (one answer for wrong, replayed and used codes).
Error InvalidCode();

// The key every SecondFactor call takes as `user_id`: the user id for the built-in user store
// (realm ""), "<realm>:<user id>" for another authenticator's realm (LDAP). Local user ids
// have no ':' (letters, digits and . _ ~ @ + -), so a local and a directory user of the same
// name, or the same name in two realms, never share an enrolment.
std::string TotpSubject(std::string_view realm, std::string_view user_id);
// Whether `subject` is a built-in user store's user.
bool IsLocalSubject(std::string_view subject);

}  // namespace portcullis::oauth
