// CPU reference for the sum-of-squares kernel (see sum_squares.h).
#include "kernels/sum_squares.h"

namespace deeptune::kernels {

double sum_squares_reference(const std::vector<FloatSpan>& spans) {
  double total = 0.0;
  for (const auto& s : spans)
    for (int64_t i = 0; i < s.size; ++i) total += double(s.data[i]) * double(s.data[i]);
  return total;
}

}  // namespace deeptune::kernels
