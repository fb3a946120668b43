#include "launcher/console_view.h"

#include <catch2/catch.hpp>

using namespace ssiuml;
using Kind = DashboardAction::Kind;

namespace {

nlohmann::json StatusReply(std::initializer_list<std::pair<int, const char*>> nodes) {
  nlohmann::json list = nlohmann::json::array();
  for (auto [n, state] : nodes)
    list.push_back({{"node", n}, {"state", state}, {"uptime_s", 65}, {"mem_kib", 40960}, {"cpu_pct", 2.5}});
  return {{"cluster", "demo"}, {"nodes", list}};
}

std::wstring Screen(const Frame& f) {
  std::wstring all;
  for (const auto& line : f.lines) all += line + L"\n";
  return all;
}

bool Shows(const Dashboard& d, const std::wstring& text, int rows = 30, int cols = 120) {
  return Screen(d.Render(rows, cols)).find(text) != std::wstring::npos;
}

}  // namespace

TEST_CASE("the node list and the selected console are drawn") {
  Dashboard d("demo");
  d.SetStatus(StatusReply({{1, "running"}, {2, "running"}}));
  d.AddConsole(1, "node1 login banner\r\n/ # ");
  CHECK(d.selected() == 1);
  CHECK(Shows(d, L"running"));
  CHECK(Shows(d, L"1m05s"));
  CHECK(Shows(d, L"40M"));
  CHECK(Shows(d, L"node1 login banner"));
  CHECK(Shows(d, L"[demo]"));
  Frame f = d.Render(30, 120);
  for (const auto& line : f.lines) CHECK(line.size() == 120);
  CHECK(f.cursor_row >= 0);
}

TEST_CASE("membership, disk and network figures are shown") {
  Dashboard d("demo");
  nlohmann::json status = StatusReply({{1, "running"}, {2, "crashed"}});
  status["nodes"][0]["member"] = "member";
  status["nodes"][0]["disk_private_kib"] = 2048;
  status["nodes"][0]["disk_shared_kib"] = 307200;
  status["nodes"][0]["net_rx_frames"] = 120;
  status["nodes"][0]["net_tx_frames"] = 80;
  status["nodes"][0]["net_drops"] = 3;
  status["nodes"][1]["member"] = "fencing";
  d.SetStatus(status);
  CHECK(Shows(d, L"member"));
  CHECK(Shows(d, L"fencing"));
  CHECK(Shows(d, L"disk 2M own, 300M shared"));
  CHECK(Shows(d, L"net 120 in, 80 out, 3 dropped"));
  d.AddEvent({{"event", "member_left"}, {"node", 2}, {"cause", "expired"}});
  CHECK(Shows(d, L"node 2 left the cluster (expired)"));
}

TEST_CASE("a warning of ssid (a daemon not answering) is said once on the message line") {
  Dashboard d("demo");
  nlohmann::json status = StatusReply({{1, "running"}});
  status["warnings"] = {"switchd did not answer within 2000 ms (stopped or stuck?); its figures are left out"};
  d.SetStatus(status);
  CHECK(Shows(d, L"warning: switchd did not answer within 2000 ms"));
  d.AddEvent({{"event", "member_left"}, {"node", 1}, {"cause", "expired"}});
  d.SetStatus(status);  // the same warning again: the event stays on the line
  CHECK(Shows(d, L"node 1 left the cluster (expired)"));
  d.SetStatus(status);
  status.erase("warnings");
  d.SetStatus(status);
  CHECK(Shows(d, L"node 1 left the cluster (expired)"));  // not the warning's to take off
  status["warnings"] = {"plxd did not answer within 5000 ms (stopped or stuck?); its figures are left out"};
  d.SetStatus(status);
  CHECK(Shows(d, L"warning: plxd did not answer"));
  status.erase("warnings");
  d.SetStatus(status);
  CHECK_FALSE(Shows(d, L"warning:"));  // all is well again
}

TEST_CASE("isolate asks first; partition and heal are actions") {
  Dashboard d("demo");
  d.SetStatus(StatusReply({{1, "running"}, {2, "running"}, {3, "running"}}));
  d.HandleKey(kDefaultPrefix);
  d.HandleKey('i');
  CHECK(Shows(d, L"cut node 1 off the network? (y/n)"));
  CHECK(d.HandleKey('n').kind == Kind::kNone);
  d.HandleKey(kDefaultPrefix);
  d.HandleKey('i');
  DashboardAction a = d.HandleKey('y');
  CHECK(a.kind == Kind::kPartition);
  CHECK(a.groups == std::vector<std::vector<int>>{{1}});

  d.HandleKey(kDefaultPrefix);
  d.HandleKey('N');
  for (char c : std::string("1,2 3")) d.HandleKey(static_cast<uint32_t>(c));
  a = d.HandleKey('\r');
  CHECK(a.kind == Kind::kPartition);
  CHECK(a.groups == std::vector<std::vector<int>>{{1, 2}, {3}});

  d.HandleKey(kDefaultPrefix);
  d.HandleKey('N');
  for (char c : std::string("1|2")) d.HandleKey(static_cast<uint32_t>(c));
  CHECK(d.HandleKey('\r').kind == Kind::kNone);
  CHECK(Shows(d, L"a partition is groups such as 1,2 3"));

  d.HandleKey(kDefaultPrefix);
  CHECK(d.HandleKey('h').kind == Kind::kHeal);
}

TEST_CASE("keys go to the selected node, prefixed keys to the dashboard") {
  Dashboard d("demo");
  d.SetStatus(StatusReply({{1, "running"}, {2, "running"}, {5, "running"}}));
  DashboardAction a = d.HandleKey('l');
  CHECK(a.kind == Kind::kInput);
  CHECK(a.node == 1);
  CHECK(a.bytes == "l");
  CHECK(d.HandleKey('\n').bytes == "\r");
  CHECK(d.HandleKey(kKeyUp).bytes == "\x1b[A");
  CHECK(d.HandleKey(0xe9).bytes == "\xc3\xa9");

  CHECK(d.HandleKey(kDefaultPrefix).kind == Kind::kNone);
  d.HandleKey('n');
  CHECK(d.selected() == 2);
  d.HandleKey(kDefaultPrefix);
  d.HandleKey('p');
  CHECK(d.selected() == 1);
  d.HandleKey(kDefaultPrefix);
  d.HandleKey('p');
  CHECK(d.selected() == 5);  // wraps
  d.HandleKey(kDefaultPrefix);
  d.HandleKey('2');
  CHECK(d.selected() == 2);
  d.HandleKey(kDefaultPrefix);
  DashboardAction literal = d.HandleKey(kDefaultPrefix);
  CHECK(literal.kind == Kind::kInput);
  CHECK(literal.bytes == "\x01");
  d.HandleKey(kDefaultPrefix);
  CHECK(d.HandleKey('d').kind == Kind::kDetach);
}

TEST_CASE("going to a node that does not exist says so") {
  Dashboard d("demo");
  d.SetStatus(StatusReply({{1, "running"}}));
  d.HandleKey(kDefaultPrefix);
  d.HandleKey('7');
  CHECK(d.selected() == 1);
  CHECK(Shows(d, L"no node 7"));
  d.HandleKey(kDefaultPrefix);
  d.HandleKey('g');
  for (char c : std::string("12\r")) d.HandleKey(static_cast<uint32_t>(c));
  CHECK(Shows(d, L"no node 12"));
}

TEST_CASE("split view shows several consoles") {
  Dashboard d("demo");
  d.SetStatus(StatusReply({{1, "running"}, {2, "running"}, {3, "running"}}));
  CHECK(d.VisibleNodes() == std::vector<int>{1});
  d.HandleKey(kDefaultPrefix);
  d.HandleKey('s');
  CHECK(d.VisibleNodes() == std::vector<int>{1, 2, 3});
  d.AddConsole(3, "third\r\n");
  CHECK(Shows(d, L"third"));
  CHECK(Shows(d, L"node 2: running"));
}

TEST_CASE("crash asks first; add and pause produce actions") {
  Dashboard d("demo");
  d.SetStatus(StatusReply({{1, "running"}, {2, "running"}}));
  d.HandleKey(kDefaultPrefix);
  d.HandleKey('c');
  CHECK(Shows(d, L"power cut? (y/n)"));
  CHECK(d.HandleKey('n').kind == Kind::kNone);
  d.HandleKey(kDefaultPrefix);
  d.HandleKey('c');
  DashboardAction rm = d.HandleKey('y');
  CHECK(rm.kind == Kind::kRemove);
  CHECK(rm.node == 1);

  d.HandleKey(kDefaultPrefix);
  d.HandleKey('a');
  d.HandleKey('4');
  DashboardAction add = d.HandleKey('\r');
  CHECK(add.kind == Kind::kAdd);
  CHECK(add.node == 4);

  d.HandleKey(kDefaultPrefix);
  CHECK(d.HandleKey('P').kind == Kind::kPause);
  d.AddEvent({{"event", "node_paused"}, {"node", 1}});
  d.HandleKey(kDefaultPrefix);
  CHECK(d.HandleKey('P').kind == Kind::kResume);
}

TEST_CASE("events show at once on the status bar and in the list") {
  Dashboard d("demo");
  d.SetStatus(StatusReply({{1, "running"}, {2, "running"}}));
  d.AddEvent({{"event", "node_exited"}, {"node", 2}, {"cause", "removed by ssi-rm"}, {"expected", true}});
  CHECK(Shows(d, L"node 2 crashed: removed by ssi-rm"));
  CHECK(Shows(d, L"crashed"));
}

TEST_CASE("scrollback and search") {
  Dashboard d("demo");
  d.SetStatus(StatusReply({{1, "running"}}));
  for (int i = 0; i < 300; ++i) d.AddConsole(1, "line " + std::to_string(i) + "\r\n");
  CHECK(Shows(d, L"line 299"));
  CHECK_FALSE(Shows(d, L"line 100 "));
  d.HandleKey(kDefaultPrefix);
  d.HandleKey('/');
  for (char c : std::string("line 100\r")) d.HandleKey(static_cast<uint32_t>(c));
  CHECK(Shows(d, L"line 100"));
  CHECK(Shows(d, L"scrolled back"));
  d.HandleKey('x');  // typing returns to the live end
  CHECK(Shows(d, L"line 299"));
  d.HandleKey(kKeyPageUp);
  CHECK(Shows(d, L"scrolled back"));
}

TEST_CASE("help overlay and tiny terminals") {
  Dashboard d("demo");
  d.SetStatus(StatusReply({{1, "running"}}));
  d.HandleKey(kDefaultPrefix);
  d.HandleKey('?');
  CHECK(Shows(d, L"split view"));
  d.HandleKey('q');
  CHECK_FALSE(Shows(d, L"split view"));
  CHECK(Screen(d.Render(3, 20)).find(L"terminal too small") != std::wstring::npos);
  d.Render(0, 0);
}

TEST_CASE("a lock node's console is the last row, named lock") {
  Dashboard d("demo");
  auto status = StatusReply({{1, "running"}});
  status["lock_node"] = {{"state", "running"}, {"ip", "10.77.0.253"}, {"pid", 42}};
  d.SetStatus(status);
  d.AddConsole(255, "ssiuml lock node: lock server at 10.77.0.253:7400\r\n");
  CHECK(Shows(d, L" lock running"));
  d.HandleKey(kDefaultPrefix);
  d.HandleKey('n');
  CHECK(d.selected() == 255);
  CHECK(d.VisibleNodes() == std::vector<int>{255});
  CHECK(Shows(d, L"lock node: running"));
  CHECK(Shows(d, L"lock server at 10.77.0.253:7400"));
}
