// Logging facade over spdlog (log.cc). Messages go to stderr; secrets must
// never be passed here.
#ifndef GROUNDCAP_LOG_H_
#define GROUNDCAP_LOG_H_

#include <string_view>

#include <fmt/core.h>

namespace groundcap {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

/// Messages below `level` are dropped (and their arguments not formatted).
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
/// Writes one line. Thread-safe.
void LogLine(LogLevel level, std::string_view message);

}  // namespace groundcap

#define GC_LOG(level, ...)                                                   \
  do {                                                                       \
    if (static_cast<int>(level) >= static_cast<int>(::groundcap::GetLogLevel())) \
      ::groundcap::LogLine(level, ::fmt::format(__VA_ARGS__));               \
  } while (0)
#define GC_DEBUG(...) GC_LOG(::groundcap::LogLevel::kDebug, __VA_ARGS__)
#define GC_INFO(...) GC_LOG(::groundcap::LogLevel::kInfo, __VA_ARGS__)
#define GC_WARN(...) GC_LOG(::groundcap::LogLevel::kWarn, __VA_ARGS__)
#define GC_ERROR(...) GC_LOG(::groundcap::LogLevel::kError, __VA_ARGS__)

#endif  // GROUNDCAP_LOG_H_
