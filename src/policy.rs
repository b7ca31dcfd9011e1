//! The policy (SPEC §5): for every item and destination, exactly one verdict — `upsert`,
//! `remove`, or `skip` with a stable reason code and a sentence a SOC engineer understands — plus,
//! for what goes out, the expiry, action, severity and TLP to write.
//!
//! [`decide`] judges one item on its own; [`decide_all`] judges a payload's items for one
//! destination and then applies what needs the whole payload: duplicates of (type, value) collapse
//! to the highest-priority owner (else the highest score), and Defender's tenant quota admits the
//! highest scores first. The order of the single-item checks is fixed, so the reason reported is
//! always the first one that applies:
//!
//! 1. `not_atomic` (Defender, Graph) — Sentinel takes the original pattern;
//! 2. `type` — the observable type is not in the destination's `types`;
//! 3. `tlp` — the TLP (or `tlp_default`) is above `tlp_ceiling` (removals too: revoking re-sends
//!    the pattern);
//! 4. removals stop here: a source's delete goes out whatever the filters say now;
//! 5. `detection`, `not_modified` (delta), `score`, `confidence`, `threat_rating`,
//!    `false_positives`, `filtered_tag`, `owner`;
//! 6. `expired` — `valid_until` has passed: a create is skipped, an update becomes a removal;
//! 7. `action` — no action rule matches the score, or the action is invalid for the type.

use serde::Serialize;

use crate::config::{ActionRule, Destination, DestinationType, IndicatorAction, Settings, Severity};
use crate::model::{Action, Event, HashAlgorithm, Indicator, ObservableType, Tlp};
use crate::time::Timestamp;

/// What happens to an item at a destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Create or update it.
    Upsert,
    /// Take it out.
    Remove,
    /// Leave the destination alone; `reason` says why.
    Skip,
}

/// Why an item is skipped: a stable machine-readable code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The pattern has no atomic observable this destination can match.
    NotAtomic,
    /// The observable type is not relayed to this destination.
    Type,
    /// The TLP is above the egress ceiling.
    Tlp,
    /// OpenCTI marks the indicator as not for detection.
    Detection,
    /// Not modified since the delta timestamp.
    NotModified,
    /// The score is below the minimum (or missing).
    Score,
    /// The confidence is below the minimum (or missing).
    Confidence,
    /// The threat rating is below the minimum (or missing).
    ThreatRating,
    /// More false positives than allowed.
    FalsePositives,
    /// A tag filter excludes it.
    FilteredTag,
    /// The owner is not an allowed one.
    Owner,
    /// Its validity ended before now.
    Expired,
    /// No valid action for it.
    Action,
    /// Another item of the payload carries the same observable with higher priority.
    Duplicate,
    /// The destination's indicator quota is full.
    Quota,
    /// The destination is disabled in the config.
    Disabled,
}

impl Reason {
    /// The stable code, as serialised.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NotAtomic => "not_atomic",
            Self::Type => "type",
            Self::Tlp => "tlp",
            Self::Detection => "detection",
            Self::NotModified => "not_modified",
            Self::Score => "score",
            Self::Confidence => "confidence",
            Self::ThreatRating => "threat_rating",
            Self::FalsePositives => "false_positives",
            Self::FilteredTag => "filtered_tag",
            Self::Owner => "owner",
            Self::Expired => "expired",
            Self::Action => "action",
            Self::Duplicate => "duplicate",
            Self::Quota => "quota",
            Self::Disabled => "disabled",
        }
    }
}

/// One item's verdict at one destination, with what to write when it goes out.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    /// The verdict.
    pub verdict: Verdict,
    /// Why it is skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// The sentence that goes with the reason (or with a removal that an expiry caused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When it expires at the destination (upserts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<Timestamp>,
    /// The action to write (Defender, Graph upserts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<IndicatorAction>,
    /// Whether Defender should raise an alert.
    pub generate_alert: bool,
    /// The severity to write (Defender, Graph).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// The TLP to write: `tlp_override`, else the item's, else `tlp_default`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tlp: Option<Tlp>,
}

impl Decision {
    fn skip(reason: Reason, message: String) -> Self {
        Self {
            verdict: Verdict::Skip,
            reason: Some(reason),
            message: Some(message),
            expires: None,
            action: None,
            generate_alert: false,
            severity: None,
            tlp: None,
        }
    }

    fn out(verdict: Verdict, tlp: Option<Tlp>) -> Self {
        Self {
            verdict,
            reason: None,
            message: None,
            expires: None,
            action: None,
            generate_alert: false,
            severity: None,
            tlp,
        }
    }
}

/// Facts from the host that the policy needs beyond the payload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// Defender: the tenant's current count of active indicators (`None`: unknown, no quota check).
    pub defender_active: Option<u32>,
}

/// Judges one item at one destination, at `now`.
pub fn decide(item: &Indicator<'_>, destination: &Destination, now: Timestamp) -> Decision {
    let policy = &destination.policy;
    if !destination.enabled {
        return Decision::skip(
            Reason::Disabled,
            format!("destination `{}` is disabled in the config", destination.name),
        );
    }
    let Some(observable) = &item.observable else {
        if destination.kind == DestinationType::Sentinel {
            return upsert_or_remove(item, destination, now, None);
        }
        let why = item.not_atomic.as_deref().unwrap_or("the pattern is not atomic");
        return Decision::skip(
            Reason::NotAtomic,
            format!("{} cannot take a compound pattern: {why}", destination.kind.as_str()),
        );
    };
    if !policy.types.contains(&observable.kind) {
        return Decision::skip(
            Reason::Type,
            format!("`{}` indicators are not relayed to `{}` (see `types`)", observable.kind, destination.name),
        );
    }
    upsert_or_remove(item, destination, now, Some(observable.kind))
}

fn upsert_or_remove(
    item: &Indicator<'_>,
    destination: &Destination,
    now: Timestamp,
    kind: Option<ObservableType>,
) -> Decision {
    let policy = &destination.policy;
    let tlp = item.tlp.or(policy.tlp_default);
    if let Some(level) = tlp.filter(|t| *t > policy.tlp_ceiling) {
        return Decision::skip(
            Reason::Tlp,
            format!(
                "TLP:{} is above this destination's ceiling TLP:{}; raise `tlp_ceiling` only if the source allows it",
                level.as_str().to_ascii_uppercase(),
                policy.tlp_ceiling.as_str().to_ascii_uppercase()
            ),
        );
    }
    let written_tlp = policy.tlp_override.or(tlp);
    if item.action == Action::Remove {
        return Decision::out(Verdict::Remove, written_tlp);
    }
    if let Some(skip) = filters(item, destination) {
        return skip;
    }
    // Expiry: the source's valid_until, else now + the type's lifetime; never beyond max_days.
    let lifetime =
        kind.map_or(i64::from(policy.expiry.default_days) * 86_400_000, |k| policy.expiry.lifetime_millis(k));
    let max = now.plus_millis(i64::from(policy.expiry.max_days) * 86_400_000);
    let expires = item.lifecycle.valid_until.unwrap_or_else(|| now.plus_millis(lifetime)).min(max);
    if expires <= now {
        let until = item.lifecycle.valid_until.map_or_else(String::new, |t| format!(" (valid until {t})"));
        if matches!(item.event, Some(Event::Update)) {
            let mut removal = Decision::out(Verdict::Remove, written_tlp);
            removal.message = Some(format!("the update arrived after the indicator expired{until}: removing it"));
            return removal;
        }
        return Decision::skip(Reason::Expired, format!("the indicator has already expired{until}: nothing to create"));
    }
    let mut decision = Decision::out(Verdict::Upsert, written_tlp);
    decision.expires = Some(expires);
    let score = item.scoring.score;
    match destination.kind {
        DestinationType::Sentinel => {}
        DestinationType::Defender | DestinationType::Graph => {
            let Some(rule) = policy.action_for(score) else {
                let score = score.map_or_else(|| "no score".to_owned(), |s| format!("score {s}"));
                return Decision::skip(Reason::Action, format!("no `action` rule matches {score}"));
            };
            if let Some(skip) = action_validity(*rule, kind, &destination.settings) {
                return skip;
            }
            decision.action = Some(rule.action);
            // Defender: `Audit` only works with an alert; the legacy `Alert`/`AlertAndBlock`
            // names ask for one; otherwise the destination's `generate_alert` decides.
            decision.generate_alert = matches!(&destination.settings, Settings::Defender(d)
                if d.generate_alert || rule.generate_alert || rule.action == IndicatorAction::Audit);
            decision.severity = policy.severity_for(score);
        }
    }
    decision
}

/// The selection filters, in the documented order.
fn filters(item: &Indicator<'_>, destination: &Destination) -> Option<Decision> {
    let policy = &destination.policy;
    let scoring = &item.scoring;
    if policy.require_detection && item.detection == Some(false) {
        return Some(Decision::skip(
            Reason::Detection,
            "OpenCTI marks the indicator as not for detection (`detection: false`); set `require_detection: false` to relay it anyway".to_owned(),
        ));
    }
    if let Some(since) = policy.modified_since.filter(|since| item.lifecycle.modified.is_some_and(|m| m < *since)) {
        return Some(Decision::skip(Reason::NotModified, format!("not modified since {since} (`modified_since`)")));
    }
    let below = |reason: Reason, what: &str, value: Option<f64>, min: Option<f64>| -> Option<Decision> {
        let min = min?;
        match value {
            Some(v) if v >= min => None,
            Some(v) => Some(Decision::skip(reason, format!("{what} {v} is below the minimum {min}"))),
            None => Some(Decision::skip(
                reason,
                format!("the indicator has no {what}, and `min_{}` requires one", reason.as_str()),
            )),
        }
    };
    if let Some(skip) = below(Reason::Score, "score", scoring.score.map(f64::from), policy.min_score.map(f64::from))
        .or_else(|| {
            below(
                Reason::Confidence,
                "confidence",
                scoring.confidence.map(f64::from),
                policy.min_confidence.map(f64::from),
            )
        })
        .or_else(|| below(Reason::ThreatRating, "threat rating", scoring.threat_rating, policy.min_threat_rating))
    {
        return Some(skip);
    }
    if let (Some(max), Some(count)) = (policy.max_false_positives, scoring.false_positives)
        && count > max
    {
        return Some(Decision::skip(
            Reason::FalsePositives,
            format!("{count} false positives reported, more than the {max} allowed"),
        ));
    }
    let has = |tag: &String| item.labels.iter().any(|l| l.eq_ignore_ascii_case(tag));
    if let Some(tag) = policy.tags_none.iter().find(|t| has(t)) {
        return Some(Decision::skip(Reason::FilteredTag, format!("tagged `{tag}`, which `tags_none` excludes")));
    }
    if !policy.tags_any.is_empty() && !policy.tags_any.iter().any(has) {
        return Some(Decision::skip(Reason::FilteredTag, "carries none of the tags in `tags_any`".to_owned()));
    }
    if !policy.owners.is_empty() && owner_rank(item, &policy.owners).is_none() {
        let owner = item.source.owner.as_deref().unwrap_or("no owner");
        return Some(Decision::skip(Reason::Owner, format!("owner `{owner}` is not in `owners`")));
    }
    None
}

/// Defender's per-type action validity (files: any; IP, URL, domain: not `BlockAndRemediate`;
/// certificates: `Allowed` or `BlockAndRemediate`).
fn action_validity(rule: ActionRule, kind: Option<ObservableType>, settings: &Settings) -> Option<Decision> {
    let Settings::Defender(_) = settings else { return None };
    let kind = kind?;
    let valid: &[IndicatorAction] = match kind {
        ObservableType::File => return None,
        ObservableType::Certificate => &[IndicatorAction::Allowed, IndicatorAction::BlockAndRemediate],
        _ => &[IndicatorAction::Allowed, IndicatorAction::Audit, IndicatorAction::Warn, IndicatorAction::Block],
    };
    if valid.contains(&rule.action) {
        return None;
    }
    let names: Vec<&str> = valid.iter().map(|a| a.as_str()).collect();
    Some(Decision::skip(
        Reason::Action,
        format!(
            "Defender does not allow `{}` on `{kind}` indicators: expected one of {}",
            rule.action.as_str(),
            names.join(", ")
        ),
    ))
}

/// The position of the item's owner in `owners` (case-insensitive), lower is higher priority.
fn owner_rank(item: &Indicator<'_>, owners: &[String]) -> Option<usize> {
    let owner = item.source.owner.as_deref()?;
    owners.iter().position(|o| o.eq_ignore_ascii_case(owner))
}

/// Judges every item of a payload at one destination: [`decide`] for each, then duplicates and
/// the Defender quota. Returns one decision per item, in item order.
pub fn decide_all(items: &[Indicator<'_>], destination: &Destination, now: Timestamp, facts: Facts) -> Vec<Decision> {
    let mut decisions: Vec<Decision> = items.iter().map(|item| decide(item, destination, now)).collect();
    settle(items, &observable_groups(items), destination, facts, &mut decisions);
    decisions
}

/// For each item, the number of its observable among the payload's distinct observables (equal
/// type, hash algorithm and value: the same number), or `u32::MAX` for an item without one. The
/// duplicate check of [`settle`] compares these numbers, so a plan hashes each value once, not
/// once per destination.
pub(crate) fn observable_groups(items: &[Indicator<'_>]) -> Vec<u32> {
    let mut numbers: crate::fasthash::FastMap<(ObservableType, Option<HashAlgorithm>, &str), u32> =
        crate::fasthash::FastMap::with_capacity_and_hasher(items.len(), crate::fasthash::FastBuild::default());
    items
        .iter()
        .map(|item| match &item.observable {
            Some(o) => {
                let next = u32::try_from(numbers.len()).unwrap_or(u32::MAX);
                *numbers.entry((o.kind, o.algorithm, o.value.as_str())).or_insert(next)
            }
            None => u32::MAX,
        })
        .collect()
}

/// The payload-wide rules, after [`decide`] judged each item at `destination`: duplicates (same
/// observable group and verdict: the one of highest priority stays) and the Defender quota.
/// `groups` is [`observable_groups`] of `items`.
pub(crate) fn settle(
    items: &[Indicator<'_>],
    groups: &[u32],
    destination: &Destination,
    facts: Facts,
    decisions: &mut [Decision],
) {
    let policy = &destination.policy;
    // Priority: owner rank (lower first), then score (higher first), then payload order.
    let priority = |i: usize| {
        let item = items.get(i);
        let rank = item.and_then(|it| owner_rank(it, &policy.owners)).unwrap_or(usize::MAX);
        let score = item.and_then(|it| it.scoring.score).map_or(0, |s| 100 - i32::from(s));
        (rank, score, i)
    };
    if policy.dedup {
        // Keys computed once (owner ranks compare strings), then one unstable sort of plain integer
        // tuples: `i` ends every key, so no two are equal and the order is the stable one. Only
        // the items whose observable appears more than once need sorting at all.
        let mut count = vec![0u8; groups.len()];
        for &g in groups {
            if let Some(c) = usize::try_from(g).ok().and_then(|g| count.get_mut(g)) {
                *c = c.saturating_add(1);
            }
        }
        let repeated = |i: usize| {
            groups.get(i).and_then(|&g| usize::try_from(g).ok()).and_then(|g| count.get(g)).is_some_and(|&c| c > 1)
        };
        let mut order: Vec<(i64, i64, usize)> = (0..items.len())
            .filter(|&i| repeated(i) && is_out(decisions, i))
            .map(|i| {
                let (rank, score, i) = priority(i);
                (i64::try_from(rank).unwrap_or(i64::MAX), i64::from(score), i)
            })
            .collect();
        order.sort_unstable();
        // Per group, which verdicts have been kept: bit 0 upsert, bit 1 remove.
        let mut kept = vec![0u8; groups.len()];
        for (_, _, i) in order {
            let (Some(item), Some(verdict)) = (items.get(i), decisions.get(i).map(|d| d.verdict)) else { continue };
            let Some(o) = &item.observable else { continue };
            let bit = if verdict == Verdict::Remove { 2 } else { 1 };
            let Some(seen) = groups.get(i).and_then(|&g| usize::try_from(g).ok()).and_then(|g| kept.get_mut(g)) else {
                continue;
            };
            if *seen & bit == 0 {
                *seen |= bit;
            } else if let Some(d) = decisions.get_mut(i) {
                *d = Decision::skip(
                    Reason::Duplicate,
                    format!("`{}` appears earlier in the payload with higher priority", o.value),
                );
            }
        }
    }
    if let (Settings::Defender(defender), Some(active)) = (&destination.settings, facts.defender_active) {
        let cap = crate::config::DEFENDER_TENANT_CAP.saturating_sub(defender.quota_reserve);
        let mut room = cap.saturating_sub(active);
        // Highest score first (no score last), then owner rank, then payload order; keyed as the
        // dedup order is, so both sorts are one.
        let mut upserts: Vec<(i64, i64, usize)> = (0..items.len())
            .filter(|&i| decisions.get(i).is_some_and(|d| d.verdict == Verdict::Upsert))
            .map(|i| {
                let score = items.get(i).and_then(|it| it.scoring.score).map_or(1, |s| -i64::from(s));
                (score, i64::try_from(priority(i).0).unwrap_or(i64::MAX), i)
            })
            .collect();
        upserts.sort_unstable();
        for (_, _, i) in upserts {
            if room > 0 {
                room -= 1;
            } else if let Some(d) = decisions.get_mut(i) {
                *d = Decision::skip(
                    Reason::Quota,
                    format!(
                        "the tenant's {cap} indicator slots ({} minus a reserve of {}) are full; higher-scored indicators went first",
                        crate::config::DEFENDER_TENANT_CAP,
                        defender.quota_reserve
                    ),
                );
            }
        }
    }
}

fn is_out(decisions: &[Decision], i: usize) -> bool {
    decisions.get(i).is_some_and(|d| d.verdict != Verdict::Skip)
}

#[cfg(test)]
mod tests;
