//! Windows time zone names (as Exchange and Outlook write TZIDs) mapped to IANA.
//!
//! [`TABLE`] is CLDR's common/supplemental/windowsZones.xml, every `territory="001"` (primary) row, in the
//! file's order (by UTC offset). The IANA names are the ones CLDR writes (Asia/Calcutta, Europe/Kiev,
//! America/Godthab, ...): chrono-tz 0.10 accepts every one of them, which a unit test checks.
//! [`LEGACY`] holds a few names that older Windows releases used and that still appear in old Exchange
//! exports; CLDR has since dropped them.

/// The IANA name for a Windows zone name, if known. Case-insensitive, as Windows itself is.
pub fn to_iana(windows: &str) -> Option<&'static str> {
    let windows = windows.trim();
    TABLE
        .iter()
        .chain(LEGACY.iter())
        .find(|(w, _)| w.eq_ignore_ascii_case(windows))
        .map(|(_, iana)| *iana)
}

/// The Windows name whose primary zone is `iana` (only [`TABLE`]: a legacy name is never written), for
/// APIs that take Windows names (Graph). Exact match: a zone that is not some Windows name's primary one
/// (Europe/Amsterdam, Asia/Kolkata) has none.
pub fn to_windows(iana: &str) -> Option<&'static str> {
    TABLE.iter().find(|(_, i)| *i == iana).map(|(w, _)| *w)
}

/// CLDR windowsZones, territory "001" rows (typeVersion 2021a, otherVersion 7e11800).
const TABLE: &[(&str, &str)] = &[
    ("Dateline Standard Time", "Etc/GMT+12"),
    ("UTC-11", "Etc/GMT+11"),
    ("Aleutian Standard Time", "America/Adak"),
    ("Hawaiian Standard Time", "Pacific/Honolulu"),
    ("Marquesas Standard Time", "Pacific/Marquesas"),
    ("Alaskan Standard Time", "America/Anchorage"),
    ("UTC-09", "Etc/GMT+9"),
    ("Pacific Standard Time (Mexico)", "America/Tijuana"),
    ("UTC-08", "Etc/GMT+8"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("US Mountain Standard Time", "America/Phoenix"),
    ("Mountain Standard Time (Mexico)", "America/Mazatlan"),
    ("Mountain Standard Time", "America/Denver"),
    ("Yukon Standard Time", "America/Whitehorse"),
    ("Central America Standard Time", "America/Guatemala"),
    ("Central Standard Time", "America/Chicago"),
    ("Easter Island Standard Time", "Pacific/Easter"),
    ("Central Standard Time (Mexico)", "America/Mexico_City"),
    ("Canada Central Standard Time", "America/Regina"),
    ("SA Pacific Standard Time", "America/Bogota"),
    ("Eastern Standard Time (Mexico)", "America/Cancun"),
    ("Eastern Standard Time", "America/New_York"),
    ("Haiti Standard Time", "America/Port-au-Prince"),
    ("Cuba Standard Time", "America/Havana"),
    ("US Eastern Standard Time", "America/Indianapolis"),
    ("Turks And Caicos Standard Time", "America/Grand_Turk"),
    ("Paraguay Standard Time", "America/Asuncion"),
    ("Atlantic Standard Time", "America/Halifax"),
    ("Venezuela Standard Time", "America/Caracas"),
    ("Central Brazilian Standard Time", "America/Cuiaba"),
    ("SA Western Standard Time", "America/La_Paz"),
    ("Pacific SA Standard Time", "America/Santiago"),
    ("Newfoundland Standard Time", "America/St_Johns"),
    ("Tocantins Standard Time", "America/Araguaina"),
    ("E. South America Standard Time", "America/Sao_Paulo"),
    ("SA Eastern Standard Time", "America/Cayenne"),
    ("Argentina Standard Time", "America/Buenos_Aires"),
    ("Greenland Standard Time", "America/Godthab"),
    ("Montevideo Standard Time", "America/Montevideo"),
    ("Magallanes Standard Time", "America/Punta_Arenas"),
    ("Saint Pierre Standard Time", "America/Miquelon"),
    ("Bahia Standard Time", "America/Bahia"),
    ("UTC-02", "Etc/GMT+2"),
    ("Azores Standard Time", "Atlantic/Azores"),
    ("Cape Verde Standard Time", "Atlantic/Cape_Verde"),
    ("UTC", "Etc/UTC"),
    ("GMT Standard Time", "Europe/London"),
    ("Greenwich Standard Time", "Atlantic/Reykjavik"),
    ("Sao Tome Standard Time", "Africa/Sao_Tome"),
    ("Morocco Standard Time", "Africa/Casablanca"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Central Europe Standard Time", "Europe/Budapest"),
    ("Romance Standard Time", "Europe/Paris"),
    ("Central European Standard Time", "Europe/Warsaw"),
    ("W. Central Africa Standard Time", "Africa/Lagos"),
    ("Jordan Standard Time", "Asia/Amman"),
    ("GTB Standard Time", "Europe/Bucharest"),
    ("Middle East Standard Time", "Asia/Beirut"),
    ("Egypt Standard Time", "Africa/Cairo"),
    ("E. Europe Standard Time", "Europe/Chisinau"),
    ("Syria Standard Time", "Asia/Damascus"),
    ("West Bank Standard Time", "Asia/Hebron"),
    ("South Africa Standard Time", "Africa/Johannesburg"),
    ("FLE Standard Time", "Europe/Kiev"),
    ("Israel Standard Time", "Asia/Jerusalem"),
    ("South Sudan Standard Time", "Africa/Juba"),
    ("Kaliningrad Standard Time", "Europe/Kaliningrad"),
    ("Sudan Standard Time", "Africa/Khartoum"),
    ("Libya Standard Time", "Africa/Tripoli"),
    ("Namibia Standard Time", "Africa/Windhoek"),
    ("Arabic Standard Time", "Asia/Baghdad"),
    ("Turkey Standard Time", "Europe/Istanbul"),
    ("Arab Standard Time", "Asia/Riyadh"),
    ("Belarus Standard Time", "Europe/Minsk"),
    ("Russian Standard Time", "Europe/Moscow"),
    ("E. Africa Standard Time", "Africa/Nairobi"),
    ("Iran Standard Time", "Asia/Tehran"),
    ("Arabian Standard Time", "Asia/Dubai"),
    ("Astrakhan Standard Time", "Europe/Astrakhan"),
    ("Azerbaijan Standard Time", "Asia/Baku"),
    ("Russia Time Zone 3", "Europe/Samara"),
    ("Mauritius Standard Time", "Indian/Mauritius"),
    ("Saratov Standard Time", "Europe/Saratov"),
    ("Georgian Standard Time", "Asia/Tbilisi"),
    ("Volgograd Standard Time", "Europe/Volgograd"),
    ("Caucasus Standard Time", "Asia/Yerevan"),
    ("Afghanistan Standard Time", "Asia/Kabul"),
    ("West Asia Standard Time", "Asia/Tashkent"),
    ("Ekaterinburg Standard Time", "Asia/Yekaterinburg"),
    ("Pakistan Standard Time", "Asia/Karachi"),
    ("Qyzylorda Standard Time", "Asia/Qyzylorda"),
    ("India Standard Time", "Asia/Calcutta"),
    ("Sri Lanka Standard Time", "Asia/Colombo"),
    ("Nepal Standard Time", "Asia/Katmandu"),
    ("Central Asia Standard Time", "Asia/Bishkek"),
    ("Bangladesh Standard Time", "Asia/Dhaka"),
    ("Omsk Standard Time", "Asia/Omsk"),
    ("Myanmar Standard Time", "Asia/Rangoon"),
    ("SE Asia Standard Time", "Asia/Bangkok"),
    ("Altai Standard Time", "Asia/Barnaul"),
    ("W. Mongolia Standard Time", "Asia/Hovd"),
    ("North Asia Standard Time", "Asia/Krasnoyarsk"),
    ("N. Central Asia Standard Time", "Asia/Novosibirsk"),
    ("Tomsk Standard Time", "Asia/Tomsk"),
    ("China Standard Time", "Asia/Shanghai"),
    ("North Asia East Standard Time", "Asia/Irkutsk"),
    ("Singapore Standard Time", "Asia/Singapore"),
    ("W. Australia Standard Time", "Australia/Perth"),
    ("Taipei Standard Time", "Asia/Taipei"),
    ("Ulaanbaatar Standard Time", "Asia/Ulaanbaatar"),
    ("Aus Central W. Standard Time", "Australia/Eucla"),
    ("Transbaikal Standard Time", "Asia/Chita"),
    ("Tokyo Standard Time", "Asia/Tokyo"),
    ("North Korea Standard Time", "Asia/Pyongyang"),
    ("Korea Standard Time", "Asia/Seoul"),
    ("Yakutsk Standard Time", "Asia/Yakutsk"),
    ("Cen. Australia Standard Time", "Australia/Adelaide"),
    ("AUS Central Standard Time", "Australia/Darwin"),
    ("E. Australia Standard Time", "Australia/Brisbane"),
    ("AUS Eastern Standard Time", "Australia/Sydney"),
    ("West Pacific Standard Time", "Pacific/Port_Moresby"),
    ("Tasmania Standard Time", "Australia/Hobart"),
    ("Vladivostok Standard Time", "Asia/Vladivostok"),
    ("Lord Howe Standard Time", "Australia/Lord_Howe"),
    ("Bougainville Standard Time", "Pacific/Bougainville"),
    ("Russia Time Zone 10", "Asia/Srednekolymsk"),
    ("Magadan Standard Time", "Asia/Magadan"),
    ("Norfolk Standard Time", "Pacific/Norfolk"),
    ("Sakhalin Standard Time", "Asia/Sakhalin"),
    ("Central Pacific Standard Time", "Pacific/Guadalcanal"),
    ("Russia Time Zone 11", "Asia/Kamchatka"),
    ("New Zealand Standard Time", "Pacific/Auckland"),
    ("UTC+12", "Etc/GMT-12"),
    ("Fiji Standard Time", "Pacific/Fiji"),
    ("Chatham Islands Standard Time", "Pacific/Chatham"),
    ("UTC+13", "Etc/GMT-13"),
    ("Tonga Standard Time", "Pacific/Tongatapu"),
    ("Samoa Standard Time", "Pacific/Apia"),
    ("Line Islands Standard Time", "Pacific/Kiritimati"),
];

/// Names from older Windows releases that CLDR no longer lists but old Exchange and Outlook exports carry.
const LEGACY: &[(&str, &str)] = &[
    ("Mid-Atlantic Standard Time", "Etc/GMT+2"),
    ("Mexico Standard Time", "America/Mexico_City"),
    ("Mexico Standard Time 2", "America/Chihuahua"),
    ("Armenian Standard Time", "Asia/Yerevan"),
    ("Kamchatka Standard Time", "Asia/Kamchatka"),
    ("Russia Time Zone 9", "Asia/Yakutsk"),
    ("GMT", "Etc/GMT"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn each_primary_zone_names_its_windows_zone_back() {
        for (windows, iana) in TABLE {
            assert_eq!(
                to_windows(iana),
                Some(*windows),
                "{iana} is the primary zone of {windows}, so a write in it names {windows}"
            );
        }
        assert_eq!(
            to_windows("Europe/Amsterdam"),
            None,
            "a zone that is no Windows zone's primary one has no name of its own"
        );
        let zone = |n: &str| crate::time::Zone::parse(n).expect("a known zone");
        assert_eq!(
            (zone("UTC").windows_name(), zone("Etc/UTC").windows_name()),
            (Some("UTC"), Some("UTC")),
            "UTC is UTC to Windows too"
        );
        assert_eq!(
            zone("Eastern Standard Time").windows_name(),
            Some("Eastern Standard Time"),
            "a Windows name read in is written back the same"
        );
        for (windows, _) in LEGACY {
            assert!(
                TABLE.iter().all(|(_, i)| to_windows(i) != Some(*windows)),
                "a legacy name ({windows}) is read, never written"
            );
        }
    }

    #[test]
    fn every_iana_target_parses_with_chrono_tz() {
        for (windows, iana) in TABLE.iter().chain(LEGACY.iter()) {
            assert!(
                chrono_tz::Tz::from_str(iana).is_ok(),
                "{windows:?} maps to {iana:?}, which chrono-tz must know or the mapping is useless"
            );
        }
    }

    #[test]
    fn table_is_the_full_cldr_primary_set() {
        assert!(
            TABLE.len() >= 139,
            "CLDR windowsZones has 139 primary rows; a shorter table loses zones Exchange writes"
        );
        let mut names: Vec<&str> = TABLE.iter().map(|(w, _)| *w).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TABLE.len(), "each Windows name appears once");
    }

    #[test]
    fn well_known_names_map_as_cldr_says() {
        assert_eq!(to_iana("Romance Standard Time"), Some("Europe/Paris"));
        assert_eq!(
            to_iana("AUS Eastern Standard Time"),
            Some("Australia/Sydney")
        );
        assert_eq!(to_iana("India Standard Time"), Some("Asia/Calcutta"));
        assert_eq!(
            to_iana("eastern standard time"),
            Some("America/New_York"),
            "Windows zone names are case-insensitive"
        );
        assert_eq!(to_iana("Not A Zone"), None);
    }
}
