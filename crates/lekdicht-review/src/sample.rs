//! The stratified random-sample audit: drawing a reproducible sample of access events and
//! estimating, from reviewers' judgements of that sample, the share of unlawful accesses.
//!
//! Alerts show only what detection found; the sample audit measures what it missed. Events are
//! grouped in strata (unit × system × period), a sample size is allocated over the strata
//! (proportional with largest-remainder rounding, or equal), and within each stratum events are
//! drawn by simple random sampling without replacement. The random stream of a stratum is ChaCha20
//! seeded with SHA-256 of the plan's seed and the stratum key, and the bounded draws are made by
//! rejection sampling on that stream, so anyone with the seed and the population can re-draw the
//! same sample, and adding a stratum never changes the draws of the others.
//!
//! The estimate is a stratified proportion with a Wilson interval over the Kish effective sample
//! size: with weights `W_h = N_h / N` over the strata that have at least one judged item,
//! `p = Σ W_h p_h`, `Var = Σ W_h² p_h (1 − p_h) / n_h`, `n_eff = p (1 − p) / Var` (or `Σ n_h` when
//! `Var = 0`) and the Wilson interval of `p · n_eff` out of `n_eff`. No finite-population
//! correction is applied, which makes the interval slightly conservative for strata sampled
//! nearly whole. Strata without judged items carry no weight; the estimate then speaks only for
//! the judged strata, which the caller should show beside it.
//!
//! Deliberately absent: reading events (the caller passes sequence numbers), storing the draw and
//! collecting judgements; those belong to the store and the web application.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Interval, Lang, wilson, wilson_fractional};

/// One stratum of the sample audit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StratumKey {
    /// The employee's unit.
    pub unit: String,
    /// The source system of the events.
    pub system: String,
    /// The period label, e.g. `2026-03` (see [`month_period`]).
    pub period: String,
}

/// How the sample size is spread over the strata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Allocation {
    /// Proportional to the stratum's population, largest-remainder rounding (`proportional`).
    #[default]
    Proportional,
    /// The same number per stratum, as far as the strata's populations allow (`equal`).
    Equal,
}

impl Allocation {
    /// The code: `proportional` or `equal`.
    pub fn as_str(self) -> &'static str {
        match self {
            Allocation::Proportional => "proportional",
            Allocation::Equal => "equal",
        }
    }

    /// Parses a code; `None` for anything else.
    pub fn parse(s: &str) -> Option<Allocation> {
        [Allocation::Proportional, Allocation::Equal]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

/// The parameters of one sample draw; with the population they determine the sample completely.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SamplePlan {
    /// The seed of the random draw; record it with the sample.
    pub seed: u64,
    /// The intended total sample size.
    pub size: usize,
    /// At least this many items per stratum (or its whole population when smaller).
    pub min_per_stratum: usize,
    /// How `size` is spread over the strata.
    pub allocation: Allocation,
}

/// The draw of one stratum.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StratumDraw {
    pub key: StratumKey,
    /// Number of distinct events in the stratum.
    pub population: u64,
    /// The sequence numbers drawn, ascending.
    pub sampled: Vec<u64>,
}

/// Draws the sample: `population` maps each stratum to the sequence numbers of its events (any
/// order; sorted and deduplicated internally). Deterministic for (seed, population). Allocation:
/// proportional to stratum size (largest-remainder rounding) or equal, but at least
/// min(min_per_stratum, population) per stratum and never more than the stratum's population; the
/// total may exceed `size` only through the minimums. Within a stratum: simple random sampling
/// without replacement using ChaCha20 seeded from (seed, stratum key), so adding a stratum does not
/// change the others' draws. Returned strata in key order, `sampled` sorted ascending.
pub fn draw(plan: &SamplePlan, population: &BTreeMap<StratumKey, Vec<u64>>) -> Vec<StratumDraw> {
    let strata: Vec<(&StratumKey, Vec<u64>)> = population
        .iter()
        .map(|(key, seqs)| {
            let mut seqs = seqs.clone();
            seqs.sort_unstable();
            seqs.dedup();
            (key, seqs)
        })
        .collect();
    let sizes: Vec<u64> = strata.iter().map(|(_, seqs)| seqs.len() as u64).collect();
    let allocation = allocate(plan, &sizes);
    strata
        .into_iter()
        .zip(allocation)
        .map(|((key, seqs), take)| {
            let population = seqs.len() as u64;
            let mut rng = stratum_rng(plan.seed, key);
            let sampled = sample_without_replacement(seqs, take as usize, &mut rng);
            StratumDraw {
                key: key.clone(),
                population,
                sampled,
            }
        })
        .collect()
}

/// How many to take from each stratum: first each stratum's minimum (never more than it holds),
/// then the rest of the size by the plan's allocation over what the strata have left, so that
/// the total is the size (or the whole population when that is smaller). When the minimums alone
/// exceed the size, the minimums are taken; [`minimum_total`] lets a caller refuse that plan first.
fn allocate(plan: &SamplePlan, sizes: &[u64]) -> Vec<u64> {
    let minimums: Vec<u64> = sizes
        .iter()
        .map(|&n| (plan.min_per_stratum as u64).min(n))
        .collect();
    let floor: u64 = minimums.iter().sum();
    let size = plan.size as u64;
    if floor >= size {
        return minimums;
    }
    let left: Vec<u64> = sizes.iter().zip(&minimums).map(|(n, m)| n - m).collect();
    let extra = match plan.allocation {
        Allocation::Proportional => allocate_proportional(size - floor, &left),
        Allocation::Equal => allocate_equal(size - floor, &left),
    };
    minimums.iter().zip(extra).map(|(m, e)| m + e).collect()
}

/// How many items the per-stratum minimum of `plan` alone takes from `population`.
pub fn minimum_total(plan: &SamplePlan, population: &BTreeMap<StratumKey, Vec<u64>>) -> u64 {
    population
        .values()
        .map(|seqs| (plan.min_per_stratum as u64).min(seqs.len() as u64))
        .sum()
}

/// Proportional allocation with largest-remainder (Hamilton) rounding; ties go to the stratum
/// that comes first in key order. Never more than a stratum's population.
fn allocate_proportional(size: u64, sizes: &[u64]) -> Vec<u64> {
    let total: u64 = sizes.iter().sum();
    if size >= total {
        return sizes.to_vec();
    }
    let total = u128::from(total);
    let mut allocation = Vec::with_capacity(sizes.len());
    let mut remainders = Vec::with_capacity(sizes.len());
    for (index, &n) in sizes.iter().enumerate() {
        let quota = u128::from(size) * u128::from(n);
        // quota / total <= n because size < total.
        allocation.push((quota / total) as u64);
        remainders.push((quota % total, index));
    }
    let assigned: u64 = allocation.iter().sum();
    let mut left = size - assigned;
    // Largest remainder first, then key order. Every stratum that gets one more had a non-zero
    // remainder, so its quota was strictly below its population.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (remainder, index) in remainders {
        if left == 0 || remainder == 0 {
            break;
        }
        allocation[index] += 1;
        left -= 1;
    }
    allocation
}

/// Equal allocation by water-filling: strata smaller than their share are taken whole and the
/// rest is shared equally by the others, any remainder going one each in key order.
fn allocate_equal(size: u64, sizes: &[u64]) -> Vec<u64> {
    let mut allocation = vec![0u64; sizes.len()];
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by_key(|&index| (sizes[index], index));
    let mut remaining = size;
    let mut left = sizes.len() as u64;
    let mut position = 0;
    while position < order.len() {
        let index = order[position];
        // Taken whole when the stratum is no larger than an equal share of what remains.
        if u128::from(sizes[index]) * u128::from(left) > u128::from(remaining) {
            break;
        }
        allocation[index] = sizes[index];
        remaining -= sizes[index];
        left -= 1;
        position += 1;
    }
    if left == 0 {
        return allocation;
    }
    // Every remaining stratum holds more than remaining / left items, so share + 1 still fits.
    let share = remaining / left;
    let mut extra = remaining % left;
    let mut rest: Vec<usize> = order[position..].to_vec();
    rest.sort_unstable();
    for index in rest {
        allocation[index] = share + u64::from(extra > 0);
        extra = extra.saturating_sub(1);
    }
    allocation
}

/// The random stream of one stratum: ChaCha20 keyed with SHA-256 of the seed and the stratum key
/// (every field length-prefixed, so no two keys share a stream).
fn stratum_rng(seed: u64, key: &StratumKey) -> ChaCha20Rng {
    let mut hasher = Sha256::new();
    hasher.update(b"lekdicht-sample-v1");
    hasher.update(seed.to_le_bytes());
    for field in [&key.unit, &key.system, &key.period] {
        hasher.update((field.len() as u64).to_le_bytes());
        hasher.update(field.as_bytes());
    }
    ChaCha20Rng::from_seed(hasher.finalize().into())
}

/// A uniform number in `0..bound` (bound > 0) by rejection sampling, so that the draw depends only
/// on the ChaCha20 stream and not on a library's sampling method.
fn below(rng: &mut ChaCha20Rng, bound: u64) -> u64 {
    // 2^64 mod bound: values from here up are an exact multiple of `bound` in number.
    let threshold = bound.wrapping_neg() % bound;
    loop {
        let value = rng.next_u64();
        if value >= threshold {
            return value % bound;
        }
    }
}

/// Partial Fisher–Yates shuffle of the sorted population; returns `take` items, ascending.
fn sample_without_replacement(mut items: Vec<u64>, take: usize, rng: &mut ChaCha20Rng) -> Vec<u64> {
    let n = items.len();
    let take = take.min(n);
    for i in 0..take {
        let j = i + below(rng, (n - i) as u64) as usize;
        items.swap(i, j);
    }
    items.truncate(take);
    items.sort_unstable();
    items
}

/// Period label of a UTC time for stratification: the month, e.g. `2026-03`.
pub fn month_period(t: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", t.year(), t.month())
}

/// A reviewer's judgement of one sampled access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Judgement {
    /// There was a work reason (`lawful`).
    Lawful,
    /// There was no work reason (`unlawful`).
    Unlawful,
    /// The reviewer cannot tell (`unclear`).
    Unclear,
}

impl Judgement {
    /// Every judgement.
    pub const ALL: [Judgement; 3] = [Judgement::Lawful, Judgement::Unlawful, Judgement::Unclear];

    /// The code: `lawful`, `unlawful` or `unclear`.
    pub fn as_str(self) -> &'static str {
        match self {
            Judgement::Lawful => "lawful",
            Judgement::Unlawful => "unlawful",
            Judgement::Unclear => "unclear",
        }
    }

    /// Parses a code; `None` for anything else.
    pub fn parse(s: &str) -> Option<Judgement> {
        Judgement::ALL.into_iter().find(|j| j.as_str() == s)
    }

    /// The judgement's name for people.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Judgement::Lawful, Lang::Nl) => "rechtmatig",
            (Judgement::Lawful, Lang::En) => "lawful",
            (Judgement::Unlawful, Lang::Nl) => "onrechtmatig",
            (Judgement::Unlawful, Lang::En) => "unlawful",
            (Judgement::Unclear, Lang::Nl) => "onduidelijk",
            (Judgement::Unclear, Lang::En) => "unclear",
        }
    }
}

/// The judgements of one stratum so far.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StratumTally {
    pub key: StratumKey,
    /// Events in the stratum.
    pub population: u64,
    /// Events drawn from it.
    pub sampled: u64,
    pub lawful: u64,
    pub unlawful: u64,
    pub unclear: u64,
}

/// What the sample says about the share of unlawful accesses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleEstimate {
    /// Per stratum, Wilson on unlawful / (lawful + unlawful); [`Interval::UNKNOWN`] when nothing
    /// in the stratum was judged lawful or unlawful.
    pub per_stratum: Vec<(StratumKey, Interval)>,
    /// Stratified estimate, unclear items left out.
    pub overall: Interval,
    /// Conservative variant: unclear items counted as unlawful.
    pub overall_unclear_as_unlawful: Interval,
    /// Items judged (lawful, unlawful or unclear).
    pub judged: u64,
    /// Items drawn.
    pub sampled: u64,
    /// Events in all strata.
    pub population: u64,
}

/// Estimates the share of unlawful accesses from the tallies; see the module documentation for
/// the stratified Wilson interval with Kish effective sample size.
pub fn estimate(tallies: &[StratumTally], z: f64) -> SampleEstimate {
    let per_stratum = tallies
        .iter()
        .map(|t| (t.key.clone(), wilson(t.unlawful, t.lawful + t.unlawful, z)))
        .collect();
    let overall = stratified(
        tallies
            .iter()
            .map(|t| (t.population, t.unlawful, t.lawful + t.unlawful)),
        z,
    );
    let overall_unclear_as_unlawful = stratified(
        tallies.iter().map(|t| {
            (
                t.population,
                t.unlawful + t.unclear,
                t.lawful + t.unlawful + t.unclear,
            )
        }),
        z,
    );
    SampleEstimate {
        per_stratum,
        overall,
        overall_unclear_as_unlawful,
        judged: tallies
            .iter()
            .map(|t| t.lawful + t.unlawful + t.unclear)
            .sum(),
        sampled: tallies.iter().map(|t| t.sampled).sum(),
        population: tallies.iter().map(|t| t.population).sum(),
    }
}

/// Stratified Wilson interval over `(population, successes, judged)` per stratum.
fn stratified(strata: impl Iterator<Item = (u64, u64, u64)>, z: f64) -> Interval {
    let judged: Vec<(f64, f64, f64)> = strata
        .filter(|&(_, _, n)| n > 0)
        .map(|(population, x, n)| (population as f64, x.min(n) as f64, n as f64))
        .collect();
    let total_population: f64 = judged.iter().map(|&(population, _, _)| population).sum();
    let total_judged: f64 = judged.iter().map(|&(_, _, n)| n).sum();
    if judged.is_empty() {
        return Interval::UNKNOWN;
    }
    // A tally with population 0 but judged items is inconsistent; weight by judged items then.
    let weight = |population: f64, n: f64| {
        if total_population > 0.0 {
            population / total_population
        } else {
            n / total_judged
        }
    };
    let mut p = 0.0;
    let mut variance = 0.0;
    for &(population, x, n) in &judged {
        let w = weight(population, n);
        let p_h = x / n;
        p += w * p_h;
        variance += w * w * p_h * (1.0 - p_h) / n;
    }
    let p = p.clamp(0.0, 1.0);
    let n_eff = if variance > 0.0 {
        p * (1.0 - p) / variance
    } else {
        total_judged
    };
    wilson_fractional(p * n_eff, n_eff, z)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Z95;

    fn key(unit: &str) -> StratumKey {
        StratumKey {
            unit: unit.to_owned(),
            system: "BVH".to_owned(),
            period: "2026-03".to_owned(),
        }
    }

    fn population(sizes: &[(&str, u64)]) -> BTreeMap<StratumKey, Vec<u64>> {
        let mut next = 0;
        sizes
            .iter()
            .map(|&(unit, n)| {
                // Reversed on purpose: the input order must not matter.
                let seqs: Vec<u64> = (next..next + n).rev().collect();
                next += n;
                (key(unit), seqs)
            })
            .collect()
    }

    fn plan(seed: u64, size: usize, min_per_stratum: usize, allocation: Allocation) -> SamplePlan {
        SamplePlan {
            seed,
            size,
            min_per_stratum,
            allocation,
        }
    }

    fn counts(draws: &[StratumDraw]) -> Vec<usize> {
        draws.iter().map(|d| d.sampled.len()).collect()
    }

    fn check_well_formed(draws: &[StratumDraw], pop: &BTreeMap<StratumKey, Vec<u64>>) {
        let keys: Vec<&StratumKey> = draws.iter().map(|d| &d.key).collect();
        let expected: Vec<&StratumKey> = pop.keys().collect();
        assert_eq!(keys, expected);
        for d in draws {
            assert!(d.sampled.windows(2).all(|w| w[0] < w[1]), "{d:?}");
            assert!(d.sampled.iter().all(|s| pop[&d.key].contains(s)), "{d:?}");
            assert_eq!(d.population, pop[&d.key].len() as u64);
        }
    }

    #[test]
    fn deterministic_for_seed_and_population() {
        let pop = population(&[("a", 500), ("b", 300), ("c", 200)]);
        let p = plan(42, 50, 0, Allocation::Proportional);
        let first = draw(&p, &pop);
        assert_eq!(first, draw(&p, &pop));
        check_well_formed(&first, &pop);
        // A different seed gives a different draw of the same sizes.
        let other = draw(&plan(43, 50, 0, Allocation::Proportional), &pop);
        assert_eq!(counts(&first), counts(&other));
        assert_ne!(first, other);
    }

    #[test]
    fn proportional_sums_to_size_with_largest_remainder() {
        // Quotas 10 * (1/3, 1/3, 1/3) = 3.33 each: one extra to the first in key order.
        let pop = population(&[("a", 30), ("b", 30), ("c", 30)]);
        let draws = draw(&plan(1, 10, 0, Allocation::Proportional), &pop);
        assert_eq!(counts(&draws), [4, 3, 3]);
        // Quotas 10 * (0.55, 0.27, 0.18) = 5.5, 2.7, 1.8: remainders .5, .7, .8 -> b and c.
        let pop = population(&[("a", 55), ("b", 27), ("c", 18)]);
        let draws = draw(&plan(1, 10, 0, Allocation::Proportional), &pop);
        assert_eq!(counts(&draws), [5, 3, 2]);
        check_well_formed(&draws, &pop);
    }

    #[test]
    fn the_total_is_the_size_whatever_the_minimums() {
        let strata: Vec<(String, u64)> = (0..30).map(|i| (format!("s{i:02}"), 5 + i)).collect();
        let named: Vec<(&str, u64)> = strata.iter().map(|(k, n)| (k.as_str(), *n)).collect();
        let pop = population(&named);
        for allocation in [Allocation::Proportional, Allocation::Equal] {
            let draws = draw(&plan(3, 40, 1, allocation), &pop);
            assert_eq!(counts(&draws).iter().sum::<usize>(), 40, "{allocation:?}");
            assert!(counts(&draws).iter().all(|&n| n >= 1));
            check_well_formed(&draws, &pop);
        }
        // Minimums beyond the size are the caller's to refuse.
        assert_eq!(
            minimum_total(&plan(3, 20, 1, Allocation::Proportional), &pop),
            30
        );
    }

    #[test]
    fn minimums_raise_small_strata_but_never_above_population() {
        let pop = population(&[("a", 1000), ("b", 10), ("c", 2)]);
        let draws = draw(&plan(7, 100, 5, Allocation::Proportional), &pop);
        // Minimums 5, 5 and c's whole population of 2 take 12; the other 88 go proportionally to
        // what is left (995, 5, 0): 87.56, 0.44 -> floors 87, 0 and the one left over to a.
        assert_eq!(counts(&draws), [93, 5, 2]);
        assert_eq!(
            minimum_total(&plan(7, 100, 5, Allocation::Proportional), &pop),
            12
        );
        assert_eq!(
            draws[2].sampled,
            pop[&key("c")].iter().rev().copied().collect::<Vec<_>>()
        );
    }

    #[test]
    fn equal_allocation_and_small_strata() {
        let pop = population(&[("a", 100), ("b", 100), ("c", 100)]);
        assert_eq!(
            counts(&draw(&plan(3, 30, 0, Allocation::Equal), &pop)),
            [10, 10, 10]
        );
        assert_eq!(
            counts(&draw(&plan(3, 31, 0, Allocation::Equal), &pop)),
            [11, 10, 10]
        );
        // Stratum b is smaller than its share of 10: taken whole, the rest shared by a and c.
        let pop = population(&[("a", 100), ("b", 4), ("c", 100)]);
        let draws = draw(&plan(3, 30, 0, Allocation::Equal), &pop);
        assert_eq!(counts(&draws), [13, 4, 13]);
        check_well_formed(&draws, &pop);
        // Asking for more than there is takes everything.
        let all = draw(&plan(3, 10_000, 0, Allocation::Equal), &pop);
        assert_eq!(counts(&all), [100, 4, 100]);
        let all = draw(&plan(3, 10_000, 0, Allocation::Proportional), &pop);
        assert_eq!(counts(&all), [100, 4, 100]);
    }

    #[test]
    fn adding_a_stratum_keeps_the_others_draws() {
        let pop = population(&[("a", 100), ("c", 100)]);
        let p = plan(9, 20, 0, Allocation::Equal);
        let before = draw(&p, &pop);
        let mut bigger = pop.clone();
        bigger.insert(key("b"), (1000..1100).collect());
        let p = plan(9, 30, 0, Allocation::Equal);
        let after = draw(&p, &bigger);
        assert_eq!(after[0], before[0]);
        assert_eq!(after[2], before[1]);
    }

    #[test]
    fn duplicates_and_empty_strata() {
        let mut pop = BTreeMap::new();
        pop.insert(key("a"), vec![5, 5, 3, 3, 1]);
        pop.insert(key("b"), vec![]);
        let draws = draw(&plan(0, 10, 2, Allocation::Proportional), &pop);
        assert_eq!(draws[0].population, 3);
        assert_eq!(draws[0].sampled, [1, 3, 5]);
        assert_eq!(draws[1].population, 0);
        assert!(draws[1].sampled.is_empty());
        assert!(draw(&plan(0, 10, 2, Allocation::Equal), &BTreeMap::new()).is_empty());
    }

    #[test]
    fn sampling_is_roughly_uniform() {
        // Each of 10 items drawn 3 at a time over 2000 seeds: expected 600 each.
        let pop = population(&[("a", 10)]);
        let mut hits = [0u32; 10];
        for seed in 0..2000 {
            for s in &draw(&plan(seed, 3, 0, Allocation::Proportional), &pop)[0].sampled {
                hits[*s as usize] += 1;
            }
        }
        assert!(hits.iter().all(|&h| (500..700).contains(&h)), "{hits:?}");
    }

    #[test]
    fn month_period_label() {
        let t = DateTime::parse_from_rfc3339("2026-03-31T23:59:59Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(month_period(t), "2026-03");
    }

    fn tally(
        unit: &str,
        population: u64,
        lawful: u64,
        unlawful: u64,
        unclear: u64,
    ) -> StratumTally {
        StratumTally {
            key: key(unit),
            population,
            sampled: lawful + unlawful + unclear,
            lawful,
            unlawful,
            unclear,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-4
    }

    #[test]
    fn single_stratum_equals_plain_wilson() {
        let e = estimate(&[tally("a", 5000, 90, 10, 3)], Z95);
        let plain = wilson(10, 100, Z95);
        assert!(close(e.overall.estimate, plain.estimate), "{e:?}");
        assert!(close(e.overall.low, plain.low), "{e:?}");
        assert!(close(e.overall.high, plain.high), "{e:?}");
        assert_eq!(e.per_stratum[0].1, plain);
        assert_eq!(e.overall_unclear_as_unlawful, wilson(13, 103, Z95));
        assert_eq!((e.judged, e.sampled, e.population), (103, 103, 5000));
        // Nothing unlawful: variance 0, n_eff = n, the plain interval again.
        let e = estimate(&[tally("a", 5000, 50, 0, 0)], Z95);
        assert_eq!(e.overall, wilson(0, 50, Z95));
    }

    #[test]
    fn two_strata_by_hand() {
        // W = (0.75, 0.25); p_h = (0.1, 0.5); n_h = (100, 20).
        // p = 0.075 + 0.125 = 0.2
        // Var = 0.5625 * 0.09 / 100 + 0.0625 * 0.25 / 20 = 0.00050625 + 0.00078125 = 0.0012875
        // n_eff = 0.16 / 0.0012875 = 124.2718...; Wilson of 0.2 * n_eff out of n_eff.
        let e = estimate(
            &[tally("a", 3000, 90, 10, 0), tally("b", 1000, 10, 10, 4)],
            Z95,
        );
        let n_eff = 0.16 / 0.0012875;
        let expected = wilson_fractional(0.2 * n_eff, n_eff, Z95);
        assert!(close(e.overall.estimate, 0.2), "{e:?}");
        assert!(close(e.overall.low, expected.low), "{e:?}");
        assert!(close(e.overall.high, expected.high), "{e:?}");
        // By hand: centre = (0.2 + z²/(2·124.27)) / (1 + z²/124.27) = 0.20900,
        // half = z/(1 + z²/124.27) · sqrt(0.16/124.27 + z²/(4·124.27²)) = 0.06985.
        assert!((e.overall.low - 0.1391).abs() < 5e-4, "{e:?}");
        assert!((e.overall.high - 0.2788).abs() < 5e-4, "{e:?}");
        // Unclear as unlawful only raises the estimate.
        assert!(e.overall_unclear_as_unlawful.estimate > e.overall.estimate);
    }

    #[test]
    fn unjudged_strata_carry_no_weight() {
        let e = estimate(
            &[tally("a", 3000, 90, 10, 0), tally("b", 1000, 0, 0, 0)],
            Z95,
        );
        assert!(close(e.overall.estimate, 0.1), "{e:?}");
        assert_eq!(e.per_stratum[1].1, Interval::UNKNOWN);
        let none = estimate(&[], Z95);
        assert_eq!(none.overall, Interval::UNKNOWN);
        assert_eq!(none.judged, 0);
    }
}
