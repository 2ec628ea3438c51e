// llama_sampling_test.cpp — select_nucleus keeps exactly the nucleus a full sort finds (the
// fewest most probable candidates holding p of the mass) on flat, peaked and tied
// distributions, in the candidates' own order, and the sampler made from it works inside a
// llama.cpp chain.
#include "services/llm/llama_sampling.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace hn::services::llm {
namespace {

std::vector<llama_token_data> candidates(const std::vector<float>& logits) {
  std::vector<llama_token_data> v;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    v.push_back({static_cast<llama_token>(i), logits[i], 0.0f});
  }
  return v;
}

// The reference: softmax, sort descending, keep until the running sum reaches p.
std::vector<llama_token> sorted_nucleus(const std::vector<float>& logits, float p) {
  const float max_l = *std::max_element(logits.begin(), logits.end());
  std::vector<std::pair<double, llama_token>> probs;
  double sum = 0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    const double e = std::exp(double(logits[i]) - max_l);
    probs.emplace_back(e, static_cast<llama_token>(i));
    sum += e;
  }
  std::sort(probs.begin(), probs.end(), [](auto& a, auto& b) { return a.first > b.first; });
  std::vector<llama_token> out;
  double cum = 0;
  for (const auto& [pr, id] : probs) {
    out.push_back(id);
    cum += pr / sum;
    if (cum >= p) break;
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<llama_token> fast_nucleus(const std::vector<float>& logits, float p) {
  auto c = candidates(logits);
  std::vector<float> scratch;
  const std::size_t k = select_nucleus(c.data(), c.size(), p, scratch);
  std::vector<llama_token> out;
  double mass = 0;
  for (std::size_t i = 0; i < k; ++i) {
    out.push_back(c[i].id);
    mass += c[i].p;
  }
  EXPECT_NEAR(mass, 1.0, 1e-4);                         // the kept probabilities are renormalised
  EXPECT_TRUE(std::is_sorted(out.begin(), out.end()));  // kept in the order they came in
  return out;
}

TEST(SelectNucleus, FindsTheSortedNucleusOfFlatAndPeakedDistributions) {
  std::mt19937 rng(7);
  for (float spread : {0.05f, 1.0f, 4.0f, 12.0f}) {  // near-flat … strongly peaked
    std::normal_distribution<float> d(0.0f, spread);
    std::vector<float> logits(32000);
    for (auto& l : logits) l = d(rng);
    for (float p : {0.1f, 0.5f, 0.9f, 0.95f, 0.999f}) {
      EXPECT_EQ(fast_nucleus(logits, p), sorted_nucleus(logits, p)) << spread << " " << p;
    }
  }
}

TEST(SelectNucleus, TiesAndTinyInputs) {
  // All equal: the first ceil(p·n) of them.
  const std::vector<float> flat(1000, 0.5f);
  const auto first = fast_nucleus(flat, 0.95f);
  ASSERT_EQ(first.size(), 950U);
  EXPECT_EQ(first.back(), 949);
  EXPECT_EQ(fast_nucleus({3.0f}, 0.9f), std::vector<llama_token>{0});
  EXPECT_EQ(fast_nucleus({0.0f, 9.0f, 1.0f}, 0.5f), std::vector<llama_token>{1});
  // p ≤ 0 keeps the single most probable (llama.cpp's min_keep = 1); p = 1 keeps all.
  EXPECT_EQ(fast_nucleus({0.0f, 2.0f, 1.0f}, 0.0f), std::vector<llama_token>{1});
  EXPECT_EQ(fast_nucleus({0.0f, 2.0f, 1.0f}, 1.0f).size(), 3U);
}

TEST(TopPSampler, DrawsOnlyFromTheNucleusInsideAChain) {
  std::vector<float> logits(5000, -5.0f);
  for (int i = 0; i < 10; ++i) logits[static_cast<std::size_t>(i * 37)] = 10.0f;  // 10 likely
  llama_sampler* chain = llama_sampler_chain_init(llama_sampler_chain_default_params());
  llama_sampler_chain_add(chain, make_top_p_sampler(0.9f));
  llama_sampler_chain_add(chain, llama_sampler_init_temp(0.7f));
  llama_sampler_chain_add(chain, llama_sampler_init_dist(42));
  std::vector<llama_token> seen;
  for (int round = 0; round < 200; ++round) {
    auto c = candidates(logits);
    llama_token_data_array arr{c.data(), c.size(), -1, false};
    llama_sampler_apply(chain, &arr);
    ASSERT_GE(arr.selected, 0);
    const llama_token t = arr.data[arr.selected].id;
    EXPECT_EQ(t % 37, 0) << t;
    EXPECT_LT(t, 370);
    seen.push_back(t);
  }
  std::sort(seen.begin(), seen.end());
  seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  EXPECT_GE(seen.size(), 5U);  // a draw, not the argmax
  llama_sampler_free(chain);
}

}  // namespace
}  // namespace hn::services::llm
