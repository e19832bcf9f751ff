// The review report's HTML page: its fixed parts (skeleton, style, script)
// and the Content-Security-Policy that pins them. The page is written as
//
//   PageHead() + samples JSON array + kPageMiddle + summary JSON + PageTail()
//
// where the two JSON blocks are <script type="application/json"> data
// (never executed; written with ScriptSafeJson) and the only code is one
// inline script whose SHA-256 is in the policy: inline event handlers,
// other scripts and remote loads are refused by the browser.
#ifndef GROUNDCAP_REPORT_PAGE_H_
#define GROUNDCAP_REPORT_PAGE_H_

#include <string>
#include <string_view>

namespace groundcap {

/// The page's script (report_script.cc): reads the two data blocks and
/// renders the summary, the filters and the sample list. Shows every
/// untrusted string with textContent, never as HTML.
std::string_view ReportScript();
/// The page's style sheet (report_style.cc).
std::string_view ReportStyle();

/// "sha256-<base64>" of `text`, as a CSP source expression.
std::string CspHashSource(std::string_view text);

/// The policy: default-src 'none'; script-src and style-src only the hashes
/// of ReportScript() and ReportStyle(); img-src 'self' data: file:;
/// base-uri and form-action 'none'.
std::string ReportContentSecurityPolicy();

/// Everything up to and including the opening tag of the samples block.
std::string PageHead();
/// Between the samples array and the summary object.
inline constexpr std::string_view kPageMiddle =
    "</script>\n<script type=\"application/json\" id=\"gc-summary\">";
/// From the end of the summary object to the end of the page (the script).
std::string PageTail();

}  // namespace groundcap

#endif  // GROUNDCAP_REPORT_PAGE_H_
