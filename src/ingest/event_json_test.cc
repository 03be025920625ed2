#include "ingest/event_json.h"

#include <gtest/gtest.h>

namespace hanshiro::ingest {
namespace {

constexpr int64_t kNow = 1'700'000'000'000'000'000;

TEST(EventJsonTest, TheFlatShapeOfTheOriginalApi) {
  auto e = ParseEvent(R"({"event_type":"DNSQuery","source_host":"dc01","source_ip":"10.0.0.7",
      "collector":"zeek","format":"Zeek","raw_data":"query evil.example",
      "metadata":{"qtype":"A"},"vector":[0.5,-1],"timestamp":1700000000123})", kNow);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->type, EventType::Named(EventTypeCode::kDnsQuery));
  EXPECT_EQ(e->source.host, "dc01");
  EXPECT_EQ(e->source.ip->ToString(), "10.0.0.7");
  EXPECT_EQ(e->source.format, IngestionFormat::kZeek);
  EXPECT_EQ(e->raw_data, "query evil.example");
  EXPECT_EQ(e->metadata.at("qtype"), "A");
  EXPECT_EQ(e->vector, (std::vector<float>{0.5f, -1.0f}));
  EXPECT_EQ(e->event_time_ns, 1'700'000'000'123'000'000);
}

TEST(EventJsonTest, CanonicalOutputParsesBackToTheSameEvent) {
  Event e;
  e.id = EventId::FromParts(1'700'000'000'000, 5, 77);
  e.event_time_ns = 1'700'000'000'123'456'789;
  e.ingest_time_ns = 1'700'000'001'000'000'000;
  e.type = EventType::Custom("MyThing");
  e.source.host = "h\"1";
  e.source.ip = *IpAddress::Parse("2001:db8::1");
  e.source.collector = "c";
  e.source.format = IngestionFormat::kCef;
  e.raw_data = std::string("bin\0\xff", 5);  // not text: hex
  e.metadata = {{"k", "v\n"}};
  e.vector = {1.25f, 0.0f};
  std::string json;
  AppendEventJson(e, &json);
  EXPECT_NE(json.find("\"event_time\":\"2023-11-14T22:13:20.123456789Z\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"raw_data_hex\":\"62696e00ff\""), std::string::npos) << json;
  auto back = ParseEvent(json, kNow);
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << json;
  EXPECT_EQ(*back, e);
}

TEST(EventJsonTest, ErrorsNameTheField) {
  auto expect = [](std::string_view json, std::string_view field) {
    auto e = ParseEvent(json, kNow);
    ASSERT_FALSE(e.ok()) << json;
    EXPECT_TRUE(e.status().IsInvalidArgument());
    EXPECT_NE(e.status().message().find(field), std::string::npos) << e.status().message();
  };
  expect(R"({"source_host": 5})", "'source_host'");
  expect(R"({"source":{"ip":"999.1.1.1"}})", "'source.ip'");
  expect(R"({"source":{"hots":"x"}})", "'source.hots'");
  expect(R"({"metadata":{"a":1}})", "'metadata.a'");
  expect(R"({"vector":[1,"x"]})", "'vector[1]'");
  expect(R"({"timestamp":"yesterday"})", "'timestamp'");
  expect(R"({"timestamp":-4})", "'timestamp'");
  expect(R"({"source_host":"a","source":{"host":"b"}})", "'source.host'");
  expect(R"({"colour":"red"})", "'colour'");
  expect(R"({"format":"XML"})", "'format'");
  expect(R"({"id":"not-an-id"})", "'id'");
  expect("{\"raw_data\":", "malformed JSON");
  expect("[1]", "expected a JSON object");
}

TEST(EventJsonTest, ArraysNameTheIndex) {
  auto v = ParseEvents(R"([{"raw_data":"a"},{"raw_data":"b"}])", kNow);
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->size(), 2u);
  EXPECT_EQ((*v)[1].raw_data, "b");
  EXPECT_EQ((*v)[0].event_time_ns, kNow);  // no time given
  auto bad = ParseEvents(R"([{"raw_data":"a"},{"raw_data":3}])", kNow);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("[1]"), std::string::npos) << bad.status().message();
  EXPECT_EQ(ParseEvents(R"({"raw_data":"one"})", kNow)->size(), 1u);
}

TEST(EventJsonTest, CodeArtifactsRoundTripAndNameBadFields) {
  auto a = ParseCodeArtifact(R"({"sha256":")" + std::string(64, 'a') +
                                 R"(","file_type":"PE","size_bytes":42,"capabilities":["Network"],
      "file_names":["x.exe"],"strings":["gate.php"],"first_seen":"2023-11-14T22:13:20Z",
      "related_log_ids":["0190a3c2-7b1e-7c4d-8f00-0123456789ab"],"vector":[1,0]})",
                             kNow);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->sha256[31], 0xaa);
  EXPECT_EQ(a->file_type, FileType::kPe);
  EXPECT_TRUE(a->capabilities.Has(Capability::kNetwork));
  a->id = EventId::FromParts(1'700'000'000'000, 1, 2);
  std::string json;
  AppendCodeJson(*a, &json);
  auto back = ParseCodeArtifact(json, kNow);
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << json;
  EXPECT_EQ(*back, *a);
  for (const auto& [bad, field] : std::vector<std::pair<std::string, std::string>>{
           {R"({"sha256":"abc"})", "'sha256'"},
           {R"({"file_names":["a",3]})", "'file_names[1]'"},
           {R"({"capabilities":["Flying"]})", "'capabilities'"},
           {R"({"size_bytes":-1})", "'size_bytes'"},
           {R"({"nope":1})", "'nope'"}}) {
    auto r = ParseCodeArtifact(bad, kNow);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find(field), std::string::npos) << r.status().message();
  }
}

TEST(EventJsonTest, TimesInRfc3339AndUnixMillis) {
  EXPECT_EQ(*ParseTime("2023-11-14T22:13:20Z"), 1'700'000'000'000'000'000);
  EXPECT_EQ(*ParseTime("2023-11-14T23:13:20.5+01:00"), 1'700'000'000'500'000'000);
  EXPECT_EQ(*ParseTime("1700000000000"), 1'700'000'000'000'000'000);
  EXPECT_EQ(*ParseTime("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseTime("2024-02-29T00:00:00Z"), 1'709'164'800'000'000'000);
  for (const char* bad : {"2023-02-29T00:00:00Z", "2023-11-14 22:13", "2023-11-14T22:13:20",
                          "2023-13-01T00:00:00Z", "1969-12-31T23:59:59Z", "2023-11-14T22:13:20.Z",
                          "2023-11-14T22:13:20.1234567890Z", "", "999999999999999"}) {
    EXPECT_FALSE(ParseTime(bad).ok()) << bad;
  }
  EXPECT_EQ(FormatTime(1'700'000'000'000'000'001), "2023-11-14T22:13:20.000000001Z");
}

}  // namespace
}  // namespace hanshiro::ingest
