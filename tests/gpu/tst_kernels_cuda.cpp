// Each CUDA kernel against its CPU reference on fresh random inputs (STYLE.md: kernels come in
// pairs). Skips, saying so, where nvcc was missing at build time or no GPU is present.
#include <QtTest>
#include <random>

#include "kernels/sum_squares.h"

#ifdef DEEPTUNE_HAVE_CUDA
#include <cuda_runtime.h>
#endif

using deeptune::kernels::FloatSpan;

class TestKernels : public QObject {
  Q_OBJECT

 private:
  static std::vector<float> random_values(int64_t n, uint32_t seed) {
    std::mt19937 gen(seed);
    std::normal_distribution<float> dist(0.f, 1.f);
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = dist(gen);
    return v;
  }

 private Q_SLOTS:
  void referenceIsSumOfSquares() {
    const std::vector<float> a{1.f, -2.f, 3.f}, b{0.5f};
    QCOMPARE(deeptune::kernels::sum_squares_reference({{a.data(), 3}, {b.data(), 1}}), 14.25);
    QCOMPARE(deeptune::kernels::sum_squares_reference({}), 0.0);
  }

  void sumSquares_CUDA_data() {
    QTest::addColumn<QList<qint64>>("sizes");
    // Around the 4096-value chunk boundary, empty buffers, and one large buffer.
    QTest::newRow("one value") << QList<qint64>{1};
    QTest::newRow("chunk edges") << QList<qint64>{4095, 4096, 4097};
    QTest::newRow("with empty") << QList<qint64>{0, 17, 0, 8192};
    QTest::newRow("many small (LoRA-like)") << QList<qint64>(300, 2048 + 16);
    QTest::newRow("large") << QList<qint64>{5'000'000, 3};
  }

  void sumSquares_CUDA() {
#ifndef DEEPTUNE_HAVE_CUDA
    QSKIP("built without nvcc: no CUDA kernels to test");
#else
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0)
      QSKIP("no CUDA device: the kernel was compiled but cannot run here");
    QFETCH(QList<qint64>, sizes);
    std::vector<std::vector<float>> host;
    std::vector<FloatSpan> host_spans, device_spans;
    std::vector<float*> device;
    uint32_t seed = 1;
    for (qint64 n : sizes) {
      host.push_back(random_values(n, seed++));
      host_spans.push_back({host.back().data(), n});
      float* d = nullptr;
      QCOMPARE(cudaMalloc(&d, std::max<qint64>(n, 1) * sizeof(float)), cudaSuccess);
      QCOMPARE(cudaMemcpy(d, host.back().data(), n * sizeof(float), cudaMemcpyHostToDevice),
               cudaSuccess);
      device.push_back(d);
      device_spans.push_back({d, n});
    }
    const double want = deeptune::kernels::sum_squares_reference(host_spans);
    const double got = deeptune::kernels::sum_squares_cuda(device_spans, nullptr);
    for (float* d : device) cudaFree(d);
    // fp32 partial sums of <= 16 values per thread, fp32 block trees of 256: relative error a few
    // ulp of fp32 times log2(256) — 1e-5 relative is comfortably above that and far below a bug.
    QVERIFY2(std::abs(got - want) <= 1e-5 * want + 1e-6,
             qPrintable(QString("got %1 want %2").arg(got, 0, 'g', 17).arg(want, 0, 'g', 17)));
#endif
  }
};

QTEST_GUILESS_MAIN(TestKernels)
#include "tst_kernels_cuda.moc"
