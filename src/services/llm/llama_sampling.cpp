// llama_sampling.cpp — select_nucleus and the top-p llama_sampler around it.
#include "services/llm/llama_sampling.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace hn::services::llm {
namespace {

// Below this many undecided candidates a sort is cheaper than another partition.
constexpr std::size_t SMALL_RANGE = 32;

float median_of_three(float a, float b, float c) {
  return std::max(std::min(a, b), std::min(std::max(a, b), c));
}

// Keeps candidates from data[from] on, most probable first (the range is sorted by the
// caller), until `need` is reached; returns the end of what is kept.
std::size_t take_until(const llama_token_data* data, std::size_t from, std::size_t to,
                       double need) {
  std::size_t k = from;
  while (k < to) {
    need -= data[k].p;
    ++k;
    if (need <= 0.0) break;
  }
  return k;
}

struct TopP {
  float p;
};

const char* top_p_name(const llama_sampler* /*smpl*/) { return "top-p"; }

void top_p_apply(llama_sampler* smpl, llama_token_data_array* cur) {
  const auto* c = static_cast<const TopP*>(smpl->ctx);
  if (c->p >= 1.0f || cur->size == 0) return;
  cur->size = select_nucleus(cur->data, cur->size, c->p);
  cur->sorted = false;
}

llama_sampler* top_p_clone(const llama_sampler* smpl) {
  return make_top_p_sampler(static_cast<const TopP*>(smpl->ctx)->p);
}

void top_p_free(llama_sampler* smpl) { delete static_cast<TopP*>(smpl->ctx); }

llama_sampler_i make_iface() {
  llama_sampler_i i{};
  i.name = top_p_name;
  i.apply = top_p_apply;
  i.clone = top_p_clone;
  i.free = top_p_free;
  return i;
}

llama_sampler_i TOP_P_IFACE = make_iface();

}  // namespace

std::size_t select_nucleus(llama_token_data* data, std::size_t n, float p) {
  if (n == 0) return 0;
  float max_l = data[0].logit;
  std::size_t max_i = 0;
  for (std::size_t i = 1; i < n; ++i) {
    if (data[i].logit > max_l) {
      max_l = data[i].logit;
      max_i = i;
    }
  }
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const float e = std::exp(data[i].logit - max_l);
    data[i].p = e;
    sum += e;
  }
  std::size_t keep = n;
  if (!(p > 0.0f)) {
    std::swap(data[0], data[max_i]);  // llama.cpp keeps min_keep (1): the most probable
    keep = 1;
  } else if (p < 1.0f) {
    // [0, lo) kept, [lo, hi) undecided, [hi, n) dropped; `need` is the mass still missing,
    // and stays > 0 inside the loop.
    double need = static_cast<double>(p) * sum;
    std::size_t lo = 0;
    std::size_t hi = n;
    for (;;) {
      if (hi - lo <= SMALL_RANGE) {
        std::sort(data + lo, data + hi,
                  [](const llama_token_data& a, const llama_token_data& b) { return a.p > b.p; });
        keep = take_until(data, lo, hi, need);
        break;
      }
      const float pivot =
          median_of_three(data[lo].p, data[lo + (hi - lo) / 2].p, data[hi - 1].p);
      // Three ways: [lo, a) above the pivot, [a, b) equal, [b, hi) below.
      std::size_t a = lo;
      std::size_t i = lo;
      std::size_t b = hi;
      double above = 0.0;
      double equal = 0.0;
      while (i < b) {
        const float v = data[i].p;
        if (v > pivot) {
          above += v;
          std::swap(data[a++], data[i++]);
        } else if (v < pivot) {
          std::swap(data[i], data[--b]);
        } else {
          equal += v;
          ++i;
        }
      }
      if (above >= need) {  // the set ends among the candidates above the pivot (a > lo)
        hi = a;
        continue;
      }
      need -= above;
      if (equal >= need) {  // … among the equal ones: any of them will do
        keep = take_until(data, a, b, need);
        break;
      }
      need -= equal;
      lo = b;
      if (lo >= hi) {  // rounding: everything undecided is needed
        keep = hi;
        break;
      }
    }
    keep = std::max<std::size_t>(keep, 1);
  }
  double kept = 0.0;
  for (std::size_t i = 0; i < keep; ++i) kept += data[i].p;
  const auto inv = static_cast<float>(1.0 / kept);
  for (std::size_t i = 0; i < keep; ++i) data[i].p *= inv;
  return keep;
}

llama_sampler* make_top_p_sampler(float p) {
  return llama_sampler_init(&TOP_P_IFACE, new TopP{p});
}

}  // namespace hn::services::llm
