// llama_sampling.cpp — select_nucleus and the top-p llama_sampler around it.
#include "services/llm/llama_sampling.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

namespace hn::services::llm {
namespace {

// Below this many undecided candidates a sort is cheaper than another partition.
constexpr std::size_t SMALL_RANGE = 32;

float median_of_three(float a, float b, float c) {
  return std::max(std::min(a, b), std::min(std::max(a, b), c));
}

struct TopP {
  float p;
  std::vector<float> scratch;  // the probabilities, reordered by the selection
};

const char* top_p_name(const llama_sampler* /*smpl*/) { return "top-p"; }

void top_p_apply(llama_sampler* smpl, llama_token_data_array* cur) {
  auto* c = static_cast<TopP*>(smpl->ctx);
  if (c->p >= 1.0f || cur->size == 0) return;
  const bool sorted = cur->sorted;  // the order is kept
  cur->size = select_nucleus(cur->data, cur->size, c->p, c->scratch);
  cur->sorted = sorted;
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

std::size_t select_nucleus(llama_token_data* data, std::size_t n, float p,
                           std::vector<float>& scratch) {
  if (n == 0) return 0;
  float max_l = data[0].logit;
  for (std::size_t i = 1; i < n; ++i) max_l = std::max(max_l, data[i].logit);
  double sum = 0.0;
  scratch.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const float e = std::exp(data[i].logit - max_l);
    data[i].p = e;
    scratch[i] = e;
    sum += e;
  }
  if (p >= 1.0f) {
    for (std::size_t i = 0; i < n; ++i) data[i].p = static_cast<float>(data[i].p / sum);
    return n;
  }
  // Find the threshold on a copy of the probabilities: the set is every candidate above
  // `edge` and the first `ties` (in the candidates' order) equal to it.
  float edge = 1.0f;  // exp(0): the most probable
  std::size_t ties = 1;
  if (p > 0.0f) {
    float* v = scratch.data();
    // [0, lo) kept, [lo, hi) undecided, [hi, n) dropped; every kept value is above every
    // undecided one, which is above every dropped one. `need` (the mass still missing)
    // stays > 0 inside the loop.
    double need = static_cast<double>(p) * sum;
    std::size_t lo = 0;
    std::size_t hi = n;
    for (;;) {
      if (hi - lo <= SMALL_RANGE) {
        std::sort(v + lo, v + hi, std::greater<float>());
        std::size_t k = lo;
        while (k < hi) {
          need -= v[k++];
          if (need <= 0.0) break;
        }
        edge = v[k - 1];
        ties = static_cast<std::size_t>(std::count(v + lo, v + k, edge));
        break;
      }
      const float pivot = median_of_three(v[lo], v[lo + (hi - lo) / 2], v[hi - 1]);
      // Three ways: [lo, a) above the pivot, [a, b) equal, [b, hi) below.
      std::size_t a = lo;
      std::size_t i = lo;
      std::size_t b = hi;
      double above = 0.0;
      while (i < b) {
        const float x = v[i];
        if (x > pivot) {
          above += x;
          std::swap(v[a++], v[i++]);
        } else if (x < pivot) {
          std::swap(v[i], v[--b]);
        } else {
          ++i;
        }
      }
      if (above >= need) {  // the set ends among the values above the pivot (a > lo)
        hi = a;
        continue;
      }
      need -= above;
      const double equal = static_cast<double>(pivot) * static_cast<double>(b - a);
      if (equal >= need) {  // … among those equal to it
        edge = pivot;
        ties = std::min<std::size_t>(b - a, static_cast<std::size_t>(std::ceil(need / pivot)));
        ties = std::max<std::size_t>(ties, 1);
        break;
      }
      need -= equal;
      lo = b;
      if (lo >= hi) {  // rounding: everything undecided is needed
        edge = pivot;
        ties = b - a;
        break;
      }
    }
  }
  // Keep the set in the candidates' own order (a draw then maps to the same token when the
  // logits move in their last bits, as a sorted order would).
  std::size_t keep = 0;
  double kept = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const float x = data[i].p;
    if (x > edge || (x == edge && ties > 0)) {
      if (x == edge) --ties;
      kept += x;
      data[keep++] = data[i];
    }
  }
  const auto inv = static_cast<float>(1.0 / kept);
  for (std::size_t i = 0; i < keep; ++i) data[i].p *= inv;
  return keep;
}

llama_sampler* make_top_p_sampler(float p) {
  return llama_sampler_init(&TOP_P_IFACE, new TopP{p, {}});
}

}  // namespace hn::services::llm
