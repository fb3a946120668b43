#include "rootfs-tools/mkroot.h"

#include <catch2/catch.hpp>

using namespace ssiuml;

TEST_CASE("mkroot --debian runs mkroot-debian.sh with the build's defaults", "[mkroot]") {
  MkrootRequest request;
  request.debian = true;
  std::vector<std::string> argv;
  std::string image;
  REQUIRE(MkrootCommand(request, "/b/bin", &argv, &image).ok());
  CHECK(image == "/b/share/ssiuml/debian-root.img");
  CHECK(argv == std::vector<std::string>{"/b/share/ssiuml/rootfs-tools/mkroot-debian.sh", "-o", image,
                                         "--guest-bin", "/b/guest-bin", "--cache", "/b/debian-cache"});
  request.packages_given = true;
  request.packages = "etcd-server,etcd-client,g++,libc6.1";
  request.output = "/images/x/../etcd.img";
  REQUIRE(MkrootCommand(request, "/b/bin", &argv, &image).ok());
  CHECK(image == "/images/etcd.img");
  CHECK(argv.back() == "etcd-server,etcd-client,g++,libc6.1");
}

TEST_CASE("mkroot without --debian runs the busybox mkroot.sh", "[mkroot]") {
  MkrootRequest request;
  std::vector<std::string> argv;
  std::string image;
  REQUIRE(MkrootCommand(request, "/b/bin", &argv, &image).ok());
  CHECK(argv == std::vector<std::string>{"/b/share/ssiuml/rootfs-tools/mkroot.sh", "/b/share/ssiuml/root.img",
                                         "/b/guest-bin"});
  request.packages_given = true;
  request.packages = "etcd-server";
  Status s = MkrootCommand(request, "/b/bin", &argv, &image);
  CHECK(s.message() == "--packages needs --debian: the busybox root has no Debian packages");
}

TEST_CASE("bad --packages lists name the bad name and the fix", "[mkroot]") {
  CHECK(CheckPackageList("etcd-server").ok());
  CHECK(CheckPackageList("").message() ==
        "--packages names no package: Debian package names separated by commas, e.g. --packages "
        "etcd-server,etcd-client");
  for (const char* bad : {"etcd-server,,etcd-client", "Etcd", "x", "-x", "etcd server", "a,b;rm", "etcd,"}) {
    Status s = CheckPackageList(bad);
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("in --packages '" + std::string(bad) + "'") != std::string::npos);
  }
}
