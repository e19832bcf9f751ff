// DataFlow-MM's automatic region proposals (ImageBboxGenerator's
// extract_boxes_from_image), reproduced step for step with OpenCV imgproc
// so the boxes match the reference exactly. The only OpenCV user.
#include "image/proposals.h"

#include <algorithm>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace groundcap {
namespace {

constexpr double kMinAreaRatio = 0.01;
constexpr double kMaxAreaRatio = 0.8;
constexpr double kMinAspect = 0.1;
constexpr double kMaxAspect = 5.0;
constexpr double kMaxSideRatio = 0.9;
constexpr double kContainment = 0.3;

using Xywh = std::array<int, 4>;

/// Intersection area divided by the area of `b` (the smaller, later box).
double ContainedFraction(const Xywh& a, const Xywh& b) {
  int ix = std::max(0, std::min(a[0] + a[2], b[0] + b[2]) - std::max(a[0], b[0]));
  int iy = std::max(0, std::min(a[1] + a[3], b[1] + b[3]) - std::max(a[1], b[1]));
  double area_b = static_cast<double>(b[2]) * b[3];
  return area_b > 0 ? static_cast<double>(ix) * iy / area_b : 0.0;
}

}  // namespace

std::vector<std::array<int, 4>> ProposeRegions(const RgbImage& image) {
  if (image.width <= 0 || image.height <= 0) return {};
  // DataFlow reads BGR with cv2.imread and converts with BGR2GRAY; we hold
  // RGB, so RGB2GRAY gives the same grey values.
  cv::Mat rgb(image.height, image.width, CV_8UC3, const_cast<uint8_t*>(image.pixels.data()));
  cv::Mat gray, blurred, thresh, closed;
  cv::cvtColor(rgb, gray, cv::COLOR_RGB2GRAY);
  cv::GaussianBlur(gray, blurred, cv::Size(5, 5), 0);
  cv::adaptiveThreshold(blurred, thresh, 255, cv::ADAPTIVE_THRESH_GAUSSIAN_C,
                        cv::THRESH_BINARY_INV, 11, 2);
  cv::Mat kernel = cv::Mat::ones(8, 8, CV_8U);
  cv::morphologyEx(thresh, closed, cv::MORPH_CLOSE, kernel);
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(closed, contours, cv::RETR_LIST, cv::CHAIN_APPROX_SIMPLE);

  const double img_area = static_cast<double>(image.width) * image.height;
  std::vector<Xywh> boxes;
  for (const auto& contour : contours) {
    double area = cv::contourArea(contour);
    cv::Rect r = cv::boundingRect(contour);
    if (r.height == 0) continue;
    double aspect = static_cast<double>(r.width) / r.height;
    if (area >= kMinAreaRatio * img_area && area <= kMaxAreaRatio * img_area &&
        aspect >= kMinAspect && aspect <= kMaxAspect && r.width <= kMaxSideRatio * image.width &&
        r.height <= kMaxSideRatio * image.height) {
      boxes.push_back({r.x, r.y, r.width, r.height});
    }
  }
  // Python's sorted() is stable: equal areas keep contour order.
  std::stable_sort(boxes.begin(), boxes.end(), [](const Xywh& a, const Xywh& b) {
    return static_cast<int64_t>(a[2]) * a[3] > static_cast<int64_t>(b[2]) * b[3];
  });
  std::vector<Xywh> kept;
  std::vector<bool> dropped(boxes.size(), false);
  for (size_t i = 0; i < boxes.size(); ++i) {
    if (dropped[i]) continue;
    kept.push_back(boxes[i]);
    for (size_t j = i + 1; j < boxes.size(); ++j) {
      if (!dropped[j] && ContainedFraction(boxes[i], boxes[j]) > kContainment) dropped[j] = true;
    }
  }
  return kept;
}

}  // namespace groundcap
