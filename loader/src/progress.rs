//! How a run shows itself: indicatif bars for people, JSON lines (`--json`) for machines.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};

/// Where progress goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Bars on stderr.
    Bars,
    /// One JSON object per line on stdout.
    Json,
    /// Nothing (tests).
    Quiet,
}

/// The progress of one phase.
pub struct PhaseProgress {
    bar: ProgressBar,
    mode: Mode,
    phase: &'static str,
    total: u64,
}

impl PhaseProgress {
    /// Starts a phase of `total` records.
    pub fn start(mode: Mode, phase: &'static str, total: u64) -> PhaseProgress {
        let bar = ProgressBar::with_draw_target(
            Some(total),
            if mode == Mode::Bars {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        if let Ok(style) =
            ProgressStyle::with_template("{prefix:>9} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(phase);
        if mode == Mode::Json {
            event(json!({"event": "phase_start", "phase": phase, "total": total}));
        }
        PhaseProgress {
            bar,
            mode,
            phase,
            total,
        }
    }

    /// One more record handled.
    pub fn inc(&self) {
        self.bar.inc(1);
        if self.mode == Mode::Json {
            let done = self.bar.position();
            if done == self.total || done.is_multiple_of(100) {
                event(
                    json!({"event": "progress", "phase": self.phase, "done": done, "total": self.total}),
                );
            }
        }
    }

    /// The phase ended.
    pub fn finish(&self) {
        self.bar.finish();
    }
}

/// Prints one JSON event line.
pub fn event(v: Value) {
    println!("{v}");
}
