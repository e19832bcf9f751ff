#include "util/text_util.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace groundcap {
namespace {

TEST(ScrubSecretsTest, ConfiguredSecretsAndCredentialShapesAreRedacted) {
  const std::vector<std::string> secrets = {"sk-abc123", ""};
  EXPECT_EQ(ScrubSecrets("bad key sk-abc123, again sk-abc123.", secrets),
            "bad key <redacted>, again <redacted>.");
  // Shapes of credentials the spec did not name (another gateway's key).
  EXPECT_EQ(ScrubSecrets("Authorization: Bearer tok.EN_1/2+3=", {}), "Authorization: Bearer <redacted>");
  EXPECT_EQ(ScrubSecrets("GET /v1/models?key=AIzaXYZ&alt=json", {}), "GET /v1/models?key=<redacted>&alt=json");
  EXPECT_EQ(ScrubSecrets("x-goog-api-key: AIzaXYZ", {}), "x-goog-api-key: <redacted>");
  EXPECT_EQ(ScrubSecrets(R"({"api_key": "k-1"})", {}), R"({"api_key": "<redacted>"})");
  EXPECT_EQ(ScrubSecrets("BEARER abc and bearer def", {}), "BEARER <redacted> and bearer <redacted>");
  // Nothing to hide: unchanged, including an empty secret list entry.
  EXPECT_EQ(ScrubSecrets("model not found: qwen", secrets), "model not found: qwen");
  EXPECT_EQ(ScrubSecrets("", secrets), "");
}

}  // namespace
}  // namespace groundcap
