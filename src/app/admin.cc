#include "app/admin.h"

#include <cstdio>

namespace portcullis::app {

AdminCommands AddAdminCommands(CLI::App&, const std::function<void(CLI::App*)>&) { return {}; }

int RunAdmin(const AdminCommands&, const Config&) {
  std::fprintf(stderr, "portcullis: no such command\n");
  return 2;
}

}  // namespace portcullis::app
