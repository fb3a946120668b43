#include "common/node_port.h"

#include <catch2/catch.hpp>

namespace ssiuml {

TEST_CASE("a node's port description names the node, and only a well-formed one counts") {
  CHECK(NodePortDescription(3) == "ssiuml-node=3");
  CHECK(NodeOfPortDescription(NodePortDescription(3)) == 3);
  CHECK(NodeOfPortDescription("ssiuml-node=255 user=u pid=42") == 255);  // as vde_plug passes it on
  CHECK(NodeOfPortDescription("ssiuml-node=1") == 1);
  for (const char* bad : {"", "UML vde_transport user=u pid=1", "ssiuml-node=", "ssiuml-node=0", "ssiuml-node=256",
                          "ssiuml-node=-1", "ssiuml-node=3x", "ssiuml-node=+3", "ssiuml-node= 3", "xssiuml-node=3",
                          "ssiuml-node=99999999999999999999", "vde_plug ssiuml-node=3"}) {
    INFO(bad);
    CHECK(NodeOfPortDescription(bad) == 0);
  }
}

}  // namespace ssiuml
