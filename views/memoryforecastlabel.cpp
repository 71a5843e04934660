// The verdict's colours are those of the Hyperparameters page's marks (green ok, amber advisory,
// red refused), so one glance reads the same everywhere.
#include "memoryforecastlabel.h"

#include <QMessageBox>
#include <QPushButton>

#include "byteunits.h"

namespace {

QString bytesText(int64_t bytes) {
  return formatBytes(static_cast<double>(bytes));
}

QString categoryName(const std::string& key) {
  if (key == "base_weights") return MemoryForecastLabel::tr("weights (frozen)");
  if (key == "trainable_weights") return MemoryForecastLabel::tr("adapters (trainable)");
  if (key == "gradients") return MemoryForecastLabel::tr("gradients");
  if (key == "optimizer_state") return MemoryForecastLabel::tr("optimizer state");
  if (key == "activations") return MemoryForecastLabel::tr("activations & temporaries");
  if (key == "allocator_cache") return MemoryForecastLabel::tr("allocator cache");
  if (key == "outside_torch") return MemoryForecastLabel::tr("outside LibTorch");
  return QString::fromStdString(key);
}

// The config's own word ("full", "selective"), as the Hyperparameters page lists it.
QString modeName(deeptune::GradientCheckpointing mode) {
  return QString::fromStdString(deeptune::to_string(mode));
}

}  // namespace

MemoryForecastLabel::MemoryForecastLabel(QWidget* parent) : QLabel(parent) {
  setObjectName(QStringLiteral("memoryForecast"));
  setWordWrap(true);
  setTextFormat(Qt::RichText);
}

QString MemoryForecastLabel::verdictText(deeptune::MemoryFit fit) {
  switch (fit) {
    case deeptune::MemoryFit::kFits:
      return tr("fits", "memory forecast");
    case deeptune::MemoryFit::kTight:
      return tr("tight", "memory forecast: fits with less than a tenth spare");
    case deeptune::MemoryFit::kWontFit:
      return tr("will not fit", "memory forecast");
  }
  return {};
}

QString MemoryForecastLabel::describe(const deeptune::MemoryForecast& f, bool autoMicroBatch) {
  const QString device = QString::fromStdString(f.device);
  QString text = f.available_bytes > 0
                     ? tr("Memory: %1 of %2 free on %3 — %4")
                           .arg(bytesText(f.device_bytes), bytesText(f.available_bytes), device,
                                verdictText(f.fit))
                     : tr("Memory: %1 on %2").arg(bytesText(f.device_bytes), device);
  if (autoMicroBatch)
    text += f.max_micro_batch > 0 ? tr("; auto picks micro-batch %1").arg(f.max_micro_batch)
                                  : tr("; auto finds no micro-batch that fits and would use 1");
  else if (f.max_micro_batch > 0)
    text += tr("; largest micro-batch that fits: %1").arg(f.max_micro_batch);
  else
    text += tr("; not even a micro-batch of 1 fits");
  return text;
}

QString MemoryForecastLabel::checkpointingText(const MemoryForecastPair& p) {
  if (!p.alternative) return {};
  if (p.checkpointing != deeptune::GradientCheckpointing::kOff)
    return tr("; gradient checkpointing (%1) saves %2")
        .arg(modeName(p.checkpointing), bytesText(p.savedBytes()));
  // Off: worth a word only when full checkpointing changes the verdict.
  if (p.alternative->fit >= p.forecast.fit) return {};
  return tr("; full gradient checkpointing would need %1 (%2)")
      .arg(bytesText(p.alternative->device_bytes), verdictText(p.alternative->fit));
}

QString MemoryForecastLabel::describe(const MemoryForecastPair& p, bool autoMicroBatch) {
  return describe(p.forecast, autoMicroBatch) + checkpointingText(p);
}

QString MemoryForecastLabel::suggestions(const MemoryForecastPair& p) {
  const deeptune::MemoryForecast& f = p.forecast;
  QStringList lines;
  if (f.max_micro_batch > 0 && f.max_micro_batch < f.micro_batch)
    lines << tr("• a smaller micro-batch: %1 fits (the batch stays; more steps are accumulated)")
                 .arg(f.max_micro_batch);
  else
    lines << tr("• a smaller micro-batch (the batch stays; more steps are accumulated)");
  lines
      << tr("• a shorter maximum length (now %1 tokens): activations grow with it").arg(f.sequence);
  lines << tr("• bf16 precision on a GPU: half the bytes per weight and activation");
  lines << tr(
      "• LoRA instead of full fine-tuning, or fewer LoRA targets: fewer gradients and "
      "less optimizer state");
  if (p.checkpointing == deeptune::GradientCheckpointing::kOff && p.alternative &&
      p.savedBytes() > 0)
    lines << tr("• full gradient checkpointing: %1 at the peak instead of %2 (about a third "
                "more compute)")
                 .arg(bytesText(p.alternative->device_bytes), bytesText(f.device_bytes));
  else if (p.checkpointing == deeptune::GradientCheckpointing::kSelective)
    lines << tr(
        "• full gradient checkpointing instead of selective: each layer recomputed from "
        "its input");
  return lines.join(QLatin1Char('\n'));
}

QString MemoryForecastLabel::breakdown(const deeptune::MemoryForecast& f) {
  QStringList lines;
  lines << tr("At the step's peak, micro-batch %1 × %2 tokens:").arg(f.micro_batch).arg(f.sequence);
  for (const auto& [key, bytes] : f.categories)
    lines << QStringLiteral("  %1: %2").arg(categoryName(key), bytesText(bytes));
  lines << tr("Whole process on the device: %1").arg(bytesText(f.device_bytes));
  if (f.total_bytes > 0)
    lines << tr("Free now: %1 of %2").arg(bytesText(f.available_bytes), bytesText(f.total_bytes));
  return lines.join(QLatin1Char('\n'));
}

void MemoryForecastLabel::setForecast(const MemoryForecastPair& p, bool autoMicroBatch) {
  const deeptune::MemoryForecast& f = p.forecast;
  m_forecast = p;
  m_has = true;
  m_plain = describe(p, autoMicroBatch);
  const char* colour = f.fit == deeptune::MemoryFit::kFits    ? "#1a7f37"
                       : f.fit == deeptune::MemoryFit::kTight ? "#a06000"
                                                              : "#b02020";
  const char* mark = f.fit == deeptune::MemoryFit::kFits    ? "✔"
                     : f.fit == deeptune::MemoryFit::kTight ? "▲"
                                                            : "✖";
  setText(QStringLiteral("<span style='color:%1'>%2 %3</span>")
              .arg(QLatin1String(colour), QString::fromUtf8(mark), m_plain.toHtmlEscaped()));
  QString tip = breakdown(f);
  if (p.alternative)
    tip += QLatin1Char('\n') +
           tr("With gradient checkpointing %1: %2 on the device")
               .arg(modeName(p.alternativeCheckpointing()), bytesText(p.alternative->device_bytes));
  setToolTip(tip);
}

void MemoryForecastLabel::setPending() {
  // The last verdict stays readable, greyed, until the new one arrives: no flicker while typing.
  if (!m_has) {
    m_plain = tr("Memory: computing…");
    setText(QStringLiteral("<span style='color:#777'>%1</span>").arg(m_plain.toHtmlEscaped()));
  }
}

void MemoryForecastLabel::setUnavailable(const QString& reason) {
  m_has = false;
  m_forecast = {};
  m_plain = tr("Memory: no forecast (%1)").arg(reason);
  setText(QStringLiteral("<span style='color:#777'>%1</span>").arg(m_plain.toHtmlEscaped()));
  setToolTip(QString());
}

bool MemoryForecastLabel::askToStartAnyway(QWidget* parent, const MemoryForecastPair& p,
                                           bool resuming) {
  const deeptune::MemoryForecast& f = p.forecast;
  QMessageBox box(QMessageBox::Warning, tr("This run will not fit in memory"),
                  tr("The forecast says this run's training step will not fit on %1.")
                      .arg(QString::fromStdString(f.device)),
                  QMessageBox::NoButton, parent);
  box.setObjectName(QStringLiteral("memoryQuestion"));
  box.setInformativeText(
      tr("It needs %1 at its peak; %2 is free now. Training would likely stop at the first "
         "step with an out-of-memory error (on a GPU the micro-batch is halved until it fits, "
         "which is slower).\n\nTo make it fit, try:\n%3")
          .arg(bytesText(f.device_bytes), bytesText(f.available_bytes), suggestions(p)));
  box.setDetailedText(breakdown(f));
  QPushButton* start =
      box.addButton(resuming ? tr("Resume anyway") : tr("Start anyway"), QMessageBox::AcceptRole);
  QPushButton* cancel = box.addButton(QMessageBox::Cancel);
  box.setDefaultButton(cancel);
  box.setEscapeButton(cancel);
  box.exec();
  return box.clickedButton() == start;
}
