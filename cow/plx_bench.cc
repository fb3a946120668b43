// plx_bench: the I/O loops of bench/plx.sh that the plx tool has no command
// for. Prints one line: operations, seconds, and the rate.
//
//   plx_bench randwrite STORE VDI COUNT SEED   random 4 KiB writes, one flush at the end
//   plx_bench seqread STORE VDI                read the whole VDI in 1 MiB requests
#include <fmt/core.h>

#include <random>

#include "cow/plx.h"

using namespace ssiuml;
using namespace ssiuml::plx;

int main(int argc, char** argv) {
  if (argc < 4) {
    fmt::print(stderr, "usage: plx_bench randwrite STORE VDI COUNT SEED | seqread STORE VDI\n");
    return 2;
  }
  std::string mode = argv[1];
  Env* env = Env::Default();
  uint64_t start = env->MonotonicMicros();
  std::unique_ptr<Store> store;
  Status s = Store::Open(argv[2], StoreOptions(), &store);
  std::shared_ptr<Vdi> vdi;
  if (s.ok()) s = store->OpenVdi(argv[3], &vdi);
  uint64_t ops = 0, bytes = 0;
  if (s.ok() && mode == "randwrite" && argc == 6) {
    uint64_t count = std::strtoull(argv[4], nullptr, 10);
    std::mt19937_64 rng(std::strtoull(argv[5], nullptr, 10));
    std::string block(kBlockSize, '\0');
    uint64_t blocks = vdi->size() / kBlockSize;
    for (; ops < count && s.ok(); ops++) {
      for (size_t i = 0; i < kBlockSize; i += 8) {
        uint64_t w = rng();
        std::memcpy(block.data() + i, &w, 8);
      }
      s = vdi->Write(rng() % blocks * kBlockSize, block);
    }
    if (s.ok()) s = vdi->Flush();
    bytes = ops * kBlockSize;
  } else if (s.ok() && mode == "seqread") {
    std::string buf(1 << 20, '\0');
    for (uint64_t off = 0; off < vdi->size() && s.ok(); off += buf.size(), ops++) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), vdi->size() - off));
      s = vdi->Read(off, n, buf.data());
      bytes += n;
    }
  } else if (s.ok()) {
    s = Status::InvalidArgument("unknown mode " + mode);
  }
  vdi.reset();
  store.reset();
  if (!s.ok()) {
    fmt::print(stderr, "plx_bench: {}\n", s.ToString());
    return 1;
  }
  double secs = static_cast<double>(env->MonotonicMicros() - start) / 1e6;
  fmt::print("{} ops {} bytes {:.3f} s {:.0f} ops/s {:.1f} MiB/s\n", ops, bytes, secs, ops / secs,
             bytes / secs / (1 << 20));
  return 0;
}
