#include "cow/format.h"

#include <catch2/catch.hpp>

using namespace ssiuml::plx;

TEST_CASE("plx records round-trip and detect damage") {
  char half[kHalfBlock];
  VdiRecord r;
  r.seq = 3;
  r.uid = 99;
  r.flags = kVdiLive;
  r.name = "node1";
  r.size = 1 << 20;
  r.root = MakePtr(1234, true);
  EncodeVdiRecord(r, half);
  VdiRecord d;
  REQUIRE(DecodeVdiRecord(half, &d).ok());
  CHECK(d.name == "node1");
  CHECK(d.root == r.root);
  half[40] ^= 4;
  CHECK(DecodeVdiRecord(half, &d).IsCorruption());
  char zero[kHalfBlock] = {};
  CHECK(DecodeVdiRecord(zero, &d).IsNotFound());

  char block[kBlockSize];
  LogBlock lb;
  lb.vdi_uid = 5;
  lb.records.push_back(LogRecord{kLogSnap, 1, 2, 3, 4, "base"});
  EncodeLogBlock(lb, block);
  LogBlock lb2;
  REQUIRE(DecodeLogBlock(block, &lb2).ok());
  CHECK(lb2.records[0].name == "base");
  block[100] ^= 1;
  CHECK(DecodeLogBlock(block, &lb2).IsCorruption());
}

TEST_CASE("plx pointers and names") {
  CHECK(PtrBlock(MakePtr(77, true)) == 77);
  CHECK(PtrWritable(MakePtr(77, true)));
  CHECK_FALSE(PtrWritable(MakePtr(77, false)));
  CHECK(ValidName("node1", kMaxVdiName));
  CHECK(ValidName("a.b_c-d", kMaxVdiName));
  CHECK_FALSE(ValidName("", kMaxVdiName));
  CHECK_FALSE(ValidName("a@b", kMaxVdiName));
  CHECK_FALSE(ValidName(".x", kMaxVdiName));
  CHECK_FALSE(ValidName(std::string(200, 'a'), kMaxVdiName));
  CHECK(Crc32c("123456789", 9) == 0xe3069283u);
}
