#include "teacher/teacher_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_set>

#include <fmt/core.h>

#include "teacher/rate_limit.h"
#include "teacher/teacher_endpoints.h"
#include "util/log.h"
#include "util/text_util.h"

namespace groundcap {

namespace {

double NowS() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}


constexpr size_t kMaxResponseBytes = 64u << 20;


/// One TeacherRequest through all its attempts.
struct Job {
  std::string sample_id;
  Teacher::Callback done;
  /// Built once on the submitting thread; reused by retries. Only its body
  /// is sent: the URL and headers are the endpoint's (Route).
  HttpPost post;
  int attempts = 0;
  double first_send_s = -1;
  double deadline_s = 0;
  double token_estimate = 0;
  int endpoint = -1;          ///< where the attempt on the wire went
  int last_endpoint = -1;     ///< where the last failed attempt went (avoided by the retry)
  double attempt_start_s = 0;
};

/// Where and how an endpoint is reached: the URL and header lines its
/// backend puts on every request (they do not depend on the request).
struct Route {
  std::string url;
  curl_slist* headers = nullptr;
};

/// One HTTP attempt on the wire.
struct Transfer {
  std::unique_ptr<Job> job;
  std::string response;
  RateLimitHeaders rate;
  char errbuf[CURL_ERROR_SIZE] = {0};
};

/// curl header callback, one line at a time: a C frame, so it must not throw.
size_t ReadHeader(char* buffer, size_t size, size_t nitems, void* userdata) noexcept {
  const size_t n = size * nitems;
  try {
    static_cast<Transfer*>(userdata)->rate.Read(std::string_view(buffer, n));
  } catch (...) {
  }
  return n;
}

/// curl write callback: a C frame, so it must not throw.
size_t WriteBody(char* ptr, size_t size, size_t nmemb, void* userdata) noexcept {
  Transfer* t = static_cast<Transfer*>(userdata);
  size_t n = size * nmemb;
  try {
    if (t->response.size() + n > kMaxResponseBytes) return 0;  // abort the transfer
    t->response.append(ptr, n);
    return n;
  } catch (...) {
    return 0;
  }
}

void CurlInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

/// The endpoints' capacities and names for the pool (0 = the client's cap).
std::vector<EndpointPool::Spec> PoolSpecs(const std::vector<TeacherEndpoint>& endpoints, int max_in_flight) {
  std::vector<EndpointPool::Spec> specs;
  for (const TeacherEndpoint& e : endpoints)
    specs.push_back({e.name, e.max_in_flight > 0 ? e.max_in_flight : std::max(1, max_in_flight)});
  return specs;
}

std::vector<std::string> AllSecrets(const std::vector<TeacherEndpoint>& endpoints) {
  std::vector<std::string> out;
  for (const TeacherEndpoint& e : endpoints)
    for (std::string& s : e.backend->Secrets()) out.push_back(std::move(s));
  return out;
}

class TeacherClient final : public Teacher {
 public:
  TeacherClient(std::vector<TeacherEndpoint> endpoints, TeacherClientOptions options)
      : endpoints_(std::move(endpoints)),
        backend_(endpoints_.at(0).backend.get()),
        secrets_(AllSecrets(endpoints_)),
        options_(std::move(options)),
        limiter_(options_.requests_per_minute, options_.tokens_per_minute, NowS()),
        pool_(PoolSpecs(endpoints_, options_.max_in_flight), options_.breaker),
        rng_(options_.jitter_seed ? options_.jitter_seed : std::random_device{}()) {
    CurlInitOnce();
    for (const TeacherEndpoint& e : endpoints_) {
      HttpPost proto = e.backend->Build(TeacherRequest{});
      Route r;
      r.url = proto.url;
      for (const std::string& h : proto.headers) r.headers = curl_slist_append(r.headers, h.c_str());
      routes_.push_back(r);
    }
    stats_.endpoints = pool_.AllCounters();
    options_.max_in_flight = std::max(1, options_.max_in_flight);
    options_.retry.max_attempts = std::max(1, options_.retry.max_attempts);
    if (options_.deadline_s <= 0) {
      options_.deadline_s = options_.timeout_s * options_.retry.max_attempts +
                            options_.retry.max_backoff_s * (options_.retry.max_attempts - 1);
    }
    multi_ = curl_multi_init();
    if (!multi_) throw SetupError("libcurl: cannot create a multi handle");
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS,
                      static_cast<long>(options_.max_in_flight + 4 * routes_.size()));
    curl_multi_setopt(multi_, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    thread_ = std::thread([this] { Loop(); });
  }

  ~TeacherClient() override {
    Stop();
    if (thread_.joinable()) thread_.join();
    for (CURL* easy : free_easy_) curl_easy_cleanup(easy);
    curl_multi_cleanup(multi_);
    for (Route& r : routes_) curl_slist_free_all(r.headers);
  }

  void Submit(TeacherRequest request, Callback done) override {
    auto job = std::make_unique<Job>();
    job->sample_id = request.sample_id;
    job->done = std::move(done);
    job->post = backend_->Build(request);
    job->token_estimate = backend_->EstimateTokens(request);
    job->deadline_s = NowS() + options_.deadline_s;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stop_) {
        incoming_.push_back(std::move(job));
        curl_multi_wakeup(multi_);
        return;
      }
    }
    TeacherReply reply;
    reply.error = Error::Make(ErrorKind::kCancelled, "teacher stopped");
    Deliver(*job, std::move(reply));
  }

  void Stop() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
    curl_multi_wakeup(multi_);
  }

  TeacherStats Stats() const override {
    std::lock_guard<std::mutex> lock(stats_mu_);
    return stats_;
  }
  std::string ModelName() const override { return backend_->ModelName(); }
  std::string Fingerprint() const override { return backend_->Fingerprint(); }
  bool SupportsSchema() const override { return backend_->SupportsSchema(); }

 private:
  void Loop();
  void Start(std::unique_ptr<Job> job, int endpoint, double now);
  /// Copies the pool's counters into stats_ (Stats() runs on other threads).
  void PublishPool();
  void OnDone(CURL* easy, CURLcode code, double now);
  void HandleError(std::unique_ptr<Job> job, TeacherReply reply, Error error, double now);
  void Finish(std::unique_ptr<Job> job, TeacherReply reply, double now);
  void FailNow(std::unique_ptr<Job> job, const Error& error, double now);
  void CancelAll(double now);
  double Uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }

  /// Runs the user's callback; nothing may escape into the loop.
  void Deliver(Job& job, TeacherReply reply) {
    try {
      if (job.done) job.done(std::move(reply));
    } catch (const std::exception& e) {
      GC_ERROR("teacher: callback for {} threw: {}", job.sample_id, e.what());
    } catch (...) {
      GC_ERROR("teacher: callback for {} threw", job.sample_id);
    }
  }

  std::vector<TeacherEndpoint> endpoints_;
  Backend* backend_;  ///< endpoint 0's: builds bodies, parses replies (same for all)
  const std::vector<std::string> secrets_;  ///< scrubbed from error messages
  TeacherClientOptions options_;
  RateLimiter limiter_;  ///< requests/tokens per minute, shared by all endpoints
  EndpointPool pool_;    ///< network thread only
  std::vector<Route> routes_;
  std::mt19937_64 rng_;
  CURLM* multi_ = nullptr;
  std::thread thread_;

  std::mutex mu_;  // guards incoming_ and stop_
  std::deque<std::unique_ptr<Job>> incoming_;
  bool stop_ = false;

  mutable std::mutex stats_mu_;
  TeacherStats stats_;

  // Network thread only.
  std::deque<std::unique_ptr<Job>> ready_;
  std::multimap<double, std::unique_ptr<Job>> timers_;  ///< retries by due time
  std::vector<CURL*> free_easy_;
  std::unordered_set<CURL*> active_handles_;
  int active_ = 0;
  std::optional<Error> tripped_;  ///< quota / auth: nothing more is sent
};

void TeacherClient::Loop() {
  std::deque<std::unique_ptr<Job>> incoming;
  while (true) {
    bool stopping = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      incoming.swap(incoming_);
      stopping = stop_;
    }
    for (std::unique_ptr<Job>& job : incoming) ready_.push_back(std::move(job));
    incoming.clear();
    double now = NowS();
    if (stopping) {
      CancelAll(now);
      return;
    }
    // Due retries go first: they are older work.
    std::vector<std::unique_ptr<Job>> due;
    while (!timers_.empty() && timers_.begin()->first <= now) {
      due.push_back(std::move(timers_.begin()->second));
      timers_.erase(timers_.begin());
    }
    for (auto it = due.rbegin(); it != due.rend(); ++it) ready_.push_front(std::move(*it));
    if (tripped_) {
      while (!ready_.empty()) {
        std::unique_ptr<Job> job = std::move(ready_.front());
        ready_.pop_front();
        FailNow(std::move(job), *tripped_, now);
      }
      while (!timers_.empty()) {
        std::unique_ptr<Job> job = std::move(timers_.begin()->second);
        timers_.erase(timers_.begin());
        FailNow(std::move(job), *tripped_, now);
      }
    }

    double wait_s = 1.0;
    while (active_ < options_.max_in_flight && !ready_.empty()) {
      if (now >= ready_.front()->deadline_s) {
        std::unique_ptr<Job> job = std::move(ready_.front());
        ready_.pop_front();
        FailNow(std::move(job),
                Error::Make(ErrorKind::kDeadline, "request deadline passed before it could be sent"),
                now);
        continue;
      }
      EndpointPool::Choice where = pool_.Choose(now, ready_.front()->last_endpoint);
      if (where.index < 0 && where.all_down) {
        // Every endpoint is out and failed its probe: fail fast as a
        // connection failure (never recorded; the step runner stops the run
        // after a few) instead of holding work for a pool that is gone.
        std::unique_ptr<Job> job = std::move(ready_.front());
        ready_.pop_front();
        FailNow(std::move(job),
                Error::Make(ErrorKind::kConnect,
                            fmt::format("cannot reach any teacher endpoint (all {} are out of the pool): {}",
                                        pool_.size(), pool_.DownReport(now))),
                now);
        continue;
      }
      if (where.index < 0) {
        if (where.wait_s > 0) wait_s = std::min(wait_s, where.wait_s);
        break;
      }
      double w = limiter_.TryAcquire(ready_.front()->token_estimate, now);
      if (w > 0) {
        wait_s = std::min(wait_s, w);
        break;
      }
      std::unique_ptr<Job> job = std::move(ready_.front());
      ready_.pop_front();
      Start(std::move(job), where.index, now);
    }
    if (!timers_.empty()) wait_s = std::min(wait_s, timers_.begin()->first - now);

    int running = 0;
    curl_multi_perform(multi_, &running);
    bool completed = false;
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      OnDone(msg->easy_handle, msg->data.result, NowS());
      completed = true;
    }
    if (completed) continue;  // start queued work before sleeping
    int timeout_ms = static_cast<int>(std::ceil(std::max(0.0, wait_s) * 1000));
    curl_multi_poll(multi_, nullptr, 0, timeout_ms, nullptr);
  }
}

void TeacherClient::PublishPool() {
  std::vector<EndpointCounters> counters = pool_.AllCounters();
  std::lock_guard<std::mutex> lock(stats_mu_);
  stats_.endpoints = std::move(counters);
}

void TeacherClient::Start(std::unique_ptr<Job> job, int endpoint, double now) {
  CURL* easy = nullptr;
  if (!free_easy_.empty()) {
    easy = free_easy_.back();
    free_easy_.pop_back();
  } else {
    easy = curl_easy_init();
  }
  if (!easy) {
    FailNow(std::move(job), Error::Make(ErrorKind::kTransport, "libcurl: out of handles"), now);
    return;
  }
  job->attempts++;
  if (job->first_send_s < 0) job->first_send_s = now;
  job->endpoint = endpoint;
  job->attempt_start_s = now;
  const Route& route = routes_[endpoint];
  double timeout_s = std::min(options_.timeout_s, std::max(0.001, job->deadline_s - now));
  auto* t = new Transfer;
  t->job = std::move(job);
  const HttpPost& post = t->job->post;
  curl_easy_setopt(easy, CURLOPT_URL, route.url.c_str());
  curl_easy_setopt(easy, CURLOPT_POST, 1L);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, post.body.data());  // not copied: lives in Job
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(post.body.size()));
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, route.headers);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &ReadHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_s * 1000));
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(timeout_s, options_.connect_timeout_s) * 1000));
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  if (route.url.rfind("https://", 0) == 0) {
    // HTTP/2 where the server offers it; wait for a multiplexable connection
    // instead of opening one per request.
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
  }
  CURLMcode rc = curl_multi_add_handle(multi_, easy);
  if (rc != CURLM_OK) {
    std::unique_ptr<Job> back = std::move(t->job);
    delete t;
    curl_easy_cleanup(easy);
    FailNow(std::move(back),
            Error::Make(ErrorKind::kTransport, std::string("libcurl: ") + curl_multi_strerror(rc)),
            now);
    return;
  }
  ++active_;
  active_handles_.insert(easy);
  pool_.Begin(endpoint, now);
  PublishPool();
  std::lock_guard<std::mutex> lock(stats_mu_);
  stats_.requests++;
  stats_.in_flight = active_;
}

void TeacherClient::OnDone(CURL* easy, CURLcode code, double now) {
  Transfer* t = nullptr;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  curl_off_t retry_after = 0;
  curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &retry_after);
  // Whether any byte of the request left: a connection that was never made
  // has neither a pre-transfer time nor a request size.
  curl_off_t pretransfer_us = 0;
  curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &pretransfer_us);
  long request_size = 0;
  curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &request_size);
  const bool request_sent = pretransfer_us > 0 || request_size > 0;
  curl_multi_remove_handle(multi_, easy);
  active_handles_.erase(easy);
  curl_easy_reset(easy);
  free_easy_.push_back(easy);
  --active_;
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    stats_.in_flight = active_;
  }
  std::unique_ptr<Job> job = std::move(t->job);
  std::string body = std::move(t->response);
  std::string errbuf = t->errbuf;
  // This request's size stands for the next one's.
  const double pause_s = t->rate.PauseSeconds(job->token_estimate);
  delete t;
  if (pause_s > 0) {
    // The server says a budget is used up (or too low for another request
    // like this one): nothing new starts until it resets.
    GC_DEBUG("teacher: rate limit budget of {} used up, holding its new requests for {:.2f}s",
             pool_.counters(job->endpoint).name, pause_s);
    pool_.CoolDown(job->endpoint, now + pause_s);
  }

  TeacherReply reply;
  Error error;
  if (code != CURLE_OK) {
    error = ClassifyCurlError(code, errbuf, request_sent);
    // The step runner stops a run on these (workflow.stop_after_connection_failures)
    // and quotes the message: name the endpoint.
    if (error.kind == ErrorKind::kConnect)
      error.message = "cannot reach " + UrlForMessage(routes_[job->endpoint].url) + ": " + error.message;
  } else if (status >= 200 && status < 300) {
    reply = backend_->ParseOk(body);
    if (!reply.error) {
      limiter_.Settle(job->token_estimate,
                      static_cast<double>(reply.usage.input_tokens + reply.usage.output_tokens +
                                          reply.usage.thinking_tokens),
                      now);
      pool_.Complete(job->endpoint, now, now - job->attempt_start_s);
      PublishPool();
      Finish(std::move(job), std::move(reply), now);
      return;
    }
    error = *reply.error;
  } else {
    error = ClassifyHttpError(static_cast<int>(status), body,
                              retry_after > 0 ? static_cast<double>(retry_after) : -1.0);
  }
  // Error text comes from the server (or curl, which may quote the URL):
  // scrub credentials before it reaches a log, a record or the journal.
  error.message = ScrubSecrets(std::move(error.message), secrets_);
  HandleError(std::move(job), std::move(reply), std::move(error), now);
}

void TeacherClient::HandleError(std::unique_ptr<Job> job, TeacherReply reply, Error error,
                                double now) {
  if (error.kind == ErrorKind::kRateLimited) {
    std::lock_guard<std::mutex> lock(stats_mu_);
    stats_.rate_limited++;
  }
  // The endpoint's part: a 429 holds it (only it) for the backoff delay; a
  // connection failure or 5xx counts toward its breaker; anything else means
  // it answered and works.
  const int endpoint = job->endpoint;
  job->endpoint = -1;
  job->last_endpoint = endpoint;
  double delay = BackoffDelay(options_.retry, job->attempts, Uniform(), error.retry_after_s);
  const bool endpoint_fault = EndpointPool::CountsAgainstEndpoint(error);
  if (endpoint >= 0) {
    const double latency = now - job->attempt_start_s;
    if (error.kind == ErrorKind::kRateLimited || endpoint_fault) {
      pool_.Fail(endpoint, error, now, latency, now + delay);
    } else {
      pool_.Complete(endpoint, now, latency, &error);
    }
    PublishPool();
    // Another endpoint can take the retry (now or when it has room): queue
    // it for that one instead of waiting out this endpoint's delay.
    if ((error.kind == ErrorKind::kRateLimited || endpoint_fault) && pool_.OtherInService(endpoint, now))
      delay = 0;
    // A spent quota or a refused key is the endpoint's key, not the
    // request: the request goes to another endpoint now, and the endpoint is
    // retired (at once for a quota, after auth_failures_to_stop refusals in
    // a row). With none left, nothing more is sent (the run stops, resumable).
    const bool key_error = error.kind == ErrorKind::kQuotaExhausted || error.kind == ErrorKind::kAuth;
    if (key_error && !tripped_) {
      const bool retire = error.kind == ErrorKind::kQuotaExhausted ||
                          pool_.auth_failures(endpoint) >= options_.auth_failures_to_stop;
      if (retire) {
        pool_.Retire(endpoint, fmt::format("{}: {}", ErrorKindName(error.kind), error.message));
        PublishPool();
      }
      if (pool_.remaining() > (retire ? 0 : 1)) {
        if (retire)
          GC_WARN("teacher: {} is out for the rest of the run ({}); {} endpoint(s) left",
                  pool_.counters(endpoint).name, error.message, pool_.remaining());
        timers_.emplace(now, std::move(job));
        return;
      }
      if (retire) {
        tripped_ = error;
        GC_ERROR("teacher: {}, sending no more requests: {}",
                 error.kind == ErrorKind::kAuth ? "authentication failed repeatedly" : "quota exhausted",
                 error.message);
      }
    }
  }
  if (!tripped_ && ShouldRetry(options_.retry, error, job->attempts)) {
    if (now + delay < job->deadline_s) {
      GC_DEBUG("teacher: {} attempt {} failed ({}): retry in {:.2f}s", job->sample_id,
               job->attempts, error.message, delay);
      {
        std::lock_guard<std::mutex> lock(stats_mu_);
        stats_.retries++;
      }
      timers_.emplace(now + delay, std::move(job));
      return;
    }
  }
  error.attempts = job->attempts;
  reply.error = std::move(error);
  Finish(std::move(job), std::move(reply), now);
}

void TeacherClient::Finish(std::unique_ptr<Job> job, TeacherReply reply, double now) {
  reply.attempts = job->attempts;
  if (reply.error) reply.error->attempts = job->attempts;
  reply.latency_s = job->first_send_s >= 0 ? now - job->first_send_s : 0;
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    if (reply.ok()) {
      stats_.succeeded++;
      stats_.usage.input_tokens += reply.usage.input_tokens;
      stats_.usage.output_tokens += reply.usage.output_tokens;
      stats_.usage.thinking_tokens += reply.usage.thinking_tokens;
    } else {
      stats_.failed++;
    }
  }
  if (reply.error) {
    GC_DEBUG("teacher: {} failed after {} attempt(s): {}", job->sample_id, job->attempts,
             reply.error->message);
  }
  Deliver(*job, std::move(reply));
}

void TeacherClient::FailNow(std::unique_ptr<Job> job, const Error& error, double now) {
  TeacherReply reply;
  reply.error = error;
  if (error.kind == ErrorKind::kQuotaExhausted || error.kind == ErrorKind::kAuth)
    reply.error->message = "not sent: " + error.message;
  Finish(std::move(job), std::move(reply), now);
}

void TeacherClient::CancelAll(double now) {
  Error cancelled = Error::Make(ErrorKind::kCancelled, "teacher stopped");
  std::vector<CURL*> handles(active_handles_.begin(), active_handles_.end());
  active_handles_.clear();
  for (CURL* easy : handles) {
    Transfer* t = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
    curl_multi_remove_handle(multi_, easy);
    curl_easy_cleanup(easy);
    --active_;
    if (!t) continue;
    std::unique_ptr<Job> job = std::move(t->job);
    delete t;
    FailNow(std::move(job), cancelled, now);
  }
  while (!ready_.empty()) {
    std::unique_ptr<Job> job = std::move(ready_.front());
    ready_.pop_front();
    FailNow(std::move(job), cancelled, now);
  }
  while (!timers_.empty()) {
    std::unique_ptr<Job> job = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
    FailNow(std::move(job), cancelled, now);
  }
  std::lock_guard<std::mutex> lock(stats_mu_);
  stats_.in_flight = 0;
}

}  // namespace

std::unique_ptr<Teacher> MakeTeacherClient(std::unique_ptr<Backend> backend,
                                           TeacherClientOptions options) {
  std::vector<TeacherEndpoint> one(1);
  one[0].name = UrlForMessage(backend->Build(TeacherRequest{}).url);
  one[0].backend = std::move(backend);
  return MakeTeacherClient(std::move(one), std::move(options));
}

std::unique_ptr<Teacher> MakeTeacherClient(std::vector<TeacherEndpoint> endpoints,
                                           TeacherClientOptions options) {
  if (endpoints.empty()) throw SetupError("teacher: no endpoint configured");
  return std::make_unique<TeacherClient>(std::move(endpoints), std::move(options));
}

}  // namespace groundcap
