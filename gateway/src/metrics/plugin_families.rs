//! Families declared by plugins: registered at load, written only through checked samples,
//! each with a series cap.

use crate::manifest::{MetricFamily, MetricKind};
use crate::outcome::{Sample, SampleOp};
use prometheus::core::Collector;
use prometheus::{
    Counter, CounterVec, Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, Opts,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// A sample the manifest does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SampleError {
    /// No such family.
    #[error("sample for undeclared metric family '{0}'")]
    UnknownFamily(String),
    /// Wrong number of label values.
    #[error("family '{family}' has {expected} labels, sample gave {got}")]
    LabelCount {
        /// Family.
        family: String,
        /// Declared.
        expected: usize,
        /// Given.
        got: usize,
    },
    /// The op does not fit the family (e.g. observe on a counter, negative counter add).
    #[error("{op} does not fit {kind} family '{family}'")]
    Op {
        /// Family.
        family: String,
        /// Its kind.
        kind: &'static str,
        /// The op.
        op: String,
    },
}

enum Vector {
    Counter(CounterVec),
    Gauge(GaugeVec),
    Histogram(HistogramVec),
}

#[derive(Clone)]
enum Series {
    Counter(Counter),
    Gauge(Gauge),
    Histogram(Histogram),
}

/// One family's collector and series; shared by every plugin that declares it identically.
pub(super) struct Family {
    kind: MetricKind,
    labels: usize,
    vector: Vector,
    series: Mutex<HashMap<Vec<String>, Series>>,
    max_series: usize,
    dropped: IntCounter,
}

impl Family {
    /// An (unregistered) family as `f` declares it.
    pub(super) fn new(
        f: &MetricFamily,
        max_series: usize,
        dropped: IntCounter,
    ) -> prometheus::Result<Self> {
        let labels: Vec<&str> = f.label_names.iter().map(String::as_str).collect();
        let opts = Opts::new(f.name.clone(), f.help.clone());
        let vector = match f.kind {
            MetricKind::Counter => Vector::Counter(CounterVec::new(opts, &labels)?),
            MetricKind::Gauge => Vector::Gauge(GaugeVec::new(opts, &labels)?),
            MetricKind::Histogram => {
                let mut hopts = HistogramOpts::new(f.name.clone(), f.help.clone());
                if !f.buckets.is_empty() {
                    hopts = hopts.buckets(f.buckets.clone());
                }
                Vector::Histogram(HistogramVec::new(hopts, &labels)?)
            }
        };
        Ok(Family {
            kind: f.kind,
            labels: labels.len(),
            vector,
            series: Mutex::new(HashMap::new()),
            max_series,
            dropped,
        })
    }

    /// The collector, for the registry.
    pub(super) fn collector(&self) -> Box<dyn Collector> {
        match &self.vector {
            Vector::Counter(v) => Box::new(v.clone()),
            Vector::Gauge(v) => Box::new(v.clone()),
            Vector::Histogram(v) => Box::new(v.clone()),
        }
    }
}

/// One plugin's families.
pub struct PluginFamilies {
    pub(super) families: HashMap<String, Arc<Family>>,
}

impl PluginFamilies {
    /// Checks every sample against the manifest; nothing is applied if one is wrong.
    pub fn check(&self, samples: &[Sample]) -> Result<(), SampleError> {
        for s in samples {
            let family = self
                .families
                .get(&s.family)
                .ok_or_else(|| SampleError::UnknownFamily(s.family.clone()))?;
            if family.labels != s.label_values.len() {
                return Err(SampleError::LabelCount {
                    family: s.family.clone(),
                    expected: family.labels,
                    got: s.label_values.len(),
                });
            }
            let fits = match (family.kind, s.op) {
                (
                    _,
                    SampleOp::Set(v)
                    | SampleOp::Add(v)
                    | SampleOp::Observe(v)
                    | SampleOp::SetIfAbsent(v),
                ) if !v.is_finite() => false,
                (MetricKind::Counter, SampleOp::Add(v)) => v >= 0.0,
                (
                    MetricKind::Gauge,
                    SampleOp::Set(_) | SampleOp::Add(_) | SampleOp::SetIfAbsent(_),
                ) => true,
                (MetricKind::Histogram, SampleOp::Observe(_)) => true,
                _ => false,
            };
            if !fits {
                return Err(SampleError::Op {
                    family: s.family.clone(),
                    kind: match family.kind {
                        MetricKind::Counter => "counter",
                        MetricKind::Gauge => "gauge",
                        MetricKind::Histogram => "histogram",
                    },
                    op: format!("{:?}", s.op),
                });
            }
        }
        Ok(())
    }

    /// Applies samples that passed [`PluginFamilies::check`].
    pub fn apply(&self, samples: &[Sample]) {
        for s in samples {
            let Some(family) = self.families.get(&s.family) else {
                continue;
            };
            let mut series = family.series.lock().unwrap_or_else(PoisonError::into_inner);
            let existing = series.get(&s.label_values).cloned();
            let (handle, new) = match existing {
                Some(h) => (h, false),
                None => {
                    if series.len() >= family.max_series {
                        family.dropped.inc();
                        continue;
                    }
                    let labels: Vec<&str> = s.label_values.iter().map(String::as_str).collect();
                    let handle = match &family.vector {
                        Vector::Counter(v) => {
                            v.get_metric_with_label_values(&labels).map(Series::Counter)
                        }
                        Vector::Gauge(v) => {
                            v.get_metric_with_label_values(&labels).map(Series::Gauge)
                        }
                        Vector::Histogram(v) => v
                            .get_metric_with_label_values(&labels)
                            .map(Series::Histogram),
                    };
                    let Ok(handle) = handle else { continue };
                    series.insert(s.label_values.clone(), handle.clone());
                    (handle, true)
                }
            };
            drop(series);
            match (handle, s.op) {
                (Series::Counter(c), SampleOp::Add(v)) => c.inc_by(v),
                (Series::Gauge(g), SampleOp::Set(v)) => g.set(v),
                (Series::Gauge(g), SampleOp::Add(v)) => g.add(v),
                (Series::Gauge(g), SampleOp::SetIfAbsent(v)) if new => g.set(v),
                (Series::Histogram(h), SampleOp::Observe(v)) => h.observe(v),
                _ => {}
            }
        }
    }
}
