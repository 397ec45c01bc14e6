//! Field values read through an alias with a conversion (`sigma::mapping::Transform`), as SQL.

use super::Unsupported;
use crate::sigma::mapping::Transform;
use crate::sql::{Catalog, Val, lower, quote};

/// `field` read through an alias with its conversion, as the matcher converts it
/// (`sigma::mapping::convert`): a user name or domain split off `DOMAIN\user`, an integrity
/// level offered in both its forms, or the domain and user joined.
pub(super) fn converted(
    field: Option<&str>,
    transform: Transform,
    cat: &Catalog,
) -> Result<Val, Unsupported> {
    let read = field.map_or(Val::Absent, |name| cat.value(name));
    // The part after the last backslash (all of it when there is none).
    let user = |s: &str| format!("substring_index({s}, '\\\\', -1)");
    Ok(match transform {
        Transform::None => read,
        Transform::DomainUser => domain_user(cat)?,
        _ if read == Val::Absent => Val::Absent,
        // One value converts to one value (`NULL` for no domain), with no lambda.
        Transform::UserName => match read {
            Val::One(v) => Val::One(user(&v)),
            read => Val::Many(format!("transform({}, s -> {})", read.array(), user("s"))),
        },
        Transform::UserDomain if matches!(read, Val::One(_)) => {
            let v = read.expr();
            Val::One(format!(
                "IF(instr({v}, '\\\\') > 0, substring({v}, 1, length({v}) - length({}) - 1), NULL)",
                user(v)
            ))
        }
        Transform::UserDomain => {
            // Only values holding a backslash have a domain; none of them: absent.
            let domains = format!(
                "filter(transform({}, s -> IF(instr(s, '\\\\') > 0, \
                 substring(s, 1, length(s) - length({}) - 1), NULL)), d -> d IS NOT NULL)",
                read.array(),
                user("s")
            );
            Val::Many(format!(
                "(CASE WHEN size({domains}) > 0 THEN {domains} END)"
            ))
        }
        Transform::Integrity => {
            // Each value, followed by its other form when it names a level either way.
            let pairs = || {
                (crate::sigma::mapping::INTEGRITY.iter())
                    .flat_map(|(name, sid)| [(name, sid), (sid, name)])
                    .map(|(from, to)| (quote(&lower(from)), quote(to)))
            };
            match read {
                // One value (the usual case): it and its other form, with no lambda.
                Val::One(v) => {
                    let arms: Vec<String> = pairs()
                        .map(|(from, to)| format!("WHEN {from} THEN {to}"))
                        .collect();
                    let other = format!("(CASE lower({v}) {} END)", arms.join(" "));
                    Val::Few(vec![v, other])
                }
                read => {
                    let arms: Vec<String> = pairs()
                        .map(|(from, to)| format!("WHEN {from} THEN array(s, {to})"))
                        .collect();
                    Val::Many(format!(
                        "flatten(transform({}, s -> CASE lower(s) {} ELSE array(s) END))",
                        read.array(),
                        arms.join(" ")
                    ))
                }
            }
        }
    })
}

/// A 4688's `User` as Sysmon writes it: `TargetDomainName\TargetUserName`, or the Subject pair
/// when the target user is absent or `-`; the user alone when the domain is absent or empty.
fn domain_user(cat: &Catalog) -> Result<Val, Unsupported> {
    let one = |name: &str| match cat.value(name) {
        Val::Many(_) | Val::Few(_) => Err(format!("`{name}` has several values in some event")),
        v => Ok(v.expr().to_owned()),
    };
    let (tu, td) = (one("TargetUserName")?, one("TargetDomainName")?);
    let (su, sd) = (one("SubjectUserName")?, one("SubjectDomainName")?);
    let join = |d: &str, u: &str| {
        format!(
            "(CASE WHEN {d} IS NOT NULL AND {d} <> '' THEN concat({d}, '\\\\', {u}) ELSE {u} END)"
        )
    };
    Ok(Val::One(format!(
        "(CASE WHEN {tu} IS NOT NULL AND {tu} <> '-' THEN {} WHEN {su} IS NOT NULL THEN {} END)",
        join(&td, &tu),
        join(&sd, &su)
    )))
}
