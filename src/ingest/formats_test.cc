#include "ingest/formats.h"

#include <gtest/gtest.h>

namespace hanshiro::ingest {
namespace {

constexpr int64_t kNow = 1'700'000'000'000'000'000;  // 2023-11-14T22:13:20Z

Event One(LineDecoder* d, std::string_view line) {
  auto e = d->Decode(line, kNow);
  EXPECT_TRUE(e.ok()) << line << "\n" << e.status().ToString();
  if (!e.ok() || !e->has_value()) {
    ADD_FAILURE() << "no event from " << line;
    return {};
  }
  if (line[0] != '{' || (*e)->source.format != IngestionFormat::kRaw) {  // not the native shape
    EXPECT_EQ((*e)->raw_data, line.substr(0, line.find_last_not_of('\r') + 1));
  }
  return std::move(**e);
}

Event One(LineFormat f, std::string_view line) {
  LineDecoder d(f);
  return One(&d, line);
}

void ExpectError(LineFormat f, std::string_view line, std::string_view needle) {
  LineDecoder d(f);
  auto e = d.Decode(line, kNow);
  ASSERT_FALSE(e.ok()) << line;
  EXPECT_TRUE(e.status().IsInvalidArgument());
  EXPECT_NE(e.status().message().find(needle), std::string::npos) << e.status().message();
}

constexpr std::string_view kOcsf =
    R"({"class_uid":4001,"class_name":"Network Activity","activity_id":6,"time":1700000000123,)"
    R"("device":{"hostname":"fw01","ip":"10.0.0.1"},"metadata":{"product":{"name":"PAN-OS"}},)"
    R"("dst_endpoint":{"ip":"8.8.8.8","port":443},"tags":["a","b"]})";

TEST(FormatsTest, Ocsf) {
  for (LineFormat f : {LineFormat::kOcsf, LineFormat::kAuto}) {
    Event e = One(f, kOcsf);
    EXPECT_EQ(e.type, EventType::Named(EventTypeCode::kNetworkConnection));
    EXPECT_EQ(e.event_time_ns, 1'700'000'000'123'000'000);
    EXPECT_EQ(e.source.host, "fw01");
    EXPECT_EQ(e.source.ip->ToString(), "10.0.0.1");
    EXPECT_EQ(e.source.collector, "PAN-OS");
    EXPECT_EQ(e.source.format, IngestionFormat::kOcsf);
    EXPECT_EQ(e.metadata.at("dst_endpoint.port"), "443");
    EXPECT_EQ(e.metadata.at("tags"), "a,b");
  }
  EXPECT_EQ(One(LineFormat::kOcsf, R"({"class_uid":1007,"activity_id":2,"time":1})").type,
            EventType::Named(EventTypeCode::kProcessStop));
  EXPECT_EQ(One(LineFormat::kOcsf, R"({"class_uid":1001,"activity_id":4,"time":1})").type,
            EventType::Named(EventTypeCode::kFileDelete));
  EXPECT_EQ(One(LineFormat::kOcsf, R"({"class_uid":2004,"malware":[{"name":"x"}],"time":1})").type,
            EventType::Named(EventTypeCode::kMalwareDetected));
  EXPECT_EQ(One(LineFormat::kOcsf, R"({"class_uid":6003,"class_name":"API Activity","time":1})").type,
            EventType::Custom("API Activity"));
  ExpectError(LineFormat::kOcsf, R"({"class_uid":4001,"time":"soon"})", "field 'time'");
  ExpectError(LineFormat::kOcsf, R"({"class_uid":4001,"device":{"ip":"10.0.0.300"}})", "field 'device.ip'");
  ExpectError(LineFormat::kOcsf, R"({"class_uid":4001,"a":{"b":1},"a.b":2})", "field 'a.b'");
  ExpectError(LineFormat::kOcsf, R"({"class_uid":4001,)", "malformed JSON");
}

TEST(FormatsTest, Ecs) {
  constexpr std::string_view line =
      R"({"@timestamp":"2023-11-14T22:13:20.5Z","event":{"category":["authentication"],"type":["start"],)"
      R"("outcome":"failure"},"host":{"name":"dc01","ip":["10.1.1.1","fe80::1"]},"agent":{"type":"winlogbeat"},)"
      R"("user":{"name":"bob"}})";
  for (LineFormat f : {LineFormat::kEcs, LineFormat::kAuto}) {
    Event e = One(f, line);
    EXPECT_EQ(e.type, EventType::Named(EventTypeCode::kAuthentication));
    EXPECT_EQ(e.event_time_ns, 1'700'000'000'500'000'000);
    EXPECT_EQ(e.source.host, "dc01");
    EXPECT_EQ(e.source.ip->ToString(), "10.1.1.1");
    EXPECT_EQ(e.source.collector, "winlogbeat");
    EXPECT_EQ(e.metadata.at("user.name"), "bob");
    EXPECT_EQ(e.metadata.at("event.outcome"), "failure");
  }
  // Dotted names at the top level mean the same as nested ones.
  Event dotted = One(LineFormat::kEcs,
                     R"({"@timestamp":"2023-11-14T22:13:20Z","event.category":"network","dns.question.name":"x.example"})");
  EXPECT_EQ(dotted.type, EventType::Named(EventTypeCode::kDnsQuery));
  Event file = One(LineFormat::kEcs,
                   R"({"@timestamp":"2023-11-14T22:13:20Z","event":{"category":"file","type":"deletion"}})");
  EXPECT_EQ(file.type, EventType::Named(EventTypeCode::kFileDelete));
  ExpectError(LineFormat::kEcs, R"({"@timestamp":"14/11/2023"})", "field '@timestamp'");
}

TEST(FormatsTest, ZeekTsvWithItsHeader) {
  LineDecoder d(LineFormat::kAuto);
  for (std::string_view header : {"#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)",
                                  "#unset_field\t-", "#path\tconn", "#open\t2023-11-14-22-13-20",
                                  "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice",
                                  "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring"}) {
    auto r = d.Decode(header, kNow);
    ASSERT_TRUE(r.ok()) << header << ": " << r.status().ToString();
    EXPECT_FALSE(r->has_value());
  }
  Event e = One(&d, "1700000000.250000\tCabc1\t192.168.1.5\t50465\t93.184.216.34\t80\ttcp\t-");
  EXPECT_EQ(e.type, EventType::Named(EventTypeCode::kNetworkConnection));
  EXPECT_EQ(e.event_time_ns, 1'700'000'000'250'000'000);
  EXPECT_EQ(e.source.host, "192.168.1.5");
  EXPECT_EQ(e.source.ip->ToString(), "192.168.1.5");
  EXPECT_EQ(e.source.format, IngestionFormat::kZeek);
  EXPECT_EQ(e.metadata.at("id.resp_p"), "80");
  EXPECT_EQ(e.metadata.at("_path"), "conn");
  EXPECT_EQ(e.metadata.count("service"), 0u);  // unset
  auto short_line = d.Decode("1700000000.25\tCabc1", kNow);
  ASSERT_FALSE(short_line.ok());
  EXPECT_NE(short_line.status().message().find("2 fields, its #fields header names 8"), std::string::npos);
  ExpectError(LineFormat::kZeek, "1700000000.25\tCabc1", "before a #fields header");
  // Escaped separators come back as bytes.
  LineDecoder d2(LineFormat::kZeek);
  ASSERT_TRUE(d2.Decode("#fields\tts\tquery", kNow).ok());
  ASSERT_TRUE(d2.Decode("#path\tdns", kNow).ok());
  Event q = One(&d2, "1700000000\ta\\x09b.example");
  EXPECT_EQ(q.metadata.at("query"), "a\tb.example");
  EXPECT_EQ(q.type, EventType::Named(EventTypeCode::kDnsQuery));
  auto far = d2.Decode("9700000000.5\tq", kNow);
  ASSERT_FALSE(far.ok());
  EXPECT_NE(far.status().message().find("out of range"), std::string::npos);
  auto bad_time = d2.Decode("17000000x0\tq", kNow);
  ASSERT_FALSE(bad_time.ok());
  EXPECT_NE(bad_time.status().message().find("field 'ts'"), std::string::npos);
}

TEST(FormatsTest, ZeekJson) {
  Event e = One(LineFormat::kAuto,
                R"({"ts":1700000000.5,"uid":"C1","id.orig_h":"10.0.0.9","id.orig_p":5353,"query":"evil.example","qtype_name":"A"})");
  EXPECT_EQ(e.type, EventType::Named(EventTypeCode::kDnsQuery));
  EXPECT_EQ(e.event_time_ns, 1'700'000'000'500'000'000);
  EXPECT_EQ(e.metadata.at("query"), "evil.example");
  EXPECT_EQ(e.source.format, IngestionFormat::kZeek);
  Event iso = One(LineFormat::kZeek, R"({"ts":"2023-11-14T22:13:20.000001Z","uid":"C2","_path":"weird"})");
  EXPECT_EQ(iso.type, EventType::Named(EventTypeCode::kAnomalyDetected));
  EXPECT_EQ(iso.event_time_ns, 1'700'000'000'000'001'000);
}

TEST(FormatsTest, SuricataEve) {
  constexpr std::string_view alert =
      R"({"timestamp":"2023-11-14T22:13:20.123456+0000","flow_id":1234,"in_iface":"eth0","event_type":"alert",)"
      R"("src_ip":"10.0.0.5","src_port":4444,"dest_ip":"203.0.113.9","dest_port":80,"proto":"TCP",)"
      R"("alert":{"action":"allowed","signature_id":2019401,"signature":"ET TROJAN Fake",)"
      R"("category":"A Network Trojan was detected","severity":1},"host":"ids01"})";
  for (LineFormat f : {LineFormat::kSuricata, LineFormat::kAuto}) {
    Event e = One(f, alert);
    EXPECT_EQ(e.type, EventType::Named(EventTypeCode::kMalwareDetected));
    EXPECT_EQ(e.event_time_ns, 1'700'000'000'123'456'000);
    EXPECT_EQ(e.source.host, "ids01");
    EXPECT_EQ(e.source.ip->ToString(), "10.0.0.5");
    EXPECT_EQ(e.metadata.at("alert.signature_id"), "2019401");
    EXPECT_EQ(e.source.format, IngestionFormat::kSuricata);
  }
  Event stats = One(LineFormat::kAuto,
                    R"({"timestamp":"2023-11-14T22:13:20.000000-0100","event_type":"stats","stats":{"uptime":5}})");
  EXPECT_EQ(stats.type, EventType::Custom("suricata.stats"));
  EXPECT_EQ(stats.event_time_ns, 1'700'003'600'000'000'000);
}

TEST(FormatsTest, Cef) {
  constexpr std::string_view bare =
      "CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 "
      "spt=1232 msg=Detected a threat\\=bad. No action needed rt=1700000000123 dvchost=fw\\|01";
  for (LineFormat f : {LineFormat::kCef, LineFormat::kAuto}) {
    Event e = One(f, bare);
    EXPECT_EQ(e.type, EventType::Named(EventTypeCode::kMalwareDetected));
    EXPECT_EQ(e.event_time_ns, 1'700'000'000'123'000'000);
    EXPECT_EQ(e.source.host, "fw|01");
    EXPECT_EQ(e.source.ip->ToString(), "10.0.0.1");
    EXPECT_EQ(e.source.collector, "Security threatmanager");
    EXPECT_EQ(e.metadata.at("msg"), "Detected a threat=bad. No action needed");
    EXPECT_EQ(e.metadata.at("cef.signature_id"), "100");
    EXPECT_EQ(e.metadata.at("spt"), "1232");
    EXPECT_EQ(e.source.format, IngestionFormat::kCef);
  }
  // After a syslog header: its host and time, unless the extension has them.
  Event wrapped = One(LineFormat::kAuto,
                      "<134>Nov 14 22:13:21 fw02 CEF:0|Acme|FW|2|7|Connection denied|5|src=10.9.9.9 act=deny");
  EXPECT_EQ(wrapped.type, EventType::Named(EventTypeCode::kNetworkConnection));
  EXPECT_EQ(wrapped.source.host, "fw02");
  EXPECT_EQ(wrapped.event_time_ns, 1'700'000'001'000'000'000);
  EXPECT_EQ(wrapped.metadata.at("syslog.facility"), "16");
  Event dated = One(LineFormat::kCef, "CEF:0|A|B|1|2|Thing happened|3|rt=Nov 14 2023 22:13:22.5 UTC");
  EXPECT_EQ(dated.event_time_ns, 1'700'000'002'500'000'000);
  EXPECT_EQ(dated.type, EventType::Custom("Thing happened"));
  ExpectError(LineFormat::kCef, "CEF:0|A|B|1|2|name", "5 of its 7");
  ExpectError(LineFormat::kCef, "CEF:0|A|B|1|2|n|3|rt=tomorrow", "field 'rt'");
  ExpectError(LineFormat::kCef, "CEF:0|A|B|1|2|n|3|rt=Nov 14 2023 22:13:22 PST", "time zone");
  ExpectError(LineFormat::kCef, "CEF:0|A|B|1|2|n|3|src=1.1.1.1 src=2.2.2.2", "field 'src'");
  ExpectError(LineFormat::kCef, "hello world", "CEF:");
}

TEST(FormatsTest, Leef) {
  Event one = One(LineFormat::kAuto,
                  "LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=192.0.2.0\tdst=172.50.123.1\tsev=5\t"
                  "cat=anomaly\tdevTime=1700000000000\tusrName=joe");
  EXPECT_EQ(one.type, EventType::Named(EventTypeCode::kAnomalyDetected));
  EXPECT_EQ(one.event_time_ns, kNow);
  EXPECT_EQ(one.source.ip->ToString(), "192.0.2.0");
  EXPECT_EQ(one.metadata.at("usrName"), "joe");
  EXPECT_EQ(one.source.collector, "Microsoft MSExchange");
  EXPECT_EQ(one.source.format, IngestionFormat::kLeef);
  Event two = One(LineFormat::kLeef,
                  "<13>Nov 14 22:13:20 qr01 LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.50.1^dst=10.0.5.2^"
                  "identHostName=ws7^msg=User logon ok");
  EXPECT_EQ(two.type, EventType::Custom("41"));
  EXPECT_EQ(two.source.host, "ws7");
  EXPECT_EQ(two.metadata.at("msg"), "User logon ok");
  Event hex = One(LineFormat::kLeef, "LEEF:2.0|V|P|1|login|x7C|src=10.0.0.1|usrName=a");
  EXPECT_EQ(hex.type, EventType::Named(EventTypeCode::kAuthentication));
  EXPECT_EQ(hex.metadata.at("usrName"), "a");
  ExpectError(LineFormat::kLeef, "LEEF:1.0|V|P|1|e|novalue", "not key=value");
  ExpectError(LineFormat::kLeef, "LEEF:1.0|V|P", "missing leef.product)");
  ExpectError(LineFormat::kLeef, "LEEF:2.0|V|P|1|e|xZZ|a=b", "leef.delimiter");
}

TEST(FormatsTest, Syslog) {
  Event bsd = One(LineFormat::kAuto,
                  "<38>Nov 14 22:13:19 bastion sshd[4242]: Failed password for root from 198.51.100.7 port 22 ssh2");
  EXPECT_EQ(bsd.type, EventType::Named(EventTypeCode::kAuthentication));
  EXPECT_EQ(bsd.event_time_ns, 1'699'999'999'000'000'000);
  EXPECT_EQ(bsd.source.host, "bastion");
  EXPECT_EQ(bsd.metadata.at("syslog.app_name"), "sshd");
  EXPECT_EQ(bsd.metadata.at("syslog.procid"), "4242");
  EXPECT_EQ(bsd.metadata.at("syslog.severity"), "6");
  EXPECT_EQ(bsd.metadata.at("syslog.message"), "Failed password for root from 198.51.100.7 port 22 ssh2");
  EXPECT_EQ(bsd.source.format, IngestionFormat::kSyslog);
  // No year in BSD syslog: a date ahead of now is last year's.
  Event dec = One(LineFormat::kSyslog, "Dec 31 23:59:59 h cron[1]: job");
  EXPECT_EQ(dec.event_time_ns, 1'672'531'199'000'000'000);  // 2022-12-31T23:59:59Z
  Event rfc5424 = One(LineFormat::kSyslog,
                      "<165>1 2023-11-14T22:13:20.003Z mymachine.example.com evntslog - ID47 "
                      "[exampleSDID@32473 iut=\"3\" eventSource=\"Appl\\\"ication\"] \xEF\xBB\xBF" "An application event");
  EXPECT_EQ(rfc5424.event_time_ns, 1'700'000'000'003'000'000);
  EXPECT_EQ(rfc5424.source.host, "mymachine.example.com");
  EXPECT_EQ(rfc5424.metadata.at("sd.exampleSDID@32473.eventSource"), "Appl\"ication");
  EXPECT_EQ(rfc5424.metadata.at("syslog.msgid"), "ID47");
  EXPECT_EQ(rfc5424.metadata.at("syslog.message"), "An application event");
  EXPECT_EQ(rfc5424.metadata.count("syslog.procid"), 0u);
  EXPECT_EQ(rfc5424.type, EventType::Custom("evntslog"));
  Event ip_host = One(LineFormat::kSyslog, "<14>1 - 10.2.3.4 app - - - hi");
  EXPECT_EQ(ip_host.source.ip->ToString(), "10.2.3.4");
  EXPECT_EQ(ip_host.event_time_ns, kNow);
  ExpectError(LineFormat::kSyslog, "<999>Nov 14 22:13:19 h x: y", "field 'syslog.pri'");
  ExpectError(LineFormat::kSyslog, "<13>1 yesterday h a - - - m", "field 'syslog.timestamp'");
  ExpectError(LineFormat::kSyslog, "<13>1 - h a - - [x a=\"b] m", "syslog.structured_data");
}

TEST(FormatsTest, AutoKeepsTheNativeShapeAndNamesUnknownLines) {
  Event native = One(LineFormat::kAuto, R"({"event_type":"DNSQuery","source_host":"h","timestamp":1700000000000})");
  EXPECT_EQ(native.type, EventType::Named(EventTypeCode::kDnsQuery));
  EXPECT_EQ(native.source.host, "h");
  ExpectError(LineFormat::kAuto, "just some words", "not a recognised format");
  ExpectError(LineFormat::kAuto, R"({"event_type":"DNSQuery","bogus":1})", "field 'bogus'");
  LineDecoder d(LineFormat::kAuto);
  for (std::string_view skip : {"", "   ", "\r", "# a comment"}) {
    auto r = d.Decode(skip, kNow);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_FALSE(r->has_value());
  }
  Event crlf = One(LineFormat::kAuto, "<13>Nov 14 22:13:19 h app: msg\r");
  EXPECT_EQ(crlf.metadata.at("syslog.message"), "msg");
}

TEST(FormatsTest, UntrustedBytesBecomeValidText) {
  Event e = One(LineFormat::kCef, std::string_view("CEF:0|V|P|1|2|na\xffme|3|k=v\xfe", 26));
  EXPECT_EQ(e.metadata.at("cef.name"), "na\xEF\xBF\xBDme");
  EXPECT_EQ(e.metadata.at("k"), "v\xEF\xBF\xBD");
  EXPECT_EQ(e.type, EventType::Custom("na\xEF\xBF\xBDme"));
  std::string many = "CEF:0|V|P|1|2|n|3|";
  for (int i = 0; i < 400; ++i) many += "k" + std::to_string(i) + "=v ";
  EXPECT_EQ(One(LineFormat::kCef, many).metadata.size(), kMaxMetadataFields);
  std::string long_name = "CEF:0|V|P|1|2|" + std::string(300, 'n') + "|3|";
  EXPECT_EQ(One(LineFormat::kCef, long_name).type.name().size(), kMaxCustomEventTypeBytes);
}

TEST(FormatsTest, FormatNames) {
  for (std::string_view n : {"auto", "ndjson", "ocsf", "ecs", "zeek", "suricata", "cef", "leef", "syslog"}) {
    auto f = ParseLineFormat(n);
    ASSERT_TRUE(f.ok()) << n;
    EXPECT_EQ(LineFormatName(*f), n);
  }
  EXPECT_TRUE(ParseLineFormat("CEF").ok());
  auto bad = ParseLineFormat("xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("suricata"), std::string::npos);
}

}  // namespace
}  // namespace hanshiro::ingest
