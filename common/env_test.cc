#include "common/env.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <vector>
#include <string>

using namespace ssiuml;

namespace {
std::string TempDir() {
  char tmpl[] = "/tmp/ssiuml-env-test.XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  return tmpl;
}
}  // namespace

TEST_CASE("Env writes, reads and removes files") {
  Env* env = Env::Default();
  std::string dir = TempDir();
  std::string nested = dir + "/a/b/c";
  REQUIRE(env->CreateDirs(nested, 0700).ok());
  REQUIRE(env->WriteFileAtomic(nested + "/f", "hello").ok());
  REQUIRE(env->AppendToFile(nested + "/f", " world").ok());
  std::string text;
  REQUIRE(env->ReadFileToString(nested + "/f", &text).ok());
  CHECK(text == "hello world");
  std::vector<std::string> names;
  REQUIRE(env->GetChildren(nested, &names).ok());
  CHECK(names == std::vector<std::string>{"f"});
  CHECK(env->ReadFileToString(dir + "/missing", &text).IsNotFound());
  REQUIRE(env->RemoveTree(dir).ok());
  CHECK_FALSE(env->FileExists(dir));
}

TEST_CASE("Env random access file reads short at end") {
  Env* env = Env::Default();
  std::string dir = TempDir();
  std::unique_ptr<RandomRWFile> file;
  REQUIRE(env->OpenRandomRW(dir + "/blk", true, &file).ok());
  REQUIRE(file->Write(4096, "abc").ok());
  uint64_t size = 0;
  REQUIRE(file->Size(&size).ok());
  CHECK(size == 4099);
  char buf[8];
  size_t got = 0;
  REQUIRE(file->Read(4097, sizeof buf, buf, &got).ok());
  CHECK(got == 2);
  CHECK(std::string(buf, got) == "bc");
  REQUIRE(env->RemoveTree(dir).ok());
}

TEST_CASE("Env random access file reads into scattered buffers") {
  Env* env = Env::Default();
  std::string dir = TempDir();
  std::unique_ptr<RandomRWFile> file;
  REQUIRE(env->OpenRandomRW(dir + "/blk", true, &file).ok());
  std::string data;
  for (int i = 0; i < 3000; i++) data += static_cast<char>('a' + i % 26);
  REQUIRE(file->Write(0, data).ok());
  // More buffers than one preadv takes (IOV_MAX is 1024), some empty.
  std::vector<char> out(4000, '-');
  std::vector<iovec> bufs;
  size_t pos = 0;
  for (int i = 0; pos < 2000; i++) {
    size_t n = i % 3 == 0 ? 0 : 1;
    bufs.push_back({out.data() + pos, n});
    pos += n;
  }
  bufs.push_back({out.data() + 2000, 2000});  // runs past the end of the file
  size_t got = 0;
  REQUIRE(file->ReadV(0, bufs, &got).ok());
  CHECK(got == 3000);
  CHECK(std::string(out.data(), 3000) == data);
  CHECK(out[3000] == '-');
  REQUIRE(env->RemoveTree(dir).ok());
}

TEST_CASE("Env file lock excludes a second holder") {
  Env* env = Env::Default();
  std::string dir = TempDir();
  std::unique_ptr<FileLock> first, second;
  REQUIRE(env->LockFile(dir + "/lock", &first).ok());
  CHECK(env->LockFile(dir + "/lock", &second).IsBusy());
  first.reset();
  CHECK(env->LockFile(dir + "/lock", &second).ok());
  REQUIRE(env->RemoveTree(dir).ok());
}
