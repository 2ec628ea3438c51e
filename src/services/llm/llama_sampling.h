// llama_sampling.h — the nucleus (top-p) step of the in-process sampler chain, in linear time.
//
// llama.cpp's own top_p sampler sorts the candidates: it tries the best 256 first and, when
// they do not hold p of the mass, sorts the whole vocabulary. That is cheap for a peaked
// distribution, but for a flat one (high temperature, a small or random-weight model such as
// the tests' tiny GGUFs) every token pays an O(n log n) sort of ~32k candidates, which was
// most of a generation step (bench/RESULTS.md "LLM"). select_nucleus finds the same set —
// the fewest most probable tokens whose probabilities sum to at least p — with a three-way
// quickselect on a copy of the probabilities, then keeps those candidates in the order they
// came in (vocabulary order): O(n) expected, no allocation once the scratch has grown.
//
// The set is the one llama.cpp's top_p keeps (ties at its edge are taken in the candidates'
// order). The rest of the chain (temperature, dist) needs no sorting; dist's draw walks the
// candidates in vocabulary order, so a seed gives the same text on the same build, as
// before, but not the text llama.cpp's top_p (which walks them by probability) would give.
//
// Thread-safety: select_nucleus is a pure function; a sampler made by make_top_p_sampler
// belongs to one generation and is used by one thread at a time (as any llama_sampler).
#pragma once

#include <cstddef>
#include <vector>

#include "llama.h"

namespace hn::services::llm {

// Softmaxes `data[0..n)` (sets each `.p` from `.logit`), then moves the smallest set of the
// most probable candidates whose probabilities sum to at least `p` to the front, in their
// order, and returns its size (at least 1 when n > 0; n when p >= 1; the most probable
// alone when p <= 0). The kept probabilities are renormalised to sum to 1. `scratch` is
// working space (grown to n floats).
std::size_t select_nucleus(llama_token_data* data, std::size_t n, float p,
                           std::vector<float>& scratch);

// A llama_sampler doing select_nucleus on the candidates (llama_sampler_init_top_p's drop-in
// for min_keep = 1). The chain that holds it frees it.
llama_sampler* make_top_p_sampler(float p);

}  // namespace hn::services::llm
