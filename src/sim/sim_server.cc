#include "sim/sim_server.h"
#include "sim/inline_payloads.h"
#include "sim/sim_usage.h"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>
#include <cmath>
#include <deque>
#include <mutex>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "image/image.h"
#include "util/error.h"
#include "util/jsonl.h"

namespace groundcap {

namespace {

// With a charset parameter the Debian cpp-httplib build does not compress
// replies: its brotli encoder otherwise costs ~1 ms of server CPU per reply
// and made the fake server, not the client, the bottleneck of the benchmark.
constexpr const char* kJsonType = "application/json; charset=utf-8";

const char* const kFaultKinds[] = {"429",  "429gemini", "500",     "503",    "drop",
                                   "slow", "truncate",  "nonjson", "length", "empty"};


std::string TextOf(const nlohmann::json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string out;
  if (content.is_array())
    for (const nlohmann::json& p : content)
      if (p.is_object() && p.value("type", "") == "text") out += p.value("text", "");
  return out;
}

int64_t Tokens(size_t chars) { return static_cast<int64_t>(chars / 4 + 1); }

/// Reads an OpenAI chat completions body.
void ParseOpenAi(const nlohmann::json& body, const CutBody& cut, SimRequest& r) {
  r.model = body.value("model", "");
  for (const nlohmann::json& m : body.value("messages", nlohmann::json::array())) {
    std::string role = m.value("role", "");
    const nlohmann::json content = m.value("content", nlohmann::json());
    if (role == "system" || role == "developer") {
      r.system += TextOf(content);
      continue;
    }
    if (content.is_string()) {
      r.prompt += content.get<std::string>();
      continue;
    }
    if (!content.is_array()) continue;
    for (const nlohmann::json& p : content) {
      std::string type = p.value("type", "");
      if (type == "text") {
        r.prompt += p.value("text", "");
      } else if (type == "image_url") {
        // const operator[] on a missing key is undefined behaviour: look first.
        const nlohmann::json iu = p.value("image_url", nlohmann::json());
        std::string url = iu.is_string() ? iu.get<std::string>()
                          : iu.is_object() ? iu.value("url", "") : std::string();
        size_t comma = url.find(',');
        r.images.push_back(url.rfind("data:", 0) == 0 && comma != std::string::npos
                               ? Base64Decode(cut.Resolve(std::string_view(url).substr(comma + 1)))
                                     .value_or("")
                               : std::string());
      }
    }
  }
  const nlohmann::json& rf = body.value("response_format", nlohmann::json());
  if (rf.is_object() && rf.contains("json_schema")) r.schema = rf["json_schema"].value("schema", nlohmann::json());
  else if (rf.is_object() && rf.contains("schema")) r.schema = rf["schema"];
  else if (body.contains("structured_outputs")) r.schema = body["structured_outputs"].value("json", nlohmann::json());
  else if (body.contains("guided_json")) r.schema = body["guided_json"];
}

/// Reads a Gemini generateContent body (camelCase or snake_case).
void ParseGemini(const nlohmann::json& body, const CutBody& cut, SimRequest& r) {
  for (const char* key : {"systemInstruction", "system_instruction"}) {
    if (!body.contains(key)) continue;
    for (const nlohmann::json& p : body[key].value("parts", nlohmann::json::array()))
      r.system += p.value("text", "");
  }
  for (const nlohmann::json& c : body.value("contents", nlohmann::json::array())) {
    for (const nlohmann::json& p : c.value("parts", nlohmann::json::array())) {
      if (p.contains("text")) r.prompt += p.value("text", "");
      for (const char* key : {"inlineData", "inline_data"})
        if (p.contains(key))
          r.images.push_back(Base64Decode(cut.Resolve(p[key].value("data", ""))).value_or(""));
    }
  }
  for (const char* cfg_key : {"generationConfig", "generation_config"}) {
    if (!body.contains(cfg_key)) continue;
    const nlohmann::json& cfg = body[cfg_key];
    for (const char* key : {"responseSchema", "responseJsonSchema", "response_schema"})
      if (cfg.contains(key)) r.schema = cfg[key];
  }
}

nlohmann::json OpenAiEnvelope(const SimRequest& req, const SimReply& reply, int64_t n) {
  std::string finish = reply.finish == "safety" ? "content_filter" : reply.finish;
  nlohmann::json message = {{"role", "assistant"}, {"content", reply.text}};
  if (!reply.thinking.empty()) message["reasoning_content"] = reply.thinking;
  nlohmann::json choice = {{"index", 0}, {"message", message}, {"finish_reason", finish}};
  if (!reply.logprobs.is_null()) choice["logprobs"] = {{"content", reply.logprobs}};
  int64_t prompt = SimPromptTokens(req);  // the published rules, sim_usage.h
  int64_t completion = Tokens(reply.text.size() + reply.thinking.size());
  return {{"id", "chatcmpl-sim-" + std::to_string(n)},
          {"object", "chat.completion"},
          {"created", static_cast<int64_t>(std::time(nullptr))},
          {"model", req.model},
          {"choices", nlohmann::json::array({std::move(choice)})},
          {"usage", {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}}}};
}

nlohmann::json GeminiEnvelope(const SimRequest& req, const SimReply& reply) {
  std::string finish = reply.finish == "length" ? "MAX_TOKENS" : reply.finish == "safety" ? "SAFETY" : "STOP";
  nlohmann::json parts = nlohmann::json::array();
  if (!reply.thinking.empty()) parts.push_back({{"text", reply.thinking}, {"thought", true}});
  if (!reply.text.empty()) parts.push_back({{"text", reply.text}});
  nlohmann::json content = {{"role", "model"}};
  if (!parts.empty()) content["parts"] = parts;
  int64_t prompt = SimPromptTokens(req);  // the published rules, sim_usage.h
  int64_t out = reply.text.empty() ? 0 : Tokens(reply.text.size());
  int64_t thoughts = reply.thinking.empty() ? 0 : Tokens(reply.thinking.size());
  nlohmann::json usage = {{"promptTokenCount", prompt}, {"candidatesTokenCount", out},
                          {"totalTokenCount", prompt + out + thoughts}};
  if (thoughts) usage["thoughtsTokenCount"] = thoughts;
  nlohmann::json candidate = {{"content", content}, {"finishReason", finish}, {"index", 0}};
  if (!reply.logprobs.is_null()) {
    // The same tokens in Gemini's shape: chosen tokens and their alternatives.
    nlohmann::json chosen = nlohmann::json::array(), top = nlohmann::json::array();
    for (const auto& t : reply.logprobs) {
      chosen.push_back({{"token", t["token"]}, {"logProbability", t["logprob"]}});
      nlohmann::json alternatives = nlohmann::json::array();
      for (const auto& a : t["top_logprobs"]) {
        alternatives.push_back({{"token", a["token"]}, {"logProbability", a["logprob"]}});
      }
      top.push_back({{"candidates", std::move(alternatives)}});
    }
    candidate["logprobsResult"] = {{"topCandidates", std::move(top)}, {"chosenCandidates", std::move(chosen)}};
  }
  return {{"candidates", nlohmann::json::array({std::move(candidate)})},
          {"usageMetadata", usage},
          {"modelVersion", req.model}};
}

std::string GoogleError(int code, const std::string& status, const std::string& message,
                        nlohmann::json details = nlohmann::json::array()) {
  nlohmann::json e = {{"code", code}, {"message", message}, {"status", status}};
  if (!details.empty()) e["details"] = details;
  return nlohmann::json{{"error", e}}.dump();
}

std::string OpenAiError(const std::string& message, const std::string& type, const nlohmann::json& code) {
  return nlohmann::json{{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", code}}}}.dump();
}

std::string FormatSeconds(double s) {
  std::ostringstream os;
  os << s;
  return os.str();
}

}  // namespace

FaultConfig FaultConfig::Parse(const std::string& text) {
  FaultConfig f;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string::npos) throw SetupError("fault spec: expected key=value, got '" + item + "'");
    std::string key = item.substr(0, eq);
    std::string value = item.substr(eq + 1);
    try {
      if (key == "rate") f.rate = std::stod(value);
      else if (key == "quota_after") f.quota_after = std::stoll(value);
      else if (key == "retry_after_s") f.retry_after_s = std::stod(value);
      else if (key == "latency_ms") f.latency_ms = std::stod(value);
      else if (key == "latency_jitter_ms") f.latency_jitter_ms = std::stod(value);
      else if (key == "slow_ms") f.slow_ms = std::stod(value);
      else if (key == "seed") f.seed = std::stoull(value);
      else if (key == "listing") f.listing = value != "0" && value != "false";
      else if (key == "require_api_key") f.require_api_key = value;
      else if (key == "models") {
        std::stringstream ms(value);
        std::string name;
        while (std::getline(ms, name, '|')) {
          if (!name.empty()) f.models.push_back(name);
        }
      } else if (key == "kinds") {
        std::stringstream ks(value);
        std::string kind;
        while (std::getline(ks, kind, '|')) {
          bool known = false;
          for (const char* k : kFaultKinds) known = known || kind == k;
          if (!known) throw SetupError("fault spec: unknown fault kind '" + kind + "'");
          f.kinds.push_back(kind);
        }
      } else {
        throw SetupError("fault spec: unknown key '" + key + "'");
      }
    } catch (const std::invalid_argument&) {
      throw SetupError("fault spec: bad number in '" + item + "'");
    } catch (const std::out_of_range&) {
      throw SetupError("fault spec: number out of range in '" + item + "'");
    }
  }
  if (f.rate > 0 && f.kinds.empty()) f.kinds = {"429", "500", "503", "drop", "truncate"};
  return f;
}

struct SimServer::Impl {
  Responder responder;
  FaultConfig faults;
  int threads = 64;
  httplib::Server server;
  std::thread thread;
  std::string host = "127.0.0.1";
  int port = 0;
  int listen_fd = -1;
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> listings{0};
  mutable std::mutex mu;  // guards recent and rng
  std::deque<std::string> recent;  ///< raw bodies, parsed only when a test asks
  std::mt19937_64 rng;

  void Handle(const std::string& api, const httplib::Request& http, httplib::Response& res);
  /// GET /v1/models (OpenAI) and GET /<version>/models[/<name>] (Gemini).
  void HandleListing(const std::string& api, const std::string& name, const httplib::Request& http,
                     httplib::Response& res);
};

void SimServer::Impl::HandleListing(const std::string& api, const std::string& name,
                                    const httplib::Request& http, httplib::Response& res) {
  ++listings;  // not in `requests`: quota_after and request counts are about generation
  const bool gemini = api == "gemini";
  auto answer = [&](int status, const std::string& body) {
    res.status = status;
    res.set_content(body, kJsonType);
  };
  std::string key;
  if (gemini) {
    key = http.get_header_value("x-goog-api-key");
    if (key.empty()) key = http.get_param_value("key");
  } else {
    std::string auth = http.get_header_value("Authorization");
    if (auth.rfind("Bearer ", 0) == 0) key = auth.substr(7);
  }
  if (!faults.require_api_key.empty() && key != faults.require_api_key) {
    if (gemini) {
      answer(400, GoogleError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
                              {{{"@type", "type.googleapis.com/google.rpc.ErrorInfo"},
                                {"reason", "API_KEY_INVALID"}, {"domain", "googleapis.com"}}}));
    } else {
      answer(401, OpenAiError("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"));
    }
    return;
  }
  if (!faults.listing || (!gemini && faults.models.empty())) {
    answer(404, R"({"detail":"Not Found"})");
    return;
  }
  const auto gemini_model = [](const std::string& m) {
    return nlohmann::json{{"name", "models/" + m},
                          {"displayName", m},
                          {"supportedGenerationMethods", {"generateContent", "countTokens"}}};
  };
  if (!gemini) {
    nlohmann::json data = nlohmann::json::array();
    for (const std::string& m : faults.models)
      data.push_back({{"id", m}, {"object", "model"}, {"owned_by", "groundcap-sim"}});
    answer(200, nlohmann::json{{"object", "list"}, {"data", data}}.dump());
    return;
  }
  if (name.empty()) {
    nlohmann::json list = nlohmann::json::array();
    for (const std::string& m : faults.models) list.push_back(gemini_model(m));
    answer(200, nlohmann::json{{"models", list}}.dump());
    return;
  }
  const bool served = faults.models.empty() ||
                      std::find(faults.models.begin(), faults.models.end(), name) != faults.models.end();
  if (!served) {
    answer(404, GoogleError(404, "NOT_FOUND",
                            "models/" + name + " is not found for API version v1beta, or is not "
                            "supported for generateContent."));
    return;
  }
  answer(200, gemini_model(name).dump());
}

void SimServer::Impl::Handle(const std::string& api, const httplib::Request& http,
                             httplib::Response& res) {
  // Latency counts from the request's arrival, as a teacher's would: the
  // time spent here parsing a large body is inside it, not added to it.
  const auto arrived = std::chrono::steady_clock::now();
  const int64_t n = ++requests;
  const bool gemini = api == "gemini";
  auto error = [&](int status, const std::string& body) {
    res.status = status;
    res.set_content(body, kJsonType);
  };
  // Inline images are cut out before parsing (inline_payloads.h).
  const std::optional<CutBody> cut = CutInlinePayloads(http.body);
  nlohmann::json body = nlohmann::json::parse(cut ? cut->json : http.body, nullptr, false);
  {
    std::string raw = http.body;  // copied outside the lock all handlers share
    std::lock_guard<std::mutex> lock(mu);
    recent.push_back(std::move(raw));
    if (recent.size() > 64) recent.pop_front();
  }
  if (body.is_discarded() || !body.is_object()) {
    error(400, gemini ? GoogleError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
                      : OpenAiError("We could not parse the JSON body of your request.",
                                    "invalid_request_error", nullptr));
    return;
  }
  SimRequest req;
  req.api = api;
  req.body = body;
  req.target = http.target;
  if (gemini) {
    req.api_key = http.get_header_value("x-goog-api-key");
    if (req.api_key.empty()) req.api_key = http.get_param_value("key");
  } else {
    std::string auth = http.get_header_value("Authorization");
    if (auth.rfind("Bearer ", 0) == 0) req.api_key = auth.substr(7);
  }

  // Latency and the fault draw.
  double latency = faults.latency_ms;
  std::string fault;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (faults.latency_jitter_ms > 0)
      latency += std::uniform_real_distribution<double>(0, faults.latency_jitter_ms)(rng);
    if (faults.rate > 0 && !faults.kinds.empty() &&
        std::uniform_real_distribution<double>(0, 1)(rng) < faults.rate) {
      fault = faults.kinds[std::uniform_int_distribution<size_t>(0, faults.kinds.size() - 1)(rng)];
    }
  }
  if (latency > 0)
    std::this_thread::sleep_until(arrived + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                std::chrono::duration<double, std::milli>(latency)));

  if (!faults.require_api_key.empty() && req.api_key != faults.require_api_key) {
    if (gemini) {
      error(400, GoogleError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
                             {{{"@type", "type.googleapis.com/google.rpc.ErrorInfo"},
                               {"reason", "API_KEY_INVALID"}, {"domain", "googleapis.com"}}}));
    } else {
      error(401, OpenAiError("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"));
    }
    return;
  }
  if (faults.quota_after >= 0 && n > faults.quota_after) {
    if (gemini) {
      error(429, GoogleError(
                     429, "RESOURCE_EXHAUSTED",
                     "You exceeded your current quota, please check your plan and billing details. "
                     "Quota exceeded for metric: generate_content_free_tier_requests, limit: 20",
                     {{{"@type", "type.googleapis.com/google.rpc.QuotaFailure"},
                       {"violations", {{{"quotaMetric", "generativelanguage.googleapis.com/generate_content_free_tier_requests"},
                                        {"quotaId", "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}}}}}}));
    } else {
      error(429, OpenAiError("You exceeded your current quota, please check your plan and billing details.",
                             "insufficient_quota", "insufficient_quota"));
    }
    return;
  }
  const std::string delay = FormatSeconds(faults.retry_after_s);
  if (fault == "429") {
    res.set_header("Retry-After", delay);
    error(429, gemini ? GoogleError(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).")
                      : OpenAiError("Rate limit reached for requests. Please try again in " + delay + "s.",
                                    "requests", "rate_limit_exceeded"));
    return;
  }
  if (fault == "429gemini") {
    error(429, GoogleError(429, "RESOURCE_EXHAUSTED",
                           "You exceeded your current quota. Please retry in " + delay + "s.",
                           {{{"@type", "type.googleapis.com/google.rpc.QuotaFailure"},
                             {"violations", {{{"quotaId", "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"},
                                              {"quotaValue", "10"}}}}},
                            {{"@type", "type.googleapis.com/google.rpc.RetryInfo"}, {"retryDelay", delay + "s"}}}));
    return;
  }
  if (fault == "500") {
    error(500, gemini ? GoogleError(500, "INTERNAL", "An internal error has occurred.")
                      : OpenAiError("The server had an error while processing your request.", "server_error", nullptr));
    return;
  }
  if (fault == "503") {
    error(503, gemini ? GoogleError(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
                      : nlohmann::json{{"error", {{"code", 503}, {"message", "Loading model"}, {"type", "unavailable_error"}}}}.dump());
    return;
  }
  if (fault == "nonjson") {
    res.status = 200;
    res.set_content("<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html");
    return;
  }

  const CutBody none;
  if (gemini) ParseGemini(body, cut ? *cut : none, req);
  else ParseOpenAi(body, cut ? *cut : none, req);
  if (gemini) {
    static const std::regex kModel(R"(/models/([^/:]+):)");
    std::smatch m;
    if (std::regex_search(http.path, m, kModel)) req.model = m[1];
  }
  SimReply reply;
  try {
    reply = responder ? responder(req) : SimReply{};
  } catch (const std::exception& e) {
    error(500, gemini ? GoogleError(500, "INTERNAL", std::string("responder failed: ") + e.what())
                      : OpenAiError(std::string("responder failed: ") + e.what(), "server_error", nullptr));
    return;
  }
  for (const auto& [name, value] : reply.headers) res.set_header(name, value);
  if (!reply.raw_body.empty()) {
    error(reply.status, reply.raw_body);
    return;
  }
  if (fault == "length") {
    // Cut at a UTF-8 character boundary, as a real server would.
    size_t cut = reply.text.size() / 2;
    while (cut > 0 && (static_cast<unsigned char>(reply.text[cut]) & 0xC0) == 0x80) --cut;
    reply.text.resize(cut);
    reply.finish = "length";
  } else if (fault == "empty") {
    reply.text.clear();
    reply.thinking.clear();
    reply.finish = "stop";
  }
  // A responder's text may hold invalid UTF-8; plain dump() would throw.
  std::string out = DumpJsonLine(gemini ? GeminiEnvelope(req, reply) : OpenAiEnvelope(req, reply, n));
  if (fault == "truncate") {
    res.set_content(out.substr(0, out.size() / 2), kJsonType);
  } else if (fault == "drop") {
    // Headers go out, then the connection closes before the body.
    res.set_content_provider(out.size(), kJsonType,
                             [](size_t, size_t, httplib::DataSink&) { return false; });
  } else if (fault == "slow") {
    const size_t chunk = std::max<size_t>(1, out.size() / 8 + 1);
    const double pause_ms = faults.slow_ms / 8;
    auto shared = std::make_shared<std::string>(std::move(out));
    res.set_content_provider(shared->size(), kJsonType,
                             [shared, chunk, pause_ms](size_t offset, size_t length, httplib::DataSink& sink) {
                               std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(pause_ms));
                               sink.write(shared->data() + offset, std::min(chunk, length));
                               return true;
                             });
  } else {
    res.set_content(out, kJsonType);
  }
}

SimServer::SimServer(Responder responder, FaultConfig faults, int threads)
    : impl_(std::make_unique<Impl>()) {
  impl_->responder = std::move(responder);
  impl_->faults = std::move(faults);
  impl_->threads = std::max(1, threads);
  impl_->rng.seed(impl_->faults.seed);
}

SimServer::~SimServer() { Stop(); }

int SimServer::Start(const std::string& host, int port) {
  Impl* impl = impl_.get();
  httplib::Server& s = impl->server;
  const size_t threads = static_cast<size_t>(impl->threads);
  // Fix 1: the .so's default pool is max(8, cores-1), and every keep-alive
  // connection pins a worker. Size the pool for the expected connections.
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.set_keep_alive_max_count(1000000);
  s.set_keep_alive_timeout(30);
  s.set_tcp_nodelay(true);
  s.set_socket_options([impl](socket_t fd) {
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    impl->listen_fd = fd;
  });
  s.Post("/v1/chat/completions", [impl](const httplib::Request& q, httplib::Response& r) {
    impl->Handle("openai", q, r);
  });
  s.Post("/chat/completions", [impl](const httplib::Request& q, httplib::Response& r) {
    impl->Handle("openai", q, r);
  });
  s.Post(R"(/(v1beta|v1|v1alpha)/models/([^/]+):generateContent)",
         [impl](const httplib::Request& q, httplib::Response& r) { impl->Handle("gemini", q, r); });
  // Readiness checks, as vLLM and llama.cpp's server answer them (a run
  // that launches `serve-sim` waits for /health).
  s.Get("/health", [](const httplib::Request&, httplib::Response& r) { r.set_content("{}", "application/json"); });
  s.Get("/v1/models", [impl](const httplib::Request& q, httplib::Response& r) {
    impl->HandleListing("openai", "", q, r);
  });
  s.Get(R"(/(v1beta|v1alpha)/models)", [impl](const httplib::Request& q, httplib::Response& r) {
    impl->HandleListing("gemini", "", q, r);
  });
  s.Get(R"(/(v1beta|v1alpha)/models/([^/:]+))", [impl](const httplib::Request& q, httplib::Response& r) {
    impl->HandleListing("gemini", q.matches[2].str(), q, r);
  });
  impl->host = host;
  impl->port = port == 0 ? s.bind_to_any_port(host) : (s.bind_to_port(host, port) ? port : -1);
  if (impl->port <= 0) throw SetupError("sim server: cannot bind " + host + ":" + std::to_string(port));
  // Fix 2: the .so listens with a compiled-in backlog of 5, which overflows
  // under bursts of new connections (curl then sees resets). Linux lets a
  // second listen() enlarge it.
  if (impl->listen_fd >= 0) ::listen(impl->listen_fd, 4096);
  impl->thread = std::thread([impl] { impl->server.listen_after_bind(); });
  for (int i = 0; i < 500 && !s.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return impl->port;
}

void SimServer::Stop() {
  if (!impl_) return;
  if (impl_->thread.joinable()) {
    for (int i = 0; i < 1000 && !impl_->server.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    impl_->server.stop();
    impl_->thread.join();
  }
}

int SimServer::port() const { return impl_->port; }
std::string SimServer::OpenAiBaseUrl() const {
  return "http://" + impl_->host + ":" + std::to_string(impl_->port) + "/v1";
}
std::string SimServer::GeminiBaseUrl() const {
  return "http://" + impl_->host + ":" + std::to_string(impl_->port);
}
int64_t SimServer::requests() const { return impl_->requests.load(); }
int64_t SimServer::listings() const { return impl_->listings.load(); }
std::vector<nlohmann::json> SimServer::RecentBodies() const {
  std::deque<std::string> raw;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    raw = impl_->recent;
  }
  std::vector<nlohmann::json> bodies;
  for (const std::string& b : raw) bodies.push_back(nlohmann::json::parse(b, nullptr, false));
  return bodies;
}

}  // namespace groundcap
