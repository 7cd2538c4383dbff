//! Behaviour tests of detection on small hand-made worlds: every explanation and signal fires
//! where it should and stays silent on the near miss; scores, alerts, budget, grace period,
//! chunked processing, configuration and Sigma rules.
//!
//! Worlds are written as inline JSON lines (`kind {json}`), parsed into the model types by
//! [`world`]. These tests assert outcomes only; speed is measured in the benchmark.

mod alerts;
mod explanations;
mod scoring;
mod signals;
mod support;
