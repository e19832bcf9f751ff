// image.* spec keys, mounted under each pipeline block by spec.cc.
#include "image/image_spec.h"

namespace groundcap {

std::vector<SpecField> ImagePrepSpecFields() {
  std::vector<SpecField> fields;
  fields.reserve(12);  // `add` returns a pointer into the vector
  auto add = [&fields](std::string key, FieldType type, std::string def, std::string help) {
    fields.push_back(MakeField(std::move(key), type, std::move(def), std::move(help)));
    return &fields.back();
  };
  add("image.resize", FieldType::kString, "\"pixel_budget\"",
      "How the image sent to the teacher is sized: pixel_budget (downscale to image.max_pixels), "
      "smart_resize (Qwen2.5-VL processor rule, sides multiple of 28) or none")
      ->choices = {"pixel_budget", "smart_resize", "none"};
  SpecField* f = add("image.max_pixels", FieldType::kInt, "1003520",
                     "Pixel budget, or smart_resize max_pixels (1280*28*28)");
  f->min = 1;
  f = add("image.min_pixels", FieldType::kInt, "3136", "smart_resize min_pixels (4*28*28)");
  f->min = 1;
  add("image.allow_upscale", FieldType::kBool, "false",
      "pixel_budget: also enlarge images smaller than the budget");
  add("image.encoding", FieldType::kString, "\"jpeg\"", "Encoding of the image sent: jpeg or png")
      ->choices = {"jpeg", "png"};
  f = add("image.jpeg_quality", FieldType::kInt, "90", "JPEG quality of the image sent (1-100)");
  f->min = 1;
  f->max = 100;
  add("image.pass_through", FieldType::kBool, "true",
      "Send a JPEG/PNG/WebP file's own bytes when preparing would not change it (already at "
      "the target size, upright, 8-bit RGB or grey, no alpha/palette/CMYK); false = always "
      "decode and re-encode");
  f = add("image.max_source_pixels", FieldType::kInt, "178956970",
          "Refuse source images with more pixels than this (decompression-bomb guard)");
  f->min = 1;
  return fields;
}

PrepareOptions PrepareOptionsFromSpec(const Spec& spec, const std::string& pipeline) {
  const std::string p = pipeline + ".image.";
  PrepareOptions o;
  std::string resize = spec.Str(p + "resize");
  o.resize = resize == "none"           ? PrepareOptions::Resize::kNone
             : resize == "smart_resize" ? PrepareOptions::Resize::kSmartResize
                                        : PrepareOptions::Resize::kPixelBudget;
  o.max_pixels = spec.Int(p + "max_pixels");
  o.min_pixels = spec.Int(p + "min_pixels");
  o.allow_upscale = spec.Bool(p + "allow_upscale");
  o.encoding = spec.Str(p + "encoding");
  o.jpeg_quality = static_cast<int>(spec.Int(p + "jpeg_quality"));
  o.pass_through = spec.Bool(p + "pass_through");
  return o;
}

ImageLimits ImageLimitsFromSpec(const Spec& spec, const std::string& pipeline) {
  ImageLimits limits;
  limits.max_pixels = spec.Int(pipeline + ".image.max_source_pixels");
  return limits;
}

}  // namespace groundcap
