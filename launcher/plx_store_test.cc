#include "launcher/plx_store.h"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "launcher/cluster_setup.h"

using namespace ssiuml;

TEST_CASE("a root with an @ and no / is a snapshot, anything else a file") {
  CHECK(IsSnapshotRef("debian@base"));
  CHECK(IsSnapshotRef("@"));
  CHECK_FALSE(IsSnapshotRef("/images/root.img"));
  CHECK_FALSE(IsSnapshotRef("/images/v@2/root.img"));
  CHECK_FALSE(IsSnapshotRef("root.img"));
}

TEST_CASE("VDI@SNAP parses with the store's name rules") {
  std::string vdi, snap;
  REQUIRE(ParseSnapshotRef("debian-12.1@base-2", &vdi, &snap).ok());
  CHECK(vdi == "debian-12.1");
  CHECK(snap == "base-2");
  for (const char* bad : {"@base", "debian@", "a@b@c", "-x@base", "deb ian@base", "debian@.x",
                          "debian@base!"}) {
    Status s = ParseSnapshotRef(bad, &vdi, &snap);
    CHECK(s.IsInvalidArgument());
    CHECK(s.message().find("is not VDI@SNAP") != std::string::npos);
  }
  CHECK_FALSE(ParseSnapshotRef(std::string(128, 'a') + "@base", &vdi, &snap).ok());
  CHECK_FALSE(ParseSnapshotRef("debian@" + std::string(88, 'b'), &vdi, &snap).ok());
}

TEST_CASE("a snapshot root needs DISK=plx and good syntax; a file root must exist") {
  ClusterSetup setup;
  setup.config_path = "/home/u/.ssiuml/ssiuml.conf";
  REQUIRE(ResolveRoot("debian@base", &setup).ok());
  CHECK(setup.root_snapshot == "debian@base");
  CHECK(setup.root.empty());

  Status s = ResolveRoot("debian@", &setup);
  CHECK(s.IsInvalidArgument());

  setup.config.disk = DiskKind::kUbd;
  s = ResolveRoot("debian@base", &setup);
  CHECK_FALSE(s.ok());
  CHECK(s.message().find("DISK=plx") != std::string::npos);

  s = ResolveRoot("/nonexistent/root.img", &setup);
  CHECK(s.IsNotFound());
  CHECK(s.message().find("rootfs-tools import") != std::string::npos);
  REQUIRE(ResolveRoot("/etc/hostname", &setup).ok());
  CHECK(setup.root == "/etc/hostname");
  CHECK(setup.root_snapshot.empty());

  // A path UML cannot carry is refused, and a link to it without a space is the fix.
  char tmpl[] = "/tmp/root-link-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::filesystem::create_directory(dir + "/my images");
  std::ofstream(dir + "/my images/root.img") << "x";
  s = ResolveRoot(dir + "/my images/root.img", &setup);
  CHECK(s.message().find("has a comma or a space") != std::string::npos);
  std::filesystem::create_symlink(dir + "/my images/root.img", dir + "/root.img");
  s = ResolveRoot(dir + "/root.img", &setup);
  CHECK(s.ok());
  CHECK(setup.root == dir + "/root.img");
  std::filesystem::remove_all(dir);
}

TEST_CASE("an unknown snapshot names rootfs-tools import as the fix") {
  ClusterPaths paths;
  paths.name = "t";
  paths.state = "/nonexistent/ssiuml-test";
  Status s = CheckRootSnapshot(paths, "debian@base");
  CHECK(s.IsNotFound());
  CHECK(s.message().find("rootfs-tools import --cluster t --name debian IMAGE") != std::string::npos);
  CHECK(CheckRootSnapshot(paths, "debian").IsInvalidArgument());
}
