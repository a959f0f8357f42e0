#pragma once
// The composition root: the only place that knows every service. It opens the store, builds
// the selected service modules, registers their routes and runs the server.

#include "app/config.h"

namespace portcullis::app {

const char* Version();

// Each returns the process exit code; failures print one line naming the cause.
int Serve(const Config& config);
int Migrate(const Config& config);

}  // namespace portcullis::app
