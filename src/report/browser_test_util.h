// Headless Chromium for the report's tests: load a page from file://, let
// its script run (virtual time), and return the rendered DOM or a
// screenshot; plus a small reader for the serialised DOM (elements and their
// attributes). Tests only. Chromium missing is a test FAILURE naming the
// package to install, never a skip.
#ifndef GROUNDCAP_BROWSER_TEST_UTIL_H_
#define GROUNDCAP_BROWSER_TEST_UTIL_H_

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "report/report_data.h"
#include "util/run_process.h"
#include "util/test_util.h"

namespace groundcap::testing_util {

/// The Chromium binary: $GROUNDCAP_CHROMIUM, else the Debian package's.
inline std::string ChromiumBinary() {
  if (const char* env = std::getenv("GROUNDCAP_CHROMIUM"); env != nullptr && *env) return env;
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

/// Fails the test (fatally) when Chromium is not installed.
#define GROUNDCAP_REQUIRE_CHROMIUM()                                                              \
  do {                                                                                            \
    if (::groundcap::testing_util::ChromiumBinary().empty()) {                                    \
      FAIL() << "headless Chromium is required by the report tests and was not found "            \
                "(/usr/bin/chromium): install the Debian package `chromium` (scripts/setup.sh "   \
                "does), or set GROUNDCAP_CHROMIUM to a Chromium binary";                           \
    }                                                                                             \
  } while (0)

/// A file:// URL for `path`, with `fragment` (no '#') appended when given.
inline std::string FileUrl(const std::filesystem::path& path, const std::string& fragment = "") {
  std::string url = "file://" + PathToUrl(std::filesystem::absolute(path).lexically_normal().string());
  return fragment.empty() ? url : url + "#" + fragment;
}

/// Runs headless Chromium on `url` with `mode` ("--dump-dom" or
/// "--screenshot=<png>") in a fresh profile, at most 120 s, and returns its
/// stdout (the DOM for --dump-dom). Adds a test failure when it exits badly.
inline std::string RunChromium(const std::string& url, const std::string& mode, int width = 1400,
                               int height = 1000) {
  namespace fs = std::filesystem;
  const std::string binary = ChromiumBinary();
  char profile_template[] = "/tmp/groundcap_chromium_XXXXXX";
  const char* profile = ::mkdtemp(profile_template);
  if (profile == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    return "";
  }
  const fs::path out_file = fs::path(profile) / "stdout.txt";
  const ProcessRun run = RunProcess({"timeout", "120", binary, "--headless", "--no-sandbox", "--disable-gpu",
                                     "--no-first-run", "--disable-extensions", "--hide-scrollbars",
                                     "--user-data-dir=" + std::string(profile), "--virtual-time-budget=15000",
                                     "--window-size=" + std::to_string(width) + "," + std::to_string(height),
                                     mode, url},
                                    out_file.string());
  std::string out = ReadFile(out_file);
  std::error_code ec;
  fs::remove_all(profile, ec);
  EXPECT_TRUE(run.exited_ok()) << "chromium " << mode << " " << url << " exited with status " << run.status;
  return out;
}

/// One element of a serialised DOM: its attributes (entities decoded) and
/// the byte range from its start tag to the next element of the same name.
struct DomElement {
  std::map<std::string, std::string> attrs;
  size_t begin = 0;
  size_t end = 0;
  std::string attr(const std::string& name) const {
    auto it = attrs.find(name);
    return it == attrs.end() ? "" : it->second;
  }
};

/// &amp; &quot; &lt; &gt; &#39; &nbsp; decoded.
inline std::string DecodeEntities(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    static const std::pair<const char*, const char*> kEntities[] = {
        {"&amp;", "&"}, {"&quot;", "\""}, {"&lt;", "<"}, {"&gt;", ">"}, {"&#39;", "'"}, {"&nbsp;", "\xC2\xA0"}};
    bool done = false;
    for (auto [entity, text] : kEntities) {
      if (s.compare(i, std::char_traits<char>::length(entity), entity) == 0) {
        out += text;
        i += std::char_traits<char>::length(entity) - 1;
        done = true;
        break;
      }
    }
    if (!done) out += '&';
  }
  return out;
}

/// Every `<tag ...>` start tag in `dom` with its attributes, in order.
/// Serialised DOM quotes every attribute value with '"' and escapes '"'
/// inside it, so a scan to the next '"' is exact.
inline std::vector<DomElement> FindElements(const std::string& dom, const std::string& tag) {
  std::vector<DomElement> out;
  const std::string open = "<" + tag;
  size_t pos = 0;
  while ((pos = dom.find(open, pos)) != std::string::npos) {
    size_t p = pos + open.size();
    if (p >= dom.size() || (dom[p] != ' ' && dom[p] != '>' && dom[p] != '/')) {
      pos = p;
      continue;
    }
    DomElement e;
    e.begin = pos;
    while (p < dom.size() && dom[p] != '>') {
      if (dom[p] == ' ' || dom[p] == '/') {
        ++p;
        continue;
      }
      size_t name_end = dom.find_first_of("= >", p);
      std::string name = dom.substr(p, name_end - p);
      if (name_end < dom.size() && dom[name_end] == '=' && dom[name_end + 1] == '"') {
        size_t value_end = dom.find('"', name_end + 2);
        e.attrs[name] = DecodeEntities(dom.substr(name_end + 2, value_end - name_end - 2));
        p = value_end + 1;
      } else {
        e.attrs[name] = "";
        p = name_end;
      }
    }
    pos = p;
    out.push_back(std::move(e));
  }
  for (size_t i = 0; i < out.size(); ++i) out[i].end = i + 1 < out.size() ? out[i + 1].begin : dom.size();
  return out;
}

/// Comma-separated numbers ("1.5,2,3") parsed.
inline std::vector<double> Numbers(const std::string& csv) {
  std::vector<double> out;
  size_t pos = 0;
  while (pos < csv.size()) {
    size_t next = csv.find(',', pos);
    if (next == std::string::npos) next = csv.size();
    out.push_back(std::strtod(csv.substr(pos, next - pos).c_str(), nullptr));
    pos = next + 1;
  }
  return out;
}

}  // namespace groundcap::testing_util

#endif  // GROUNDCAP_BROWSER_TEST_UTIL_H_
