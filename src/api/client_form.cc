#include "api/client_form.h"

#include <strings.h>

#include <string_view>

namespace portcullis::api {

bool IsFormBody(const http::Request& req) {
  auto ct = req.Header("content-type");
  if (!ct) return false;
  static constexpr std::string_view kForm = "application/x-www-form-urlencoded";
  std::string_view v = *ct;
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  return v.size() >= kForm.size() && strncasecmp(v.data(), kForm.data(), kForm.size()) == 0 &&
         (v.size() == kForm.size() || v[kForm.size()] == ';' || v[kForm.size()] == ' ');
}

std::shared_ptr<const oauth::ClientCertificate> ClientCertificateOf(const http::Request& req) {
  if (req.client_cert.empty()) return nullptr;
  return std::make_shared<const oauth::ClientCertificate>(
      oauth::ClientCertificate{req.client_cert, req.client_cert_verified});
}

http::Response ClientFormError(const Error& e) {
  http::Response r = http::RenderError(e);
  if (e.http_status == 401) r.With("WWW-Authenticate", "Basic realm=\"portcullis\"");
  r.With("Pragma", "no-cache");
  return r;
}

}  // namespace portcullis::api
