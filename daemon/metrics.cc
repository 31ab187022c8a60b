#include "daemon/metrics.h"

#include <cmath>
#include <cstdio>

namespace duet::daemon {
namespace {

std::string Number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

void Header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), buckets_(bounds_.size() + 1) {}

void Histogram::Observe(double value) {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

void Histogram::Render(std::string& out, std::string_view name, std::string_view help) const {
  Header(out, name, "histogram", help);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    const std::string le = i < bounds_.size() ? Number(bounds_[i]) : "+Inf";
    out.append(name).append("_bucket{le=\"").append(le).append("\"} ")
        .append(std::to_string(cumulative)).append("\n");
  }
  out.append(name).append("_sum ").append(Number(sum_.load(std::memory_order_relaxed))).append("\n");
  // The count is the +Inf bucket, so the two never disagree mid-observation.
  out.append(name).append("_count ").append(std::to_string(cumulative)).append("\n");
}

std::uint64_t CounterFamily::Get(std::string_view label) const {
  auto it = counts_.find(label);
  return it == counts_.end() ? 0 : it->second;
}

void CounterFamily::Render(std::string& out, std::string_view name, std::string_view label_name,
                           std::string_view help) const {
  Header(out, name, "counter", help);
  for (const auto& [label, count] : counts_)
    out.append(name).append("{").append(label_name).append("=\"").append(label).append("\"} ")
        .append(std::to_string(count)).append("\n");
}

void RenderSample(std::string& out, std::string_view name, std::string_view type,
                  std::string_view help, double value) {
  Header(out, name, type, help);
  out.append(name).append(" ").append(Number(value)).append("\n");
}

void RenderGauges(std::string& out, std::string_view name, std::string_view label_name,
                  std::string_view help, const std::vector<std::pair<std::string, double>>& values) {
  Header(out, name, "gauge", help);
  for (const auto& [label, value] : values)
    out.append(name).append("{").append(label_name).append("=\"").append(label).append("\"} ")
        .append(Number(value)).append("\n");
}

}  // namespace duet::daemon
