//! The proportions that shape the generated world, in one place.
//!
//! These are plausible figures for a Dutch police region, not knobs tuned to any detector: they
//! decide how people live, how rosters look, how much ordinary work there is and how violations are
//! spread. They are deliberately internal; `DemoConfig` sets the size, the seed and the
//! [`Profile`], which moves the emphasis between police work and the municipal front office.

use crate::Profile;
use crate::answer::ViolationKind;

/// Shares and rates of the world. All shares are fractions in `[0, 1]`.
#[derive(Debug, Clone)]
pub(crate) struct Mix {
    /// Relative weights of household sizes 1 to 5.
    pub household_sizes: [f64; 5],
    /// Households living in commuter towns outside the region's areas.
    pub commuter_households: f64,
    pub vip_rate: f64,
    pub protected_rate: f64,
    pub deceased_rate: f64,
    pub informant_rate: f64,
    /// Community officers who live in the district they serve.
    pub community_officer_lives_in_district: f64,
    /// Employees who have declared at least one relation.
    pub declaring_employees: f64,
    /// Employees leaving within or just after the period (besides planted leavers).
    pub leavers: f64,
    /// Employees starting within the period.
    pub joiners: f64,
    /// Employees without any roster data.
    pub without_roster: f64,
    pub with_leave: f64,
    pub with_sickness: f64,
    /// Detectives with standby blocks.
    pub with_standby: f64,
    pub part_time: f64,
    /// Investigations that are restricted to their team.
    pub restricted_investigations: f64,
    /// Multiplies the amount of ordinary work per shift.
    pub work_per_shift: f64,
    /// Chance that the last lookup of a shift spills over its end.
    pub overtime: f64,
    /// Chance that a lookup in case work names the case.
    pub case_given: f64,
    /// The deliberate noise of honest work without registered context: the share of all jobs in a
    /// shift that become a person check whose case was never registered. For units without an
    /// area (detectives, the national unit) nothing in the context explains such a lookup.
    pub unexplained: f64,
    /// Of the jobs of a detective or protection officer without a current case of their own, the
    /// share that is analysis, reading or paperwork without any lookup.
    pub between_cases_idle: f64,
    /// Of the lookups such an employee does make on a colleague's open case of the unit, the share
    /// for which they are registered on it first (the rest help without being registered).
    pub between_cases_registered: f64,
    /// Relative weights of the violation kinds.
    pub violation_kinds: [(ViolationKind, f64); 13],
    /// Relative weights of one, two or three violation kinds per violator.
    pub kinds_per_violator: [f64; 3],
    /// Shares of the head count per kind of unit; the neighbourhood teams take the rest.
    pub units: UnitShares,
}

/// Shares of the head count per kind of unit, in `[0, 1]`; neighbourhood teams get what is left.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UnitShares {
    pub front_office: f64,
    pub traffic: f64,
    pub national: f64,
    pub detective: f64,
}

impl Mix {
    /// The proportions of one kind of organisation: the standard region with its emphasis moved.
    pub(crate) fn for_profile(profile: Profile) -> Mix {
        let standard = Mix::standard();
        match profile {
            Profile::Region => standard,
            // Many patrol officers with a high plate-check volume, more (and more restricted)
            // investigations, community officers who mostly live where they work.
            Profile::Police => Mix {
                community_officer_lives_in_district: 0.6,
                restricted_investigations: 0.35,
                work_per_shift: 2.8,
                unexplained: 0.04,
                units: UnitShares {
                    front_office: 0.02,
                    traffic: 0.09,
                    national: 0.05,
                    detective: 0.20,
                },
                ..standard
            },
            // A large municipal front office beside a smaller police presence, with a low
            // patrol volume and more counter work without a registered reason.
            Profile::FrontOffice => Mix {
                community_officer_lives_in_district: 0.3,
                declaring_employees: 0.25,
                work_per_shift: 1.4,
                unexplained: 0.05,
                case_given: 0.7,
                units: UnitShares {
                    front_office: 0.35,
                    traffic: 0.03,
                    national: 0.02,
                    detective: 0.10,
                },
                ..standard
            },
        }
    }

    pub(crate) fn standard() -> Mix {
        Mix {
            household_sizes: [0.37, 0.31, 0.13, 0.13, 0.06],
            commuter_households: 0.12,
            vip_rate: 0.0004,
            protected_rate: 0.0003,
            deceased_rate: 0.004,
            informant_rate: 0.0005,
            community_officer_lives_in_district: 0.4,
            declaring_employees: 0.35,
            leavers: 0.012,
            joiners: 0.008,
            without_roster: 0.03,
            with_leave: 0.14,
            with_sickness: 0.08,
            with_standby: 0.3,
            part_time: 0.2,
            restricted_investigations: 0.25,
            work_per_shift: 2.0,
            overtime: 0.08,
            case_given: 0.8,
            unexplained: 0.03,
            between_cases_idle: 0.5,
            between_cases_registered: 0.6,
            violation_kinds: [
                (ViolationKind::SelfLookup, 1.0),
                (ViolationKind::Family, 1.2),
                (ViolationKind::ExPartner, 0.8),
                (ViolationKind::Neighbour, 1.0),
                (ViolationKind::Colleague, 0.8),
                (ViolationKind::VipCuriosity, 0.8),
                (ViolationKind::InTheNews, 1.0),
                (ViolationKind::RestrictedLeak, 0.7),
                (ViolationKind::CaseCover, 0.8),
                (ViolationKind::OffDuty, 0.8),
                (ViolationKind::OnLeave, 0.6),
                (ViolationKind::NameBrowsing, 0.8),
                (ViolationKind::BulkExportLeaver, 0.4),
            ],
            kinds_per_violator: [0.35, 0.4, 0.25],
            units: UnitShares {
                front_office: 0.06,
                traffic: 0.05,
                national: 0.04,
                detective: 0.15,
            },
        }
    }
}
