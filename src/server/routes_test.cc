#include "server/routes.h"

#include <gtest/gtest.h>

#include "base/record.h"
#include "env/test_dir.h"
#include "server/wire.h"

namespace hanshiro::server {
namespace {

class RoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options o = Options::Balanced();
    o.sync_on_write = false;
    o.group_commit_delay_us = 0;
    auto db = DB::Open(o, dir_.path());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    router_ = std::make_unique<Router>(db_.get());
  }
  Response Call(std::string method, std::string target, std::string body = "") {
    return router_->Handle({std::move(method), std::move(target), std::move(body), ""});
  }
  static std::string Field(const std::string& json, const std::string& name) {
    const size_t at = json.find("\"" + name + "\":\"");
    if (at == std::string::npos) return "";
    const size_t start = at + name.size() + 4;
    return json.substr(start, json.find('"', start) - start);
  }

  ::hanshiro::testing::TestDir dir_;
  std::unique_ptr<DB> db_;
  std::unique_ptr<Router> router_;
};

TEST_F(RoutesTest, HealthAndUnknownRoutes) {
  Response r = Call("GET", "/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"status\":\"ok\""), std::string::npos);
  EXPECT_EQ(Call("GET", "/nope").status, 404);
  EXPECT_EQ(Call("DELETE", "/events").status, 405);
  EXPECT_EQ(Call("POST", "/verify").status, 405);
}

TEST_F(RoutesTest, EventsInFlatShapeComeBackCanonical) {
  Response r = Call("POST", "/events",
                    R"({"event_type":"DNSQuery","source_host":"ws7","raw_data":"q","timestamp":1700000000000})");
  ASSERT_EQ(r.status, 200) << r.body;
  const size_t at = r.body.find("\"ids\":[\"");
  ASSERT_NE(at, std::string::npos) << r.body;
  const std::string id = r.body.substr(at + 8, 36);
  Response g = Call("GET", "/events/" + id);
  ASSERT_EQ(g.status, 200) << g.body;
  EXPECT_NE(g.body.find("\"source\":{\"host\":\"ws7\""), std::string::npos) << g.body;
  EXPECT_NE(g.body.find("\"event_time\":\"2023-11-14T22:13:20.000000000Z\""), std::string::npos);
  // The original {hi}/{lo} form names the same event.
  auto parsed = EventId::Parse(id);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(Call("GET", "/events/" + parsed->ToHiLoString()).status, 200);
  EXPECT_EQ(Call("GET", "/events/0190a3c2-7b1e-7c4d-8f00-0123456789ab").status, 404);
  EXPECT_EQ(Call("GET", "/events/garbage").status, 400);
  Response arr = Call("POST", "/events", R"([{"raw_data":"a"},{"raw_data":"b"}])");
  EXPECT_EQ(arr.status, 200);
  EXPECT_EQ(std::count(arr.body.begin(), arr.body.end(), '-'), 8);  // two UUIDs
}

TEST_F(RoutesTest, BadBodiesGet400NamingWhatIsWrong) {
  Response r = Call("POST", "/events", "{\"raw_data\":");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("malformed JSON"), std::string::npos);
  r = Call("POST", "/events", R"({"source_host":1})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("source_host"), std::string::npos) << r.body;
  r = Call("POST", "/events", R"([{"raw_data":"ok"},{"vector":"x"}])");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("[1]"), std::string::npos) << r.body;
  EXPECT_EQ(db_->Stats().records, 0u);  // nothing of a refused body was written
}

TEST_F(RoutesTest, BulkKeepsGoodLinesAndNamesBadOnes) {
  Response r = Call("POST", "/events/_bulk",
                    "{\"raw_data\":\"one\"}\n{\"raw_data\":2}\n\n{\"raw_data\":\"three\"}\nnot json\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"ingested\":2,\"errors\":2"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("{\"line\":2,\"error\":\"field 'raw_data': expected a string\"}"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("{\"line\":5,\"error\":"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("{\"line\":4,\"id\":"), std::string::npos) << r.body;
  EXPECT_EQ(db_->Stats().records, 2u);
}

TEST_F(RoutesTest, BulkLinesTheDatabaseRefusesAreNamedAndTheRestKept) {
  ASSERT_EQ(Call("POST", "/events", R"({"raw_data":"fixes the dimension","vector":[1,0]})").status, 200);
  Response r = Call("POST", "/events/_bulk",
                    "{\"raw_data\":\"a\",\"vector\":[0,1]}\n{\"raw_data\":\"b\",\"vector\":[1,2,3]}\n"
                    "{\"raw_data\":\"c\"}\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"ingested\":2,\"errors\":1"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("{\"line\":2,\"error\":"), std::string::npos) << r.body;
  EXPECT_EQ(db_->Stats().records, 3u);
  EXPECT_EQ(Call("POST", "/similar", R"({"vector":[1e39,0]})").status, 400);
}

TEST_F(RoutesTest, ListingFiltersAndPages) {
  std::string body;
  for (int i = 0; i < 25; ++i) {
    body += "{\"source_host\":\"h" + std::to_string(i % 2) + "\",\"raw_data\":\"e" + std::to_string(i) +
            "\",\"timestamp\":" + std::to_string(1700000000000 + i) + ",\"metadata\":{\"n\":\"" +
            std::to_string(i) + "\"}}\n";
  }
  ASSERT_EQ(Call("POST", "/events/_bulk", body).status, 200);
  std::string cursor;
  int seen = 0;
  for (int page = 0; page < 20; ++page) {
    Response r = Call("GET", "/events?host=h1&limit=5&from=2023-11-14T22:13:20Z" +
                                 (cursor.empty() ? std::string() : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    for (size_t at = 0; (at = r.body.find("\"raw_data\":", at)) != std::string::npos; ++at) ++seen;
    if (r.body.find("\"next_cursor\":null") != std::string::npos) break;
    cursor = Field(r.body, "next_cursor");
    ASSERT_FALSE(cursor.empty()) << r.body;
  }
  EXPECT_EQ(seen, 12);
  Response one = Call("GET", "/events?meta.n=7");
  EXPECT_NE(one.body.find("\"raw_data\":\"e7\""), std::string::npos) << one.body;
  EXPECT_EQ(Call("GET", "/events?limit=abc").status, 400);
  EXPECT_EQ(Call("GET", "/events?colour=red").status, 400);
  EXPECT_EQ(Call("GET", "/events?from=yesterday").status, 400);
}

TEST_F(RoutesTest, CodeSimilarCorrelateVerifyProofAndMetrics) {
  Response code = Call("POST", "/code", R"({"sha256":")" + std::string(64, 'b') +
                                            R"(","file_names":["evil.exe"],"vector":[1,0,0]})");
  ASSERT_EQ(code.status, 200) << code.body;
  const std::string code_id = Field(code.body, "id");
  EXPECT_EQ(Call("GET", "/code/" + code_id).status, 200);
  Response log = Call("POST", "/events", R"({"raw_data":"ran evil.exe","vector":[0.9,0.1,0]})");
  ASSERT_EQ(log.status, 200) << log.body;
  Response sim = Call("POST", "/similar", R"({"vector":[1,0,0],"top_k":1,"filter":{"kind":"code"}})");
  ASSERT_EQ(sim.status, 200) << sim.body;
  EXPECT_NE(sim.body.find(code_id), std::string::npos) << sim.body;
  EXPECT_EQ(Call("POST", "/similar", R"({"vector":[1,0]})").status, 400);  // wrong dimension
  EXPECT_EQ(Call("POST", "/similar", R"({"top_k":3})").status, 400);
  Response corr = Call("POST", "/correlate");
  ASSERT_EQ(corr.status, 200) << corr.body;
  Response links = Call("GET", "/correlations/" + code_id);
  EXPECT_NE(links.body.find("\"reason\":\"file-name\""), std::string::npos) << links.body;
  Response v = Call("GET", "/verify");
  EXPECT_NE(v.body.find("\"intact\":true"), std::string::npos) << v.body;
  Response p = Call("GET", "/proof/" + code_id);
  EXPECT_EQ(p.status, 200) << p.body;
  EXPECT_NE(p.body.find("\"kind\":\"code\""), std::string::npos);
  Response cp = Call("GET", "/checkpoint");
  EXPECT_NE(cp.body.find("\"tree_size\":"), std::string::npos);
  Response m = Call("GET", "/metrics");
  EXPECT_EQ(m.content_type, "text/plain; version=0.0.4");
  EXPECT_NE(m.body.find("hanshiro_events_written_total 1\n"), std::string::npos);
}

TEST_F(RoutesTest, ApiKeysGuardEveryRouteButHealth) {
  const std::string path = JoinPath(dir_.path(), "keys");
  ASSERT_TRUE(WriteStringToFile(Env::Default(), "# ops\nkey-one-0123456789abcdef\n\n  key-two-0123456789abcdef \n",
                                path, false).ok());
  auto keys = LoadApiKeys(path);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  ASSERT_EQ(keys->size(), 2u);
  Router guarded(db_.get(), *keys);
  EXPECT_EQ(guarded.Handle({"GET", "/health", "", ""}).status, 200);
  EXPECT_EQ(guarded.Handle({"GET", "/verify", "", ""}).status, 401);
  EXPECT_EQ(guarded.Handle({"GET", "/verify", "", "Bearer wrong-key-0123456789ab"}).status, 401);
  EXPECT_EQ(guarded.Handle({"GET", "/verify", "", "Basic key-one-0123456789abcdef"}).status, 401);
  EXPECT_EQ(guarded.Handle({"GET", "/verify", "", "Bearer key-two-0123456789abcdef"}).status, 200);
  EXPECT_EQ(guarded.Handle({"POST", "/events", R"({"raw_data":"x"})", "Bearer key-one-0123456789abcdef"}).status, 200);
  ASSERT_TRUE(WriteStringToFile(Env::Default(), "short\n", path, false).ok());
  EXPECT_TRUE(LoadApiKeys(path).status().IsInvalidArgument());
  ASSERT_TRUE(WriteStringToFile(Env::Default(), "# none\n", path, false).ok());
  EXPECT_TRUE(LoadApiKeys(path).status().IsInvalidArgument());
}

TEST_F(RoutesTest, BinaryBodiesCarryRecordsBothWays) {
  Event a, b;
  a.event_time_ns = 1'700'000'000'000'000'000;
  a.raw_data = "binary one";
  b.event_time_ns = a.event_time_ns + 1;
  b.raw_data = "binary two";
  std::vector<std::string> records(2);
  ASSERT_TRUE(record::Encode(a, &records[0]).ok());
  ASSERT_TRUE(record::Encode(b, &records[1]).ok());
  const std::string body = wire::EncodeRequest(records);
  Response r = Call("POST", "/bin/events", body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/octet-stream");
  ASSERT_EQ(r.body.size(), 8u + 4 + 2 * 16);
  const EventId second = EventId::DecodeFrom(r.body.data() + 12 + 16);
  Response got = Call("GET", "/bin/events/" + second.ToString());
  ASSERT_EQ(got.status, 200);
  auto back = record::Decode(got.body);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::get<Event>(*back).raw_data, "binary two");
  EXPECT_EQ(std::get<Event>(*back).id, second);
  // Every truncation is refused whole, naming the rule; nothing is written.
  const uint64_t before = db_->Stats().records;
  for (size_t n = 0; n < body.size(); n += 7) {
    Response bad = Call("POST", "/bin/events", body.substr(0, n));
    ASSERT_EQ(bad.status, 400) << n;
    EXPECT_NE(bad.body.find("[WIRE-"), std::string::npos) << bad.body;
  }
  EXPECT_EQ(db_->Stats().records, before);
  Response wrong_kind = Call("POST", "/bin/code", body);
  EXPECT_EQ(wrong_kind.status, 400);
  EXPECT_NE(wrong_kind.body.find("record 0 is a log, not a code"), std::string::npos) << wrong_kind.body;
}

TEST(UrlDecodeTest, PercentAndPlus) {
  EXPECT_EQ(UrlDecode("a%20b+c%2Bd"), "a b c+d");
  EXPECT_EQ(UrlDecode("100%"), "100%");
  EXPECT_EQ(UrlDecode("%zz"), "%zz");
}

}  // namespace
}  // namespace hanshiro::server
