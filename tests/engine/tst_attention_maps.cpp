// Attention maps (deeptune/attention_map.h): the per-head statistics on matrices whose answers
// are known by hand, max-pooling that is a true block maximum covering every row and column once,
// and fp16 packing within half precision's rounding.
#include <QtTest>
#include <cmath>
#include <random>

#include "deeptune/attention_map.h"
#include "deeptune/error.h"

using namespace deeptune;

namespace {

// Row i spreads its weight evenly over keys 0..i.
std::vector<float> uniform_causal(int64_t t) {
  std::vector<float> w(size_t(t * t), 0.0f);
  for (int64_t i = 0; i < t; ++i)
    for (int64_t j = 0; j <= i; ++j) w[size_t(i * t + j)] = 1.0f / float(i + 1);
  return w;
}

// Row i puts all of its weight on key f(i).
template <typename F>
std::vector<float> one_hot(int64_t t, F key) {
  std::vector<float> w(size_t(t * t), 0.0f);
  for (int64_t i = 0; i < t; ++i) w[size_t(i * t + key(i))] = 1.0f;
  return w;
}

}  // namespace

class TstAttentionMaps : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void statsOfUniformRows();
  void statsOfOneHotHeads();
  void maxPoolIsABlockMaximum();
  void shortMapsAreNotPooled();
  void fp16RoundTrip();
  void packedMapsRoundTripAndDamageIsNamed();
};

void TstAttentionMaps::statsOfUniformRows() {
  const int64_t t = 7;
  const auto w = uniform_causal(t);
  const HeadStats s = head_stats(w.data(), t);
  double entropy = 0, sink = 0, previous = 0;
  for (int64_t i = 0; i < t; ++i) {
    entropy += std::log(double(i + 1));
    sink += 1.0 / double(i + 1);
    if (i > 0) previous += 1.0 / double(i + 1);
  }
  QVERIFY(std::fabs(s.entropy - entropy / t) < 1e-6);
  QVERIFY(std::fabs(s.sink - sink / t) < 1e-6);
  QVERIFY(std::fabs(s.previous - previous / (t - 1)) < 1e-6);
  QVERIFY(std::fabs(s.max - sink / t) < 1e-6);  // every weight of row i is 1 / (i + 1)
}

void TstAttentionMaps::statsOfOneHotHeads() {
  const int64_t t = 10;
  const auto self = one_hot(t, [](int64_t i) { return i; });
  HeadStats s = head_stats(self.data(), t);
  QCOMPARE(s.entropy, 0.0);
  QCOMPARE(s.max, 1.0);
  QCOMPARE(s.previous, 0.0);
  QVERIFY(std::fabs(s.sink - 0.1) < 1e-12);  // only row 0 looks at token 0

  const auto sink = one_hot(t, [](int64_t) { return int64_t(0); });
  s = head_stats(sink.data(), t);
  QCOMPARE(s.sink, 1.0);
  QVERIFY(std::fabs(s.previous - 1.0 / 9.0) < 1e-12);  // row 1's previous token is token 0

  const auto previous = one_hot(t, [](int64_t i) { return i > 0 ? i - 1 : int64_t(0); });
  s = head_stats(previous.data(), t);
  QCOMPARE(s.previous, 1.0);
  QVERIFY(std::fabs(s.sink - 0.2) < 1e-12);  // rows 0 and 1
  QCOMPARE(s.entropy, 0.0);
}

void TstAttentionMaps::maxPoolIsABlockMaximum() {
  const int64_t t = 1000, limit = 512;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> w(size_t(t * t));
  for (auto& x : w) x = u(rng);
  int64_t n = 0;
  const auto pooled = max_pool(w.data(), t, limit, &n);
  QCOMPARE(n, limit);
  QCOMPARE(int64_t(pooled.size()), n * n);
  // Every original row falls in exactly one block, blocks are 1 or 2 rows, in order.
  std::vector<int> owner(size_t(t), -1);
  for (int64_t a = 0; a < n; ++a) {
    const int64_t r0 = a * t / n, r1 = (a + 1) * t / n;
    QVERIFY(r1 - r0 == 1 || r1 - r0 == 2);
    for (int64_t i = r0; i < r1; ++i) {
      QCOMPARE(owner[size_t(i)], -1);
      owner[size_t(i)] = int(a);
    }
  }
  for (int o : owner) QVERIFY(o >= 0);
  // Each cell is the maximum of its block, checked by brute force on a sample of cells.
  for (int64_t a : {int64_t(0), int64_t(1), int64_t(255), int64_t(511)})
    for (int64_t b : {int64_t(0), int64_t(100), int64_t(511)}) {
      float best = 0.0f;
      for (int64_t i = 0; i < t; ++i)
        for (int64_t j = 0; j < t; ++j)
          if (owner[size_t(i)] == a && owner[size_t(j)] == b)
            best = std::max(best, w[size_t(i * t + j)]);
      QCOMPARE(pooled[size_t(a * n + b)], best);
    }
  // A pooled causal map stays causal above the block diagonal.
  const auto causal = uniform_causal(t);
  const auto pc = max_pool(causal.data(), t, limit, &n);
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = a + 1; b < n; ++b) QCOMPARE(pc[size_t(a * n + b)], 0.0f);
}

void TstAttentionMaps::shortMapsAreNotPooled() {
  const auto w = uniform_causal(5);
  int64_t n = 0;
  const auto same = max_pool(w.data(), 5, 512, &n);
  QCOMPARE(n, int64_t(5));
  QVERIFY(same == w);
}

void TstAttentionMaps::fp16RoundTrip() {
  std::vector<float> values{0.0f, 1.0f, 0.5f, 1.0f / 3.0f, 1e-4f, 0.999f, 6.0e-8f};
  const auto back = from_fp16(to_fp16(values));
  QCOMPARE(back.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const float bound = std::max(std::fabs(values[i]) * 0.000489f, 6.0e-8f);  // 2^-11, subnormals
    QVERIFY2(std::fabs(back[i] - values[i]) <= bound,
             qPrintable(QString("%1 -> %2").arg(values[i]).arg(back[i])));
  }
  QCOMPARE(back[0], 0.0f);
  QCOMPARE(back[1], 1.0f);
}

void TstAttentionMaps::packedMapsRoundTripAndDamageIsNamed() {
  const int64_t t = 300;
  auto maps = uniform_causal(t);
  const auto one_hot_head = one_hot(t, [](int64_t i) { return i / 2; });
  maps.insert(maps.end(), one_hot_head.begin(), one_hot_head.end());  // two heads
  const auto packed = pack_maps(maps);
  QVERIFY2(packed.size() < maps.size() * 2 / 4,
           qPrintable(QString("%1 bytes for %2 weights").arg(packed.size()).arg(maps.size())));
  const auto back = unpack_maps(packed, maps.size(), "layer 0");
  QCOMPARE(back.size(), maps.size());
  for (size_t i = 0; i < maps.size(); ++i)
    QVERIFY(std::fabs(back[i] - maps[i]) <= std::max(maps[i] * 0.000489f, 6.0e-8f));
  // A wrong count or damaged bytes: an error naming what was read, never garbage.
  bool named = false;
  try {
    unpack_maps(packed, maps.size() - 1, "layer 0");
  } catch (const Error& e) {
    named = e.where() == "layer 0";
  }
  QVERIFY(named);
  auto damaged = packed;
  damaged.resize(damaged.size() / 2);
  named = false;
  try {
    unpack_maps(damaged, maps.size(), "layer 3");
  } catch (const Error& e) {
    named = e.where() == "layer 3";
  }
  QVERIFY(named);
}

QTEST_GUILESS_MAIN(TstAttentionMaps)
#include "tst_attention_maps.moc"
