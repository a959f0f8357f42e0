#include "oauth/logout/logout_token.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace portcullis::oauth {

std::string LogoutTokenJson(const LogoutTokenClaims& c) {
  boost::json::object o;
  o["iss"] = c.issuer;
  o["aud"] = c.client_id;
  o["iat"] = c.iat;
  o["exp"] = c.exp;
  o["jti"] = c.jti;
  if (!c.sub.empty()) o["sub"] = c.sub;
  if (!c.sid.empty()) o["sid"] = c.sid;
  boost::json::object events;
  events[kBackchannelLogoutEvent] = boost::json::object();
  o["events"] = std::move(events);
  return boost::json::serialize(o);
}

}  // namespace portcullis::oauth
