#include "util/log.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace groundcap {

namespace {

LogLevel InitialLevel() {
  const char* env = std::getenv("GROUNDCAP_LOG");
  if (!env) return LogLevel::kInfo;
  if (!std::strcmp(env, "debug")) return LogLevel::kDebug;
  if (!std::strcmp(env, "warn")) return LogLevel::kWarn;
  if (!std::strcmp(env, "error")) return LogLevel::kError;
  if (!std::strcmp(env, "off")) return LogLevel::kOff;
  return LogLevel::kInfo;
}

std::atomic<int> g_level{static_cast<int>(InitialLevel())};

spdlog::logger& Logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::stderr_color_mt("groundcap");
    l->set_pattern("%^[%H:%M:%S.%e %L]%$ %v");
    l->set_level(spdlog::level::trace);
    return l;
  }();
  return *logger;
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }
LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load()); }

void LogLine(LogLevel level, std::string_view message) {
  if (static_cast<int>(level) < g_level.load()) return;
  spdlog::level::level_enum l = spdlog::level::info;
  switch (level) {
    case LogLevel::kDebug: l = spdlog::level::debug; break;
    case LogLevel::kInfo: l = spdlog::level::info; break;
    case LogLevel::kWarn: l = spdlog::level::warn; break;
    case LogLevel::kError: l = spdlog::level::err; break;
    case LogLevel::kOff: return;
  }
  Logger().log(l, "{}", message);
}

}  // namespace groundcap
