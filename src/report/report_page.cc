// The page skeleton and its Content-Security-Policy: see report_page.h.
// The only OpenSSL user (SHA-256 of the inline script and style).
#include "report/report_page.h"

#include <openssl/evp.h>

#include <string>

#include "image/image.h"

namespace groundcap {
namespace {

/// The static skeleton between the style and the data. No untrusted text
/// is ever written here: titles and counts are filled by the script.
constexpr std::string_view kSkeleton = R"HTML(
<header class="top">
  <h1>groundcap report <span class="title" id="title"></span></h1>
  <p id="subtitle"></p>
</header>
<section id="summary" aria-label="Summary"></section>
<nav id="controls" aria-label="Filters">
  <label>Status
    <select id="f-status">
      <option value="all">all</option><option value="ok">ok</option><option value="failed">failed</option>
      <option value="flagged">flagged</option><option value="warnings">with warnings</option>
    </select></label>
  <label>Error kind <select id="f-kind"><option value="">any</option></select></label>
  <label id="c-nobox"><input type="checkbox" id="f-nobox"> expression without box</label>
  <label id="c-nospan"><input type="checkbox" id="f-nospan"> span not located</label>
  <label><input type="checkbox" id="f-below-on"> score below
    <input type="range" id="f-below" min="0" max="1" step="0.05" value="0.5"><output id="f-below-val">0.50</output></label>
  <input type="search" id="f-q" placeholder="Search captions, expressions, ids" aria-label="Search">
  <label>Sort
    <select id="f-sort">
      <option value="input">input order</option><option value="score">score, lowest first</option>
      <option value="score-desc">score, highest first</option><option value="boxes">most boxes first</option>
      <option value="boxes-asc">fewest boxes first</option>
    </select></label>
  <button type="button" class="chip" id="f-clear">clear filters</button>
  <span class="count" id="count"></span>
</nav>
<main id="list"></main>
<nav id="pager" aria-label="Pages"><button type="button" id="prev">&lsaquo; previous</button><span id="pageinfo"></span><button type="button" id="next">next &rsaquo;</button></nav>
<script type="application/json" id="gc-samples">)HTML";

}  // namespace

std::string CspHashSource(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  return "sha256-" + Base64Encode(std::string(reinterpret_cast<const char*>(digest), length));
}

std::string ReportContentSecurityPolicy() {
  return "default-src 'none'; script-src '" + CspHashSource(ReportScript()) + "'; style-src '" +
         CspHashSource(ReportStyle()) + "'; img-src 'self' data: file:; base-uri 'none'; form-action 'none'";
}

std::string PageHead() {
  std::string head =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"" +
      ReportContentSecurityPolicy() +
      "\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"generator\" content=\"groundcap report\">\n<title>groundcap report</title>\n<style>";
  head += ReportStyle();
  head += "</style>\n</head>\n<body>";
  head += kSkeleton;
  return head;
}

std::string PageTail() {
  std::string tail = "</script>\n<script>";
  tail += ReportScript();
  tail += "</script>\n</body>\n</html>\n";
  return tail;
}

}  // namespace groundcap
