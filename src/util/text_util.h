// Small ASCII string helpers shared across modules.
#ifndef GROUNDCAP_TEXT_UTIL_H_
#define GROUNDCAP_TEXT_UTIL_H_

#include <string>
#include <string_view>

namespace groundcap {

/// ASCII lower case (bytes >= 0x80 are left as they are, so UTF-8 survives).
std::string AsciiLower(std::string_view s);

/// `s` without leading and trailing characters from `chars`.
std::string_view Trim(std::string_view s, std::string_view chars = " \t\r\n");

}  // namespace groundcap

#endif  // GROUNDCAP_TEXT_UTIL_H_
