#include "oauth/totp/second_factor.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "common/log.h"
#include "common/roles.h"
#include "oauth/totp/qr_svg.h"
#include "oauth/totp/totp.h"

namespace portcullis::oauth {
namespace {

std::string Kid(std::string_view user_id) { return "totp:" + std::string(user_id); }
std::string AccountKey(std::string_view user_id) { return "otp:" + std::string(user_id); }

Error Throttled(const LoginThrottle::Admission& a) {
  Error e = Error::OAuth(429, "slow_down", "Too many failed codes. Try again later.");
  e.retry_after = std::max<int64_t>(1, a.retry_after);
  return e;
}

}  // namespace

std::string TotpSubject(std::string_view realm, std::string_view user_id) {
  if (realm.empty()) return std::string(user_id);
  return std::string(realm) + ":" + std::string(user_id);
}

bool IsLocalSubject(std::string_view subject) {
  return subject.find(':') == std::string_view::npos;
}

Error InvalidCode() { return Error::OAuth(400, "invalid_code", "The code is not valid."); }

SecondFactor::SecondFactor(TotpStore& store, const MasterKey& master, const SecretHasher& hasher,
                           const Clock& clock, Random& random, LoginThrottle& throttle,
                           SecondFactorSettings settings)
    : store_(store),
      master_(master),
      hasher_(hasher),
      clock_(clock),
      random_(random),
      throttle_(throttle),
      settings_(std::move(settings)) {}

std::string SecondFactor::NormalizeRecoveryCode(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (c == '-' || c == ' ') continue;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

Result<SecondFactor::Enrolment> SecondFactor::Enrol(std::string_view user_id,
                                                    std::string_view account) {
  std::string raw(totp::kSecretBytes, '\0');
  random_.Fill(raw.data(), raw.size());
  Secret secret(std::move(raw));
  auto sealed = SealKey(secret, Kid(user_id), master_, random_);
  if (!sealed) return Fail(sealed.error());

  Enrolment out;
  std::vector<std::string> digests = MakeRecoveryCodes(out.recovery_codes);
  TotpEnrolment e;
  e.user_id = std::string(user_id);
  e.secret_sealed = std::move(*sealed);
  e.created_at = clock_.Now();
  e.local = IsLocalSubject(user_id);
  auto begun = store_.Begin(e, digests);
  if (!begun) return Fail(begun.error());
  if (!*begun) {
    return Fail(Error::OAuth(409, "already_enrolled",
                             "The user already has an active second factor; disable it first."));
  }
  std::string b32 = totp::Base32Encode(secret.Reveal());
  out.otpauth_uri =
      totp::OtpauthUri(settings_.issuer_label, account.empty() ? user_id : account, b32);
  // A user id long enough to overflow a QR code still enrols: the key and link are shown.
  if (auto svg = qr::Svg(out.otpauth_uri, 200, "QR image of the authenticator key"); svg) {
    out.qr_svg = std::move(*svg);
  }
  out.secret = Secret(std::move(b32));
  log::Info("totp.enrol", {{"user_id", user_id}});
  return out;
}

std::vector<std::string> SecondFactor::MakeRecoveryCodes(std::vector<std::string>& shown) {
  std::vector<std::string> digests;
  shown.clear();
  for (int i = 0; i < settings_.recovery_codes; ++i) {
    std::string bytes(7, '\0');  // 56 bits, 50 of them used
    random_.Fill(bytes.data(), bytes.size());
    std::string code = totp::Base32Encode(bytes).substr(0, 10);
    std::transform(code.begin(), code.end(), code.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; });
    digests.push_back(hasher_.Digest(code));
    shown.push_back(code.substr(0, 5) + "-" + code.substr(5));
  }
  return digests;
}

Result<std::vector<std::string>> SecondFactor::RegenerateRecoveryCodes(std::string_view user_id) {
  std::vector<std::string> shown;
  auto digests = MakeRecoveryCodes(shown);
  auto done = store_.ReplaceRecoveryCodes(user_id, digests);
  if (!done) return Fail(done.error());
  if (!*done) {
    return Fail(Error::OAuth(409, "not_enrolled", "The user has no active second factor."));
  }
  log::Info("totp.recovery_codes_replaced", {{"user_id", user_id}});
  return shown;
}

int64_t SecondFactor::MatchingStep(const TotpEnrolment& e, std::string_view code) const {
  auto secret = OpenKey(e.secret_sealed, Kid(e.user_id), master_);
  if (!secret) {
    log::Error("totp.unseal_failed", {{"user_id", e.user_id}});
    return -1;
  }
  std::string digits;
  for (char c : code) {
    if (c != ' ') digits.push_back(c);
  }
  const int64_t now = totp::StepAt(clock_.Now());
  int64_t found = -1;
  for (int64_t step = now - 1; step <= now + 1; ++step) {
    std::string expected = totp::CodeAt(secret->Reveal(), step);
    if (expected.size() == digits.size() &&
        CRYPTO_memcmp(expected.data(), digits.data(), digits.size()) == 0) {
      found = step;  // the latest matching step wins
    }
  }
  return found;
}

Result<LoginThrottle::Admission> SecondFactor::Admit(std::string_view user_id,
                                                     std::string_view remote_ip) {
  const std::string ip_key = LoginThrottle::IpKey(remote_ip);
  if (!ip_key.empty()) {
    if (auto a = throttle_.Acquire(ip_key); !a.allowed) return Fail(Throttled(a));
  }
  if (auto a = throttle_.Acquire(AccountKey(user_id)); !a.allowed) {
    if (!ip_key.empty()) throttle_.Refund(ip_key);
    log::Warn("totp.throttled", {{"user_id", user_id}, {"remote", remote_ip}});
    return Fail(Throttled(a));
  }
  return LoginThrottle::Admission{};
}

void SecondFactor::Succeeded(std::string_view user_id, std::string_view remote_ip) {
  throttle_.Success(AccountKey(user_id));
  if (auto ip = LoginThrottle::IpKey(remote_ip); !ip.empty()) throttle_.Refund(ip);
}

void SecondFactor::Refund(std::string_view user_id, std::string_view remote_ip) {
  throttle_.Refund(AccountKey(user_id));
  if (auto ip = LoginThrottle::IpKey(remote_ip); !ip.empty()) throttle_.Refund(ip);
}

Status SecondFactor::Confirm(std::string_view user_id, std::string_view code,
                             std::string_view remote_ip) {
  if (auto a = Admit(user_id, remote_ip); !a) return Fail(a.error());
  auto e = store_.Find(user_id);
  if (!e) {
    Refund(user_id, remote_ip);
    return Fail(e.error());
  }
  if (!*e || (*e)->active || !totp::LooksLikeTotp(code)) return Fail(InvalidCode());
  const int64_t step = MatchingStep(**e, code);
  if (step < 0) return Fail(InvalidCode());
  auto done = store_.Activate(user_id, (*e)->secret_sealed, step);
  if (!done) {
    Refund(user_id, remote_ip);
    return Fail(done.error());
  }
  if (!*done) return Fail(InvalidCode());  // replaced or confirmed meanwhile
  Succeeded(user_id, remote_ip);
  log::Info("totp.confirmed", {{"user_id", user_id}});
  return {};
}

Result<SecondFactor::Method> SecondFactor::Verify(std::string_view user_id, std::string_view code,
                                                  std::string_view remote_ip) {
  if (auto a = Admit(user_id, remote_ip); !a) return Fail(a.error());
  auto e = store_.Find(user_id);
  if (!e) {
    Refund(user_id, remote_ip);
    return Fail(e.error());
  }
  if (!*e || !(*e)->active) return Fail(InvalidCode());
  if (totp::LooksLikeTotp(code)) {
    const int64_t step = MatchingStep(**e, code);
    if (step < 0) return Fail(InvalidCode());
    auto won = store_.UseStep(user_id, step);
    if (!won) {
      Refund(user_id, remote_ip);
      return Fail(won.error());
    }
    if (!*won) {
      log::Warn("totp.replayed", {{"user_id", user_id}, {"remote", remote_ip}});
      return Fail(InvalidCode());
    }
    Succeeded(user_id, remote_ip);
    return Method::kTotp;
  }
  std::string normalized = NormalizeRecoveryCode(code);
  if (normalized.size() != 10) return Fail(InvalidCode());
  auto won = store_.UseRecoveryCode(user_id, hasher_.Digest(normalized), clock_.Now());
  if (!won) {
    Refund(user_id, remote_ip);
    return Fail(won.error());
  }
  if (!*won) return Fail(InvalidCode());
  Succeeded(user_id, remote_ip);
  log::Info("totp.recovery_code_used", {{"user_id", user_id}});
  return Method::kRecoveryCode;
}

Result<SecondFactor::State> SecondFactor::StateOf(std::string_view user_id) {
  auto e = store_.Find(user_id);
  if (!e) return Fail(e.error());
  if (!*e) return State::kNone;
  return (*e)->active ? State::kActive : State::kPending;
}

Result<int64_t> SecondFactor::RecoveryCodesLeft(std::string_view user_id) {
  return store_.RecoveryCodesLeft(user_id);
}

Result<bool> SecondFactor::Disable(std::string_view user_id) {
  auto r = store_.Delete(user_id);
  if (r && *r) log::Info("totp.disabled", {{"user_id", user_id}});
  return r;
}

bool SecondFactor::RequiredBy(std::string_view client_id, bool client_requires) const {
  return client_requires ||
         std::find(settings_.required_clients.begin(), settings_.required_clients.end(),
                   client_id) != settings_.required_clients.end();
}

bool UserRequiresSecondFactor(const SecondFactorSettings& settings, std::string_view realm,
                              std::string_view roles) {
  const auto& realms = settings.required_realms;
  if (std::find(realms.begin(), realms.end(), realm) != realms.end()) return true;
  // The same splitter as HasRole, which grants admin scopes: "user,admin" is an admin here too.
  const auto& required = settings.required_roles;
  return AnyRole(roles, [&](std::string_view role) {
    return std::find(required.begin(), required.end(), role) != required.end();
  });
}

bool SecondFactor::RequiredFor(std::string_view realm, std::string_view roles,
                               std::string_view chain_member) const {
  const auto& realms = settings_.required_realms;
  if (!chain_member.empty() &&
      std::find(realms.begin(), realms.end(), chain_member) != realms.end()) {
    return true;
  }
  return UserRequiresSecondFactor(settings_, realm, roles);
}

Result<bool> SecondFactor::NeededFor(std::string_view realm, std::string_view user_id,
                                     std::string_view roles, std::string_view client_id,
                                     bool client_requires, std::string_view chain_member) {
  if (RequiredBy(client_id, client_requires) || RequiredFor(realm, roles, chain_member)) {
    return true;
  }
  auto state = StateOf(TotpSubject(realm, user_id));
  if (!state) return Fail(state.error());
  return *state == State::kActive;
}

bool SecondFactor::HasOtp(std::string_view amr) {
  while (!amr.empty()) {
    size_t sp = amr.find(' ');
    if (amr.substr(0, sp) == "otp") return true;
    if (sp == std::string_view::npos) break;
    amr.remove_prefix(sp + 1);
  }
  return false;
}

}  // namespace portcullis::oauth
