// A teacher server on loopback: speaks the OpenAI-compatible chat completions
// API and Gemini's generateContent, injects faults on demand, and delegates
// the content of replies to a Responder. Tests use it as a fake API with
// scripted replies; `groundcap serve-sim` plugs in the simulated teacher
// (sim_vision.h) that looks at the pixels it receives.
#ifndef GROUNDCAP_SIM_SERVER_H_
#define GROUNDCAP_SIM_SERVER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace groundcap {

/// A request as the server understood it, backend-neutral.
struct SimRequest {
  std::string api;                  ///< "openai" or "gemini"
  std::string model;                ///< model name from the body or URL
  std::string system;               ///< system instruction text
  std::string prompt;               ///< concatenated user text parts
  std::vector<std::string> images;  ///< decoded image bytes, in order
  /// The request body, parsed; large inline image payloads read "~<n>"
  /// (cut out before parsing, inline_payloads.h): their bytes are `images`.
  nlohmann::json body;
  nlohmann::json schema;            ///< structured-output schema, or null
  std::string api_key;              ///< key presented (Bearer or x-goog-api-key/?key=)
  std::string target;               ///< request path with query, e.g. to check no key leaks into URLs
};

/// What to answer (the server wraps it in the API's envelope).
struct SimReply {
  std::string text;
  std::string finish = "stop";      ///< "stop" | "length" | "safety"
  std::string thinking;             ///< optional thought text
  /// Token logprobs in OpenAI's `choices[0].logprobs.content` shape (null =
  /// none), for requests that asked; the Gemini envelope converts them.
  nlohmann::json logprobs;
  /// Tests: when raw_body is non-empty it is sent verbatim with `status`
  /// instead of the API envelope (to script any error shape).
  int status = 200;
  std::string raw_body;
  /// Extra response headers, e.g. x-ratelimit-* budgets.
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Produces reply content. Called concurrently from server threads.
using Responder = std::function<SimReply(const SimRequest&)>;

/// Fault injection, applied before the responder runs.
struct FaultConfig {
  double rate = 0;                  ///< probability a request gets a fault
  std::vector<std::string> kinds;   ///< among: 429, 429gemini, 500, 503, drop, slow, truncate, nonjson, length, empty
  int64_t quota_after = -1;         ///< >=0: every request after this many gets quota exhaustion
  double retry_after_s = 1;         ///< advertised delay on 429
  double latency_ms = 0;            ///< every reply comes this long after its request arrived
  double latency_jitter_ms = 0;     ///< uniform extra latency
  uint64_t seed = 1;
  double slow_ms = 300;             ///< "slow": the body trickles out over this long
  std::string require_api_key;      ///< non-empty: other keys get the API's auth error
  /// Model names served (the listings GET /v1/models and GET
  /// /v1beta/models[/name]; other names get 404). Empty = any name is
  /// served: Gemini's GET models/{name} answers for every name and the
  /// OpenAI listing is absent (404), like a proxy that does not list.
  std::vector<std::string> models;
  bool listing = true;              ///< false: both listings answer 404 (a server without them)
  /// Parses "rate=0.2,kinds=429|500|drop,quota_after=100,latency_ms=200"
  /// (also latency_jitter_ms, retry_after_s, seed, slow_ms, models=a|b,
  /// listing=0, require_api_key=K). Throws SetupError on an unknown key or
  /// fault kind.
  static FaultConfig Parse(const std::string& text);
};

/// The server. Start() binds 127.0.0.1:port (0 = free port) and serves on
/// background threads until Stop() or destruction.
class SimServer {
 public:
  SimServer(Responder responder, FaultConfig faults = {}, int threads = 64);
  ~SimServer();
  /// Returns the bound port; throws SetupError when it cannot bind.
  int Start(const std::string& host = "127.0.0.1", int port = 0);
  void Stop();
  int port() const;
  /// Base URLs to put in a spec: "http://127.0.0.1:P/v1" and "http://127.0.0.1:P".
  std::string OpenAiBaseUrl() const;
  std::string GeminiBaseUrl() const;
  /// Requests received (faulted ones included) and the last request bodies
  /// (64 at most, in full, parsed when asked).
  int64_t requests() const;
  /// Model-listing GETs received (preflight checks; not in requests()).
  int64_t listings() const;
  std::vector<nlohmann::json> RecentBodies() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace groundcap

#endif  // GROUNDCAP_SIM_SERVER_H_
