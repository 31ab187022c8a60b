// The relay's /healthz under a disk fault: it says the store takes no
// writes while the disk is full, and healthy again once it recovers. The
// whole relay in-process, its store on the fault-injecting VFS.
#include <gtest/gtest.h>

#include <thread>

#include "daemon/metrics_server.h"
#include "daemon/relay.h"
#include "tests/fault/fault_vfs.h"
#include "tests/temp_dir.h"

namespace duet::testing {
namespace {

using namespace std::chrono_literals;

TEST(RelayHealth, AFullDiskMakesHealthzSaySoUntilItRecovers) {
  TempDir dir;
  FaultVfs vfs;
  daemon::RelayOptions options;
  options.listen = net::Endpoint{"127.0.0.1", 0};
  options.metrics = net::Endpoint{"127.0.0.1", 0};
  options.db_path = dir.File("relay.db");
  options.key_path = dir.File("relay.key");
  options.store_vfs = FaultVfs::kName;
  options.handle_signals = false;
  {
    auto relay = daemon::Relay::Create(options);
    ASSERT_TRUE(relay.ok()) << relay.error().message;
    std::thread network([&] { relay.value()->Run(); });
    const net::Endpoint metrics = *relay.value()->metrics_listening();

    EXPECT_TRUE(daemon::ProbeHealth(metrics, 5s).ok());
    vfs.FailAt(1, DiskFault::kDiskFull);
    const Status full = daemon::ProbeHealth(metrics, 5s);
    ASSERT_FALSE(full.ok());
    EXPECT_NE(full.message().find("503"), std::string::npos) << full.message();
    EXPECT_NE(full.message().find("does not take writes"), std::string::npos) << full.message();
    vfs.Recover();
    const Status again = daemon::ProbeHealth(metrics, 5s);
    EXPECT_TRUE(again.ok()) << again.message();

    relay.value()->Stop();
    network.join();
  }
}

}  // namespace
}  // namespace duet::testing
