// `groundcap plan`: builds the steps as generate would, then asks the cost
// layer for the plan (cost/plan.h). No request is sent.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "cli/commands.h"
#include "cost/estimate.h"
#include "cost/plan.h"
#include "engine/shard.h"
#include "engine/run_lock.h"
#include "grounding/grounding_steps.h"
#include "region_caption/region_caption.h"
#include "spec/spec.h"
#include "teacher/teacher_config.h"
#include "util/error.h"
#include "util/log.h"

namespace groundcap {

namespace {

/// Stands in for the teacher when none can be built (no API key, no base
/// URL yet): steps get the model name; nothing can be sent.
class OfflineTeacher : public Teacher {
 public:
  explicit OfflineTeacher(std::string model) : model_(std::move(model)) {}
  void Submit(TeacherRequest, Callback done) override {
    TeacherReply r;
    r.error = Error::Make(ErrorKind::kCancelled, "plan sends nothing");
    done(std::move(r));
  }
  void Stop() override {}
  TeacherStats Stats() const override { return {}; }
  std::string ModelName() const override { return model_; }
  std::string Fingerprint() const override { return "offline"; }
  bool SupportsSchema() const override { return true; }

 private:
  std::string model_;
};

}  // namespace

int CmdPlan(const PlanOptions& options) {
  Spec spec = Spec::Load(options.spec_path, options.overrides);
  if (options.limit >= 0) spec.Set(spec.pipeline() + ".workflow.limit", options.limit);
  if (!options.prices.empty()) spec.Set(spec.pipeline() + ".workflow.price_table", options.prices);
  // workflow.shard: the plan of this shard, in its directory (nothing is created).
  const std::string shard_field = spec.pipeline() + ".workflow.shard";
  const std::optional<ShardSpec> shard =
      ParseShard(spec.Str(shard_field), shard_field, [](const char* name) { return std::getenv(name); });
  if (shard) spec.Set("results_dir", spec.Str("results_dir") + "/" + ShardDirName(*shard));
  std::unique_ptr<Teacher> teacher;
  bool fingerprints_known = true;
  try {
    teacher = MakeTeacher(spec, spec.pipeline());
  } catch (const SetupError& e) {
    GC_WARN("plan: no teacher ({}); a sample counts as done when its id has a checkpoint", e.what());
  }
  if (!teacher) {
    teacher = std::make_unique<OfflineTeacher>(TeacherModelFromSpec(spec).model);
    fingerprints_known = false;
  }
  std::vector<StepPlan> plans = spec.pipeline() == kImageGrounding ? MakeGroundingSteps(spec, *teacher)
                                                                   : MakeRegionCaptionSteps(spec, *teacher);
  // Journals are read as a resume reads them (a torn tail is repaired), so
  // no run may be writing them meanwhile.
  std::optional<RunLock> lock;
  const std::string results_dir = spec.Str("results_dir");
  std::error_code ec;
  if (std::filesystem::is_directory(results_dir, ec)) lock.emplace(RunLock::Acquire(results_dir));
  nlohmann::json plan = PlanRun(spec, plans, fingerprints_known, shard);
  teacher->Stop();
  if (options.json) std::printf("%s\n", plan.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  else std::fputs(PlanText(plan).c_str(), stdout);
  return kExitOk;
}

}  // namespace groundcap
