#pragma once
// GET /oauth2/instances (README "Console"): the instances of the deployment as they recorded
// themselves (oauth/instance/instance_store.h), for the console's dashboard. Scope oauth.audit.r
// (the operator's read scope). Each entry: instanceId, host, pid, services (array), version,
// startedAt, lastSeen (unix seconds) and stale: true when the last heartbeat is older than
// kInstanceStaleSeconds (the instance stopped without removing itself, or cannot reach the
// store). Never cached.
//
// Ownership: borrows `auth`, `store` and `clock`; they must outlive the router.

#include "api/admin_auth.h"
#include "common/clock.h"
#include "http/router.h"
#include "oauth/instance/instance_store.h"

namespace portcullis::api {

void RegisterInstanceApi(http::Router& router, const AdminAuth& auth, oauth::InstanceStore& store,
                         const Clock& clock);

}  // namespace portcullis::api
