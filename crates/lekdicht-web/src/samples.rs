//! Random-sample audits: a privacy officer or auditor (DrawSample) draws a stratified random
//! sample of the organisation's accesses in a period (strata by unit of the actor, system and
//! month); the seed is generated (or entered), stored and written to the audit trail before the
//! draw, and the drawn events are stored. Reviewers (JudgeSample) judge each drawn access; the
//! report (ViewSampleReport) estimates the unlawful share per stratum and overall with Wilson 95%
//! intervals, also as CSV.
//!
//! The drawing and the statistics are `lekdicht_review`'s; the population is read through the
//! store page by page, never loaded whole.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::Router;
use axum::extract::{Extension, Form, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{NaiveDate, Utc};
use lekdicht_review::{
    Allocation, Judgement, Lang, Permission, SamplePlan, StratumKey, StratumTally, Z95, draw,
    estimate, minimum_total, month_period,
};
use lekdicht_store::{ReviewStore, SampleRow, SqliteStore, Store, TimeRange};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::alerts::ScoreLine;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::i18n::{signal_label, texts};
use crate::view::{Page, audit_entry, render};
use crate::{AppState, St};

/// Events read per page when collecting the population.
const PAGE: usize = 20_000;
/// Largest sample a form may ask for.
const MAX_SIZE: usize = 5_000;

/// What a sample was drawn from and how (stored as JSON with the sample).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredPlan {
    pub from: NaiveDate,
    pub until: NaiveDate,
    pub by_unit: bool,
    pub by_system: bool,
    pub by_month: bool,
    pub size: usize,
    pub min_per_stratum: usize,
    pub allocation: Allocation,
}

/// A stratum with its population, as stored after the draw.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredStratum {
    pub key: StratumKey,
    pub population: u64,
    pub sampled: u64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DrawForm {
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub until: String,
    #[serde(default)]
    pub size: String,
    #[serde(default)]
    pub min_per_stratum: String,
    #[serde(default)]
    pub allocation: String,
    #[serde(default)]
    pub seed: String,
    pub by_unit: Option<String>,
    pub by_system: Option<String>,
    pub by_month: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct JudgeForm {
    #[serde(default)]
    pub judgement: String,
    #[serde(default)]
    pub note: String,
}

fn bad(message: &str) -> AppError {
    AppError::BadRequest(message.to_owned())
}

/// The earliest and latest date a sample period may name.
const FIRST_DATE: (i32, u32, u32) = (2000, 1, 1);
const LAST_DATE: (i32, u32, u32) = (2100, 12, 31);

/// A date of the sample form (`YYYY-MM-DD`, within [`FIRST_DATE`]..=[`LAST_DATE`]); a 400 that
/// names the field otherwise.
fn sample_date(field: &str, text: &str) -> Result<NaiveDate, AppError> {
    let bound = |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    let (first, last) = (bound(FIRST_DATE), bound(LAST_DATE));
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| (first..=last).contains(d))
        .ok_or_else(|| {
            bad(&format!(
                "{field}: a date (YYYY-MM-DD) from {first} to {last}"
            ))
        })
}

fn can_see_samples(user: &CurrentUser) -> bool {
    user.can(Permission::DrawSample)
        || user.can(Permission::JudgeSample)
        || user.can(Permission::ViewSampleReport)
}

/// Collects the organisation's events in the period by stratum, page by page.
pub fn population(
    store: &SqliteStore,
    state: &AppState,
    organisation: &str,
    plan: &StoredPlan,
) -> Result<BTreeMap<StratumKey, Vec<u64>>, AppError> {
    let to_ms = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis())
    };
    let range = TimeRange {
        from_ms: to_ms(plan.from),
        until_ms: plan.until.succ_opt().and_then(to_ms),
    };
    let mut strata: BTreeMap<StratumKey, Vec<u64>> = BTreeMap::new();
    let mut after = None;
    loop {
        let page = store.events_by_time_page(&range, after, PAGE)?;
        let Some(last) = page.last() else { break };
        after = Some((last.event.time.timestamp_millis(), last.seq));
        for e in &page {
            let Some(info) = state.directory.employees.get(e.event.actor.as_str()) else {
                continue;
            };
            if info.organisation != organisation {
                continue;
            }
            let key = StratumKey {
                unit: if plan.by_unit {
                    info.unit.clone()
                } else {
                    "*".into()
                },
                system: if plan.by_system {
                    e.event.system.clone()
                } else {
                    "*".into()
                },
                period: if plan.by_month {
                    month_period(e.event.time.with_timezone(&Utc))
                } else {
                    "*".into()
                },
            };
            strata.entry(key).or_default().push(e.seq);
        }
        if page.len() < PAGE {
            break;
        }
    }
    Ok(strata)
}

async fn create(
    State(state): St,
    user: CurrentUser,
    Form(form): Form<DrawForm>,
) -> Result<Response, AppError> {
    let id = draw_sample(&state, user, form).await?;
    Ok(Redirect::to(&format!("/samples/{id}")).into_response())
}

/// Stores the seed and plan (audited), collects the population, draws and stores the sample;
/// returns its id.
pub async fn draw_sample(
    state: &AppState,
    user: CurrentUser,
    form: DrawForm,
) -> Result<i64, AppError> {
    user.require(Permission::DrawSample)?;
    let from = sample_date("from", &form.from)?;
    let until = sample_date("until", &form.until)?;
    if until < from {
        return Err(bad("the period ends before it starts"));
    }
    let size: usize = form
        .size
        .trim()
        .parse()
        .map_err(|_| bad("the size is not a number"))?;
    if size == 0 || size > MAX_SIZE {
        return Err(bad("the size must be between 1 and 5000"));
    }
    let min_per_stratum: usize = if form.min_per_stratum.trim().is_empty() {
        0
    } else {
        form.min_per_stratum
            .trim()
            .parse()
            .map_err(|_| bad("the minimum per stratum is not a number"))?
    };
    let allocation = Allocation::parse(&form.allocation).unwrap_or(Allocation::Proportional);
    let seed: u64 = if form.seed.trim().is_empty() {
        rand::rng().next_u64()
    } else {
        form.seed
            .trim()
            .parse()
            .map_err(|_| bad("the seed is not a number"))?
    };
    let plan = StoredPlan {
        from,
        until,
        by_unit: form.by_unit.is_some(),
        by_system: form.by_system.is_some(),
        by_month: form.by_month.is_some(),
        size,
        min_per_stratum,
        allocation,
    };
    let st = state.clone();
    // One transaction: bad input or a failure leaves no half-written sample behind.
    state
        .pool
        .run(move |s| s.atomically(|s| {
            let plan_json = serde_json::to_string(&plan).map_err(|e| AppError::internal(e.to_string()))?;
            // The seed is stored and audited before anything is drawn.
            let id = s.create_sample(
                &user.organisation,
                &seed.to_string(),
                &plan_json,
                &user.username,
                &audit_entry(&user, "sample_seed", "sample", serde_json::json!({ "seed": seed.to_string(), "plan": plan })),
            )?;
            let population = population(s, &st, &user.organisation, &plan)?;
            let sample_plan = SamplePlan {
                seed,
                size: plan.size,
                min_per_stratum: plan.min_per_stratum,
                allocation: plan.allocation,
            };
            let minimums = minimum_total(&sample_plan, &population);
            if minimums > plan.size as u64 {
                return Err(bad(&format!(
                    "min_per_stratum: {} strata at this minimum need {minimums}, more than the size {}",
                    population.len(),
                    plan.size
                )));
            }
            let draws = draw(&sample_plan, &population);
            let mut items = Vec::new();
            let mut strata = Vec::new();
            for d in &draws {
                let key = serde_json::to_string(&d.key).map_err(|e| AppError::internal(e.to_string()))?;
                items.extend(d.sampled.iter().map(|seq| (*seq, key.clone())));
                strata.push(StoredStratum {
                    key: d.key.clone(),
                    population: d.population,
                    sampled: d.sampled.len() as u64,
                });
            }
            let strata_json = serde_json::to_string(&strata).map_err(|e| AppError::internal(e.to_string()))?;
            s.store_sample_draw(
                id,
                &strata_json,
                &items,
                &audit_entry(
                    &user,
                    "sample_draw",
                    &format!("sample:{id}"),
                    serde_json::json!({ "strata": strata.len(), "sampled": items.len(), "population": strata.iter().map(|s| s.population).sum::<u64>() }),
                ),
            )?;
            Ok(id)
        }))
        .await
}

pub struct SampleListItem {
    pub id: i64,
    pub created_at: String,
    pub created_by: String,
    pub seed: String,
    pub period: String,
}

#[derive(Template)]
#[template(path = "samples.html")]
struct SamplesPage {
    page: Page,
    items: Vec<SampleListItem>,
    can_draw: bool,
    today: String,
    month_ago: String,
}

async fn list(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    if !can_see_samples(&user) {
        return Err(AppError::Forbidden);
    }
    let org = user.organisation.clone();
    let rows = state.pool.run(move |s| Ok(s.samples(&org)?)).await?;
    let items = rows
        .into_iter()
        .map(|r| {
            let period = serde_json::from_str::<StoredPlan>(&r.plan)
                .map(|p| format!("{} – {}", p.from, p.until))
                .unwrap_or_default();
            SampleListItem {
                id: r.id,
                created_at: r.created_at,
                created_by: r.created_by,
                seed: r.seed,
                period,
            }
        })
        .collect();
    let today = Utc::now().date_naive();
    render(&SamplesPage {
        page: Page::new(lang, texts(lang).samples_title, Some(&user)),
        items,
        can_draw: user.can(Permission::DrawSample),
        today: today.to_string(),
        month_ago: (today - chrono::Duration::days(30)).to_string(),
    })
}

fn own_sample(store: &SqliteStore, user: &CurrentUser, id: i64) -> Result<SampleRow, AppError> {
    store
        .sample(id)?
        .filter(|s| s.organisation == user.organisation)
        .ok_or(AppError::NotFound)
}

pub struct ItemView {
    pub seq: u64,
    pub time: String,
    pub system: String,
    pub action: String,
    pub employee: String,
    pub subject: String,
    pub stratum: String,
    pub explanation: String,
    pub judgement: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "sample.html")]
struct SamplePage {
    page: Page,
    id: i64,
    seed: String,
    items: Vec<ItemView>,
    can_judge: bool,
    can_report: bool,
    judgements: Vec<(String, String)>,
}

fn stratum_label(json: &str) -> String {
    serde_json::from_str::<StratumKey>(json)
        .map(|k| format!("{} / {} / {}", k.unit, k.system, k.period))
        .unwrap_or_default()
}

async fn show(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    if !can_see_samples(&user) {
        return Err(AppError::Forbidden);
    }
    let t = texts(lang);
    let u = user.clone();
    let (sample, items, scores) = state
        .pool
        .run(move |s| {
            let sample = own_sample(s, &u, id)?;
            let rows = s.sample_items(id)?;
            let seqs: Vec<u64> = rows.iter().map(|r| r.seq).collect();
            let scores: HashMap<u64, ScoreLine> = s
                .scores_of(&seqs)?
                .into_iter()
                .filter_map(|(seq, line)| serde_json::from_str(&line).ok().map(|l| (seq, l)))
                .collect();
            let mut items = Vec::new();
            for r in rows {
                let mut event = None;
                s.for_each_event_by_seq(r.seq, r.seq + 1, &mut |e| {
                    event = Some(e);
                    Ok(())
                })?;
                items.push((r, event));
            }
            Ok((sample, items, scores))
        })
        .await?;
    let org = &user.organisation;
    let views = items
        .into_iter()
        .map(|(r, e)| {
            let score = scores.get(&r.seq);
            let explanation = match score {
                Some(s) if !s.explained_by.is_empty() => {
                    format!("{}: {}", t.explained_by, s.explained_by.join(", "))
                }
                Some(s) if !s.reasons.is_empty() => s
                    .reasons
                    .iter()
                    .map(|x| format!("{}: {}", x.code, signal_label(&x.code, lang)))
                    .collect::<Vec<_>>()
                    .join("; "),
                _ => t.none.to_owned(),
            };
            ItemView {
                seq: r.seq,
                time: e
                    .as_ref()
                    .map(|e| e.event.time.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_default(),
                system: e
                    .as_ref()
                    .map(|e| e.event.system.clone())
                    .unwrap_or_default(),
                action: e
                    .as_ref()
                    .map(|e| e.event.action.as_str().to_owned())
                    .unwrap_or_default(),
                employee: e
                    .as_ref()
                    .map(|e| state.pseudonyms.employee(org, e.event.actor.as_str()))
                    .unwrap_or_default(),
                subject: e
                    .as_ref()
                    .and_then(|e| e.event.subject.as_ref())
                    .map_or_else(
                        || "–".to_owned(),
                        |s| state.pseudonyms.subject(org, s.as_str()),
                    ),
                stratum: stratum_label(&r.stratum),
                explanation,
                judgement: r
                    .judgement
                    .as_deref()
                    .and_then(Judgement::parse)
                    .map(|j| j.label(lang).to_owned())
                    .unwrap_or_default(),
                note: r.note.unwrap_or_default(),
            }
        })
        .collect();
    render(&SamplePage {
        page: Page::new(lang, &format!("{} {}", t.sample, sample.id), Some(&user)),
        id: sample.id,
        seed: sample.seed,
        items: views,
        can_judge: user.can(Permission::JudgeSample),
        can_report: user.can(Permission::ViewSampleReport),
        judgements: [Judgement::Lawful, Judgement::Unlawful, Judgement::Unclear]
            .iter()
            .map(|j| (j.as_str().to_owned(), j.label(lang).to_owned()))
            .collect(),
    })
}

async fn judge(
    State(state): St,
    user: CurrentUser,
    Path((id, seq)): Path<(i64, u64)>,
    Form(form): Form<JudgeForm>,
) -> Result<Response, AppError> {
    judge_item(&state, user, id, seq, form).await?;
    Ok(Redirect::to(&format!("/samples/{id}#item-{seq}")).into_response())
}

/// Judges one drawn access of a sample of the user's organisation.
pub async fn judge_item(
    state: &AppState,
    user: CurrentUser,
    id: i64,
    seq: u64,
    form: JudgeForm,
) -> Result<(), AppError> {
    user.require(Permission::JudgeSample)?;
    let judgement = Judgement::parse(&form.judgement).ok_or_else(|| bad("choose a judgement"))?;
    state
        .pool
        .run(move |s| {
            own_sample(s, &user, id)?;
            let audit = audit_entry(
                &user,
                "sample_judge",
                &format!("sample:{id}"),
                serde_json::json!({ "seq": seq, "judgement": judgement.as_str(), "note": form.note }),
            );
            if !s.judge_sample_item(id, seq, judgement.as_str(), form.note.trim(), &audit)? {
                return Err(AppError::NotFound);
            }
            Ok(())
        })
        .await
}

/// One row of the report.
pub struct ReportRow {
    pub stratum: String,
    pub population: u64,
    pub sampled: u64,
    pub lawful: u64,
    pub unlawful: u64,
    pub unclear: u64,
    pub estimate: String,
    pub interval: String,
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// The tallies and estimate of a sample.
fn report_rows(
    sample: &SampleRow,
    items: &[lekdicht_store::SampleItemRow],
) -> (Vec<ReportRow>, lekdicht_review::SampleEstimate) {
    let strata: Vec<StoredStratum> = sample
        .strata
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default();
    let mut tallies: BTreeMap<StratumKey, StratumTally> = strata
        .iter()
        .map(|s| {
            (
                s.key.clone(),
                StratumTally {
                    key: s.key.clone(),
                    population: s.population,
                    sampled: s.sampled,
                    lawful: 0,
                    unlawful: 0,
                    unclear: 0,
                },
            )
        })
        .collect();
    for item in items {
        let Ok(key) = serde_json::from_str::<StratumKey>(&item.stratum) else {
            continue;
        };
        let Some(t) = tallies.get_mut(&key) else {
            continue;
        };
        match item.judgement.as_deref().and_then(Judgement::parse) {
            Some(Judgement::Lawful) => t.lawful += 1,
            Some(Judgement::Unlawful) => t.unlawful += 1,
            Some(Judgement::Unclear) => t.unclear += 1,
            None => {}
        }
    }
    let tallies: Vec<StratumTally> = tallies.into_values().collect();
    let est = estimate(&tallies, Z95);
    let rows = tallies
        .iter()
        .zip(&est.per_stratum)
        .map(|(t, (key, i))| ReportRow {
            stratum: format!("{} / {} / {}", key.unit, key.system, key.period),
            population: t.population,
            sampled: t.sampled,
            lawful: t.lawful,
            unlawful: t.unlawful,
            unclear: t.unclear,
            estimate: pct(i.estimate),
            interval: format!("{} – {}", pct(i.low), pct(i.high)),
        })
        .collect();
    (rows, est)
}

#[derive(Template)]
#[template(path = "sample_report.html")]
struct ReportPage {
    page: Page,
    id: i64,
    seed: String,
    rows: Vec<ReportRow>,
    overall: String,
    overall_interval: String,
    conservative: String,
    conservative_interval: String,
    judged: u64,
    sampled: u64,
    population: u64,
    labels: [&'static str; 3],
}

pub async fn load_report(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> Result<(SampleRow, Vec<ReportRow>, lekdicht_review::SampleEstimate), AppError> {
    user.require(Permission::ViewSampleReport)?;
    let u = user.clone();
    let (sample, items) = state
        .pool
        .run(move |s| {
            let sample = own_sample(s, &u, id)?;
            let items = s.sample_items(id)?;
            Ok((sample, items))
        })
        .await?;
    let (rows, est) = report_rows(&sample, &items);
    Ok((sample, rows, est))
}

async fn report(
    State(state): St,
    Extension(lang): Extension<Lang>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (sample, rows, est) = load_report(&state, &user, id).await?;
    let t = texts(lang);
    render(&ReportPage {
        page: Page::new(
            lang,
            &format!("{} {} – {}", t.sample, id, t.report),
            Some(&user),
        ),
        id,
        seed: sample.seed,
        rows,
        overall: pct(est.overall.estimate),
        overall_interval: format!("{} – {}", pct(est.overall.low), pct(est.overall.high)),
        conservative: pct(est.overall_unclear_as_unlawful.estimate),
        conservative_interval: format!(
            "{} – {}",
            pct(est.overall_unclear_as_unlawful.low),
            pct(est.overall_unclear_as_unlawful.high)
        ),
        judged: est.judged,
        sampled: est.sampled,
        population: est.population,
        labels: [
            Judgement::Lawful.label(lang),
            Judgement::Unlawful.label(lang),
            Judgement::Unclear.label(lang),
        ],
    })
}

async fn report_csv(
    State(state): St,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (_, rows, est) = load_report(&state, &user, id).await?;
    // The one text cell, quoted and kept from starting a spreadsheet formula.
    let quote = |s: &str| {
        let safe = lekdicht_cases::spreadsheet_safe(s);
        format!("\"{}\"", safe.replace('"', "\"\""))
    };
    let mut csv =
        String::from("stratum,population,sampled,lawful,unlawful,unclear,estimate,low,high\n");
    for (r, (_, i)) in rows.iter().zip(&est.per_stratum) {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{:.4},{:.4},{:.4}\n",
            quote(&r.stratum),
            r.population,
            r.sampled,
            r.lawful,
            r.unlawful,
            r.unclear,
            i.estimate,
            i.low,
            i.high
        ));
    }
    for (label, i) in [
        ("overall", est.overall),
        (
            "overall_unclear_as_unlawful",
            est.overall_unclear_as_unlawful,
        ),
    ] {
        csv.push_str(&format!(
            "{label},{},{},,,,{:.4},{:.4},{:.4}\n",
            est.population, est.sampled, i.estimate, i.low, i.high
        ));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"sample-{id}.csv\""),
            ),
        ],
        csv,
    )
        .into_response())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/samples", get(list).post(create))
        .route("/samples/{id}", get(show))
        .route("/samples/{id}/items/{seq}", post(judge))
        .route("/samples/{id}/report", get(report))
        .route("/samples/{id}/report.csv", get(report_csv))
}
