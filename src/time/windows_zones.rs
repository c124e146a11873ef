//! Windows time zone names (as Exchange and Outlook write TZIDs) mapped to IANA, from CLDR's windowsZones
//! "001" (primary) territory rows.

/// The IANA name for a Windows zone name, if known.
pub fn to_iana(windows: &str) -> Option<&'static str> {
    TABLE
        .iter()
        .find(|(w, _)| w.eq_ignore_ascii_case(windows))
        .map(|(_, iana)| *iana)
}

const TABLE: &[(&str, &str)] = &[
    ("UTC", "Etc/UTC"),
    ("GMT Standard Time", "Europe/London"),
    ("Eastern Standard Time", "America/New_York"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("W. Europe Standard Time", "Europe/Berlin"),
];
