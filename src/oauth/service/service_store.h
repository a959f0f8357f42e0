#pragma once
// SQL for services and endpoints (tables services, service_endpoints) over store::Tx.

#include <optional>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "oauth/service/service.h"
#include "store/db.h"

namespace portcullis::oauth::service_store {

extern const char* const kColumns;
Service RowToService(const store::Row& row);

// `for_update` takes the row lock on PostgreSQL.
Result<std::optional<Service>> Load(store::Tx& tx, std::string_view service_id, bool for_update);
// Sorted by endpoint id (byte order).
Result<std::vector<Endpoint>> LoadEndpoints(store::Tx& tx, std::string_view service_id);

}  // namespace portcullis::oauth::service_store
