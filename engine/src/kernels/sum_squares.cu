// One-launch sum of squares over many device buffers (see sum_squares.h).
// Work is cut into chunks of kChunk values; a table maps each block's chunk to (buffer, offset).
// Each thread sums in fp32 over at most kChunk / kThreads = 16 values (small, so fp32 loses nothing
// that matters), the block reduces in fp32 through shared memory, and one fp64 atomicAdd per block
// accumulates the total (fp64 atomics exist from sm_60).
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "kernels/sum_squares.h"

namespace deeptune::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kChunk = 4096;

struct Chunk {
  const float* data;
  int32_t size;  // <= kChunk
};

__global__ void sum_squares_kernel(const Chunk* chunks, double* out) {
  __shared__ float partial[kThreads];
  const Chunk c = chunks[blockIdx.x];
  float acc = 0.f;
  for (int i = threadIdx.x; i < c.size; i += kThreads) {
    const float v = c.data[i];
    acc += v * v;
  }
  partial[threadIdx.x] = acc;
  __syncthreads();
  for (int stride = kThreads / 2; stride > 0; stride >>= 1) {
    if (threadIdx.x < stride) partial[threadIdx.x] += partial[threadIdx.x + stride];
    __syncthreads();
  }
  if (threadIdx.x == 0) atomicAdd(out, static_cast<double>(partial[0]));
}

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess)
    throw std::runtime_error(std::string("sum_squares_cuda: ") + what + ": " +
                             cudaGetErrorString(e));
}

}  // namespace

double sum_squares_cuda(const std::vector<FloatSpan>& spans, void* stream_ptr) {
  cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
  std::vector<Chunk> table;
  for (const auto& s : spans)
    for (int64_t off = 0; off < s.size; off += kChunk)
      table.push_back(
          {s.data + off, static_cast<int32_t>(s.size - off < kChunk ? s.size - off : kChunk)});
  if (table.empty()) return 0.0;
  // One allocation holds the result and the chunk table; reused across calls (grown when needed)
  // because a training loop calls this every step.
  static thread_local void* buffer = nullptr;
  static thread_local size_t capacity = 0;
  const size_t bytes = sizeof(double) + table.size() * sizeof(Chunk);
  if (bytes > capacity) {
    if (buffer) cudaFree(buffer);
    check(cudaMalloc(&buffer, bytes * 2), "cudaMalloc");
    capacity = bytes * 2;
  }
  double* d_out = static_cast<double*>(buffer);
  Chunk* d_table = reinterpret_cast<Chunk*>(static_cast<char*>(buffer) + sizeof(double));
  check(cudaMemsetAsync(d_out, 0, sizeof(double), stream), "memset");
  check(cudaMemcpyAsync(d_table, table.data(), table.size() * sizeof(Chunk), cudaMemcpyHostToDevice,
                        stream),
        "copy chunk table");
  sum_squares_kernel<<<static_cast<unsigned>(table.size()), kThreads, 0, stream>>>(d_table, d_out);
  check(cudaGetLastError(), "launch");
  double result = 0.0;
  check(cudaMemcpyAsync(&result, d_out, sizeof(double), cudaMemcpyDeviceToHost, stream),
        "copy result");
  check(cudaStreamSynchronize(stream), "synchronize");
  return result;
}

}  // namespace deeptune::kernels
