#include "oauth/login/spnego.h"

// com_err.h (included by krb5.h too) has no extern "C" of its own: it comes first, wrapped.
extern "C" {
#include <com_err.h>
}
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5/krb5.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "common/encoding.h"

namespace portcullis::oauth {
namespace {

// Negotiate tokens are a few kilobytes (a ticket with a large PAC can reach ~12 KB); more is
// refused before any decoding.
constexpr size_t kMaxToken = 64 * 1024;

// The text of one side of a GSS-API status: the codes' messages only, never token contents.
std::string StatusText(OM_uint32 code, int type, gss_OID mech) {
  std::string out;
  OM_uint32 context = 0;
  do {
    OM_uint32 minor = 0;
    gss_buffer_desc msg{0, nullptr};
    if (GSS_ERROR(gss_display_status(&minor, code, type, mech, &context, &msg))) break;
    if (!out.empty()) out += "; ";
    out.append(static_cast<const char*>(msg.value), msg.length);
    gss_release_buffer(&minor, &msg);
  } while (context != 0);
  return out;
}

std::string GssText(OM_uint32 major, OM_uint32 minor) {
  std::string text = StatusText(major, GSS_C_GSS_CODE, GSS_C_NO_OID);
  if (minor != 0) {
    text += " (" + StatusText(minor, GSS_C_MECH_CODE, GSS_C_NO_OID) + ")";
  }
  return text;
}

Error Refused(std::string description, std::string detail) {
  return Error::OAuth(401, "login_required", std::move(description), std::move(detail));
}

// Whether a minor status is the Kerberos error `krb5_code`. The mechanism glue renumbers minor
// codes, so it is recognised by its text: both come from the same com_err table and catalogue.
bool Is(OM_uint32 minor, long krb5_code) {
  return minor != 0 && StatusText(minor, GSS_C_MECH_CODE, GSS_C_NO_OID) == error_message(krb5_code);
}

}  // namespace

std::string PrincipalRealm(std::string_view principal) {
  // '@' escaped with a backslash belongs to the name (RFC 1964 §2.1.1).
  for (size_t i = principal.size(); i-- > 0;) {
    if (principal[i] != '@') continue;
    size_t backslashes = 0;
    for (size_t j = i; j-- > 0 && principal[j] == '\\';) ++backslashes;
    if (backslashes % 2 == 0) return std::string(principal.substr(i + 1));
  }
  return {};
}

Result<std::string> MapPrincipal(std::string_view principal, const std::vector<std::string>& realms,
                                 bool strip_realm, std::string_view home_realm) {
  std::string realm = PrincipalRealm(principal);
  if (realm.empty() || std::find(realms.begin(), realms.end(), realm) == realms.end()) {
    return Fail(Refused("The Kerberos realm of the user is not accepted here.",
                        "principal " + std::string(principal) + " is not of an allowed realm"));
  }
  // Only the home realm is stripped: alice@OTHER.TEST stays whole, never the local alice.
  if (!strip_realm || realm != home_realm) return std::string(principal);
  std::string_view name = principal.substr(0, principal.size() - realm.size() - 1);
  if (name.empty()) {
    return Fail(
        Refused("The Kerberos principal has no user name.", "principal " + std::string(principal)));
  }
  return std::string(name);
}

struct SpnegoAcceptor::Impl {
  SpnegoSettings settings;
  gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;

  ~Impl() {
    OM_uint32 minor = 0;
    if (cred != GSS_C_NO_CREDENTIAL) gss_release_cred(&minor, &cred);
  }
};

SpnegoAcceptor::SpnegoAcceptor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SpnegoAcceptor::~SpnegoAcceptor() = default;

const SpnegoSettings& SpnegoAcceptor::settings() const { return impl_->settings; }

Result<std::unique_ptr<SpnegoAcceptor>> SpnegoAcceptor::Open(SpnegoSettings settings) {
  if (settings.keytab.empty()) return Fail(Error::Internal("spnego.keytab: not set"));
  // GSS-API would only say "no key table entry" for a file it cannot open: name the file.
  if (access(settings.keytab.c_str(), R_OK) != 0) {
    return Fail(Error::Internal("spnego.keytab: cannot read " + settings.keytab));
  }
  std::string realm = PrincipalRealm(settings.service_principal);
  if (settings.service_principal.empty() || realm.empty() ||
      settings.service_principal.find('/') == std::string::npos) {
    return Fail(Error::Internal("spnego.service_principal: expected HTTP/host@REALM, got '" +
                                settings.service_principal + "'"));
  }
  if (settings.realms.empty()) settings.realms.push_back(realm);

  auto impl = std::make_unique<Impl>();
  OM_uint32 minor = 0;
  gss_buffer_desc name_buf{settings.service_principal.size(),
                           const_cast<char*>(settings.service_principal.data())};
  gss_name_t name = GSS_C_NO_NAME;
  OM_uint32 major =
      gss_import_name(&minor, &name_buf, const_cast<gss_OID>(GSS_KRB5_NT_PRINCIPAL_NAME), &name);
  if (GSS_ERROR(major)) {
    return Fail(Error::Internal("spnego.service_principal: " + GssText(major, minor)));
  }
  // The keytab is named per credential (no KRB5_KTNAME in the environment), so other Kerberos
  // users in the process are unaffected.
  gss_key_value_element_desc element{"keytab", settings.keytab.c_str()};
  gss_key_value_set_desc store{1, &element};
  major = gss_acquire_cred_from(&minor, name, GSS_C_INDEFINITE, GSS_C_NO_OID_SET, GSS_C_ACCEPT,
                                &store, &impl->cred, nullptr, nullptr);
  OM_uint32 ignored = 0;
  gss_release_name(&ignored, &name);
  if (GSS_ERROR(major)) {
    return Fail(Error::Internal("spnego.keytab: no usable key for " + settings.service_principal +
                                " in " + settings.keytab + ": " + GssText(major, minor)));
  }
  impl->settings = std::move(settings);
  return std::unique_ptr<SpnegoAcceptor>(new SpnegoAcceptor(std::move(impl)));
}

Result<SpnegoIdentity> SpnegoAcceptor::Accept(std::string_view token) const {
  while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  if (token.empty() || token.size() > kMaxToken) {
    return Fail(Refused("The Negotiate token is missing or too long.", "negotiate: bad length"));
  }
  auto bytes = Base64Decode(token);
  if (!bytes || bytes->empty()) {
    return Fail(Refused("The Negotiate token is not base64.", "negotiate: not base64"));
  }

  OM_uint32 minor = 0;
  OM_uint32 ignored = 0;
  gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
  gss_buffer_desc in{bytes->size(), bytes->data()};
  gss_name_t client = GSS_C_NO_NAME;
  gss_buffer_desc out{0, nullptr};
  OM_uint32 major =
      gss_accept_sec_context(&minor, &ctx, impl_->cred, &in, GSS_C_NO_CHANNEL_BINDINGS, &client,
                             nullptr, &out, nullptr, nullptr, nullptr);
  // Everything the call made is released on every path below.
  struct Cleanup {
    gss_ctx_id_t& ctx;
    gss_name_t& client;
    gss_buffer_desc& out;
    ~Cleanup() {
      OM_uint32 m = 0;
      if (ctx != GSS_C_NO_CONTEXT) gss_delete_sec_context(&m, &ctx, GSS_C_NO_BUFFER);
      if (client != GSS_C_NO_NAME) gss_release_name(&m, &client);
      if (out.value != nullptr) gss_release_buffer(&m, &out);
    }
  } cleanup{ctx, client, out};

  if (major == GSS_S_CONTINUE_NEEDED) {
    // Stateless endpoint: the context cannot be resumed by a later request.
    return Fail(Refused("Multi-round SPNEGO is not supported: send a Kerberos token in one round.",
                        "negotiate: continuation needed (mechanism negotiation or NTLM); refused"));
  }
  if (GSS_ERROR(major)) {
    std::string detail = "negotiate: " + GssText(major, minor);
    if (major == GSS_S_CREDENTIALS_EXPIRED || major == GSS_S_CONTEXT_EXPIRED ||
        Is(minor, KRB5KRB_AP_ERR_TKT_EXPIRED) || Is(minor, KRB5KRB_AP_ERR_SKEW)) {
      return Fail(Refused(
          "The Kerberos ticket has expired, or the clocks disagree: get a new ticket (kinit).",
          std::move(detail)));
    }
    return Fail(Refused("The Kerberos ticket was not accepted.", std::move(detail)));
  }
  (void)ignored;

  gss_buffer_desc shown{0, nullptr};
  major = gss_display_name(&minor, client, &shown, nullptr);
  if (GSS_ERROR(major)) {
    return Fail(Error::Internal("negotiate: display_name: " + GssText(major, minor)));
  }
  SpnegoIdentity id;
  id.principal.assign(static_cast<const char*>(shown.value), shown.length);
  gss_release_buffer(&ignored, &shown);
  auto user = MapPrincipal(id.principal, impl_->settings.realms, impl_->settings.strip_realm,
                           PrincipalRealm(impl_->settings.service_principal));
  if (!user) return Fail(std::move(user.error()));
  id.user_id = std::move(*user);
  if (out.length > 0) {
    id.output_token =
        Base64Encode(std::string_view(static_cast<const char*>(out.value), out.length));
  }
  return id;
}

}  // namespace portcullis::oauth
