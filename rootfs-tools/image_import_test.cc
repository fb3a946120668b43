#include "rootfs-tools/image_import.h"

#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

using namespace ssiuml;

namespace {

// A private cluster STATE in a temporary directory, removed at the end.
struct Scratch {
  Scratch() {
    char tmpl[] = "/tmp/import_test.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    paths.name = "t";
    paths.state = dir + "/state";
    paths.run = dir + "/run";
  }
  ~Scratch() { Env::Default()->RemoveTree(dir); }
  std::string Write(const std::string& name, const std::string& data) {
    std::ofstream(dir + "/" + name, std::ios::binary) << data;
    return dir + "/" + name;
  }
  Status Import(const std::string& image) {
    std::string snapshot;
    return ImportImage(Env::Default(), paths, image, VdiNameFor(image), &snapshot);
  }
  std::string dir;
  ClusterPaths paths;
};

std::string Sector(size_t size, size_t at, uint8_t a, uint8_t b) {
  std::string data(size, '\0');
  data[at] = static_cast<char>(a);
  data[at + 1] = static_cast<char>(b);
  return data;
}

}  // namespace

TEST_CASE("qemu-img info's JSON gives format and size") {
  ImageInfo info;
  REQUIRE(ParseImageInfo(R"({"virtual-size": 268435456, "filename": "r.qcow2", "format": "qcow2"})", &info).ok());
  CHECK(info.format == "qcow2");
  CHECK(info.virtual_size == 268435456);
  CHECK_FALSE(ParseImageInfo("qemu-img: oops", &info).ok());
  CHECK_FALSE(ParseImageInfo(R"({"format": "raw"})", &info).ok());
  CHECK_FALSE(ParseImageInfo(R"({"format": "raw", "virtual-size": -1})", &info).ok());
}

TEST_CASE("an empty image or one larger than a VDI is refused") {
  CHECK(CheckImageSize("a.img", 1 << 20).ok());
  Status s = CheckImageSize("a.img", 0);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message() == "a.img is empty; import an image that holds a root file system");
  s = CheckImageSize("a.img", 513ull << 30);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("more than a VDI holds (524288 MiB)") != std::string::npos);
}

TEST_CASE("the image must start with an ext file system, not a partition table") {
  CHECK(CheckRootFileSystem("r.img", Sector(4096, 1080, 0x53, 0xEF)).ok());
  Status s = CheckRootFileSystem("r.img", Sector(4096, 510, 0x55, 0xAA));
  CHECK(s.message().find("is a partitioned disk") != std::string::npos);
  s = CheckRootFileSystem("r.img", "hello\n");
  CHECK(s.message().find("holds no ext2/3/4 file system") != std::string::npos);
}

TEST_CASE("VDI names come from the file name") {
  CHECK(VdiNameFor("/images/debian-12.qcow2") == "debian-12");
  CHECK(VdiNameFor("my root (v2).img") == "my-root--v2-");
  CHECK(VdiNameFor("/x/.hidden") == "hidden");
  CHECK(VdiNameFor("/x/___") == "image");
  CHECK(VdiNameFor("plain") == "plain");
}

TEST_CASE("the cluster's own VDI names are refused") {
  CHECK(CheckImportName("debian").ok());
  CHECK(CheckImportName("nodes").ok());
  CHECK(CheckImportName("root").message().find("pick another --name") != std::string::npos);
  CHECK(CheckImportName("node3").message().find("a node's disk") != std::string::npos);
  CHECK(CheckImportName("a@b").IsInvalidArgument());
}

TEST_CASE("bad images are refused before the store is touched") {
  Scratch t;
  Status s = t.Import(t.dir + "/missing.img");
  CHECK(s.message().find("cannot read image " + t.dir + "/missing.img") == 0);

  s = t.Import(t.Write("empty.img", ""));
  CHECK(s.message().find("is empty") != std::string::npos);

  s = t.Import(t.Write("notes.txt", "not a disk image\n"));
  CHECK(s.message().find("holds no ext2/3/4 file system") != std::string::npos);

  s = t.Import(t.Write("disk.img", Sector(1 << 20, 510, 0x55, 0xAA)));
  CHECK(s.message().find("is a partitioned disk") != std::string::npos);

  // A qcow2 header that lies about its tables: qemu-img refuses it.
  s = t.Import(t.Write("broken.qcow2", std::string("QFI\xfb\0\0\0\x03", 8) + std::string(504, '\xff')));
  CHECK(s.message().find("is not a disk image qemu-img can read") != std::string::npos);

  CHECK_FALSE(Env::Default()->FileExists(t.paths.Store()));
}

TEST_CASE("without qemu-img the error says what to install") {
  Scratch t;
  std::string image = t.Write("r.img", Sector(4096, 1080, 0x53, 0xEF));
  std::string path = std::getenv("PATH");
  ::setenv("PATH", t.dir.c_str(), 1);
  Status s = t.Import(image);
  ::setenv("PATH", path.c_str(), 1);
  CHECK(s.message() == "qemu-img is needed to read disk images: apt-get install qemu-utils");
}
