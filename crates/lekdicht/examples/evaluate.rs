//! Generates a demo world, scores all its events, forms alerts and prints the quality report
//! against the world's answer key.
//!
//! `cargo run --release -p lekdicht --example evaluate -- --seed 42 [--employees N]
//! [--persons N] [--vehicles N] [--days N] [--profile NAME] [--violators SHARE] [--config FILE]
//! [--details] [--trace SIGNAL_CODE]`. With `--details` it also lists
//! which main reasons put innocent employees above the reason threshold, per group; `--trace`
//! adds the most frequent details of one signal on legitimate events; `SHOW=SIGNAL_CODE` in the
//! environment prints every event carrying that signal with its context. The answer key is only
//! read after scoring, by the evaluation; the engine never sees it.

use std::collections::BTreeMap;
use std::time::Instant;

use lekdicht_demo::{DemoConfig, generate};
use lekdicht_detect::eval::{Evaluation, GroundTruth};
use lekdicht_detect::{Config, Context, Engine};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut demo = DemoConfig::default();
    let mut config = Config::default();
    let mut details = false;
    let mut trace_code: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--seed" => demo.seed = value()?.parse()?,
            "--employees" => demo.employees = value()?.parse()?,
            "--days" => demo.days = value()?.parse()?,
            "--persons" => demo.persons = value()?.parse()?,
            "--vehicles" => demo.vehicles = value()?.parse()?,
            "--violators" => demo.violator_share = value()?.parse()?,
            "--profile" => {
                let name = value()?;
                demo.profile = lekdicht_demo::Profile::parse(&name)
                    .ok_or_else(|| format!("unknown profile {name}"))?;
            }
            "--config" => config = Config::from_toml_str(&std::fs::read_to_string(value()?)?)?,
            "--details" => details = true,
            "--trace" => trace_code = Some(value()?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let started = Instant::now();
    let world = generate(&demo);
    let generated = started.elapsed();
    let ctx = Context::new(world.context_records());
    let truth = GroundTruth {
        violations: world.violation_kinds(),
        groups: world.groups_by_employee(),
    };
    let mut engine = Engine::new(&ctx, &config)?;
    let mut evaluation = Evaluation::new(&ctx, &truth, config.alerts.reason_threshold);
    let mut unexplained: BTreeMap<String, u64> = BTreeMap::new();
    let mut missed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut by_code: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut traced: BTreeMap<String, u64> = BTreeMap::new();
    // Per innocent-looking actor: the main reason of each of their events above the threshold.
    let mut above: BTreeMap<String, std::collections::BTreeSet<&'static str>> = BTreeMap::new();
    let scoring = Instant::now();
    for event in &world.events {
        let score = engine.process(event);
        evaluation.add(&score);
        if details {
            let kind = truth.violations.get(&event.id);
            if kind.is_none() && !score.is_explained() {
                let unit = ctx
                    .employee_idx(event.actor.as_str())
                    .and_then(|e| ctx.employee_unit(e))
                    .map_or("?", |u| u.as_str());
                let key = format!(
                    "{unit:<12} {:<8} {:<7} case={} subject={}",
                    event.system,
                    event.action.as_str(),
                    event.case.is_some(),
                    event.subject.is_some()
                );
                *unexplained.entry(key).or_default() += 1;
            }
            if kind.is_none()
                && score.score >= config.alerts.reason_threshold
                && let Some(r) = score.reasons.first()
            {
                above
                    .entry(event.actor.to_string())
                    .or_default()
                    .insert(r.code.as_str());
            }
            if kind.is_none()
                && let Some(r) = score
                    .reasons
                    .iter()
                    .find(|r| Some(r.code.as_str()) == trace_code.as_deref())
            {
                let expl: Vec<&str> = score.explained_by.iter().map(|e| e.code.as_str()).collect();
                let unit = ctx
                    .employee_idx(event.actor.as_str())
                    .and_then(|e| ctx.employee_unit(e))
                    .map_or("?", |u| u.as_str());
                *traced
                    .entry(format!("{unit} {} {expl:?} {}", event.system, r.detail))
                    .or_default() += 1;
            }
            for r in &score.reasons {
                let entry = by_code.entry(r.code.as_str().to_owned()).or_default();
                if kind.is_some() {
                    entry.1 += 1
                } else {
                    entry.0 += 1
                }
            }
            if std::env::var("SHOW")
                .is_ok_and(|c| score.reasons.iter().any(|r| r.code.as_str() == c))
            {
                let expl: Vec<&str> = score.explained_by.iter().map(|e| e.code.as_str()).collect();
                println!(
                    "SHOW {} {} {} {} {:?} subj={:?} q={:?} case={:?} loc={:?} ws={:?} {:?}",
                    kind.map_or("innocent", |k| k.as_str()),
                    event.actor,
                    event.time.format("%a %H:%M"),
                    event.system,
                    event.action,
                    event.subject.as_ref().map(|s| s.as_str()),
                    event.query,
                    event.case.as_ref().map(|s| s.as_str()),
                    event.location,
                    event.workstation,
                    expl
                );
            }
            if let Some(kind) = kind {
                let codes: Vec<String> = score
                    .reasons
                    .iter()
                    .map(|r| format!("{}:{:.2}", r.code, r.weight))
                    .collect();
                let expl: Vec<&str> = score.explained_by.iter().map(|e| e.code.as_str()).collect();
                missed.entry(kind.clone()).or_default().push(format!(
                    "{} {} score {:.2} expl {expl:?} {}",
                    event.actor,
                    event.id,
                    score.score,
                    codes.join(" ")
                ));
            }
        }
    }
    let scored = scoring.elapsed();
    let all = engine.finish_all();
    let alerts: Vec<_> = all.iter().filter(|a| a.queued).cloned().collect();
    let report = evaluation.finish(&alerts, demo.days);
    println!(
        "seed {}: generated {} events in {:.1} s; scored in {:.2} s ({:.0} events/s)",
        demo.seed,
        world.events.len(),
        generated.as_secs_f64(),
        scored.as_secs_f64(),
        world.events.len() as f64 / scored.as_secs_f64()
    );
    print!("{report}");
    if details {
        println!("\nreasons on legitimate / violating events:");
        for (code, (legit, bad)) in &by_code {
            println!("  {code:<28} {legit:>8} {bad:>5}");
        }
        if trace_code.is_some() {
            println!("\nmost frequent details of the traced signal on legitimate events:");
        }
        let mut traced: Vec<_> = traced.into_iter().collect();
        traced.sort_by_key(|g| std::cmp::Reverse(g.1));
        for (key, n) in traced.iter().take(30) {
            println!("  {n:>6} {key}");
        }
        println!("\ninnocents above the reason threshold, by group and main reason:");
        let violators: std::collections::BTreeSet<String> = world
            .answer_key
            .violations
            .iter()
            .map(|v| v.actor.to_string())
            .collect();
        let mut tally: BTreeMap<(String, String, &str), u64> = BTreeMap::new();
        for g in &world.groups {
            let id = g.employee.to_string();
            if violators.contains(&id) {
                continue;
            }
            for code in above.get(&id).into_iter().flatten() {
                for (grouping, value) in &g.groups {
                    *tally
                        .entry((grouping.clone(), value.clone(), code))
                        .or_default() += 1;
                }
            }
        }
        for ((grouping, value, code), n) in &tally {
            println!("  {grouping:<10} {value:<14} {code:<28} {n:>4}");
        }
        println!("\nlargest groups of unexplained legitimate events:");
        let mut groups: Vec<_> = unexplained.into_iter().collect();
        groups.sort_by_key(|g| std::cmp::Reverse(g.1));
        for (key, n) in groups.iter().take(25) {
            println!("  {n:>7}  {key}");
        }
        let alerted: std::collections::BTreeSet<String> =
            alerts.iter().map(|a| a.actor.to_string()).collect();
        println!("\nviolating events of violators without alert:");
        for (kind, lines) in &missed {
            for l in lines
                .iter()
                .filter(|l| !alerted.iter().any(|a| l.starts_with(&format!("{a} "))))
                .take(8)
            {
                println!("  {kind:<18} {l}");
            }
        }
        let violators: std::collections::BTreeSet<_> = world
            .answer_key
            .violations
            .iter()
            .map(|v| v.actor.clone())
            .collect();
        let mut keys: BTreeMap<String, (u32, u32)> = BTreeMap::new();
        for a in &all {
            let real = violators.contains(&a.actor);
            for r in &a.reasons {
                let tier = if r.detail.contains("nothing explained them") {
                    "none"
                } else {
                    "expl"
                };
                let e = keys
                    .entry(format!("{}/{}/{}", r.code, r.path.as_str(), tier))
                    .or_default();
                if real { e.1 += 1 } else { e.0 += 1 }
            }
        }
        println!("\nkeys in findings: innocent cells / violator cells");
        for (k, (i, v)) in &keys {
            println!("  {k:<44} {i:>5} {v:>4}");
        }
        println!("\nfindings (best ranked first; * = queued):");
        let mut shown_violators = std::collections::BTreeSet::new();
        for a in &all {
            let real = violators.contains(&a.actor);
            if a.rank > 40 && !(real && shown_violators.insert(a.actor.clone())) {
                continue;
            }
            let reasons: Vec<String> = a
                .reasons
                .iter()
                .take(4)
                .map(|r| {
                    format!(
                        "{}/{}x{}(exp {:.3}, {:.1}b)",
                        r.code,
                        r.path.as_str(),
                        r.count,
                        r.expected,
                        r.bits
                    )
                })
                .collect();
            println!(
                "  {}{} #{:<4} {:<10} p {:.3} chance {:.1e} bits {:>6.1} {}",
                if a.queued { "*" } else { " " },
                if real { "REAL " } else { "false" },
                a.rank,
                a.actor,
                a.score,
                a.chance,
                a.bits,
                reasons.join(" ")
            );
        }
    }
    Ok(())
}
