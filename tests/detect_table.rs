//! Table-driven detection tests written from real invite formats.
//!
//! Positive cases: one or more links per platform row, each placed in a field (conference, url, location,
//! description text, description HTML, HTML body) and, in turn, behind SafeLinks, a Google redirect, both nested,
//! or HTML entity encoding. Full blocks: Zoom's "copy invitation", Outlook's Teams HTML and plain-text blocks,
//! Webex, GoTo and Google's conference block. Negative cases cover each rejection class.
//! Every case also checks that `detect` and `explain` agree.

use punctual::detect::{self, explain, Invite};
use punctual::model::LinkSource;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Field {
    Conference,
    Url,
    Location,
    Description,
    Html,
}

#[derive(Clone, Debug)]
struct Case {
    name: String,
    field: Field,
    input: String,
    /// `Ok((platform, url))` or `Err(rejection kind)`; `Err("none")` when nothing link-like is there.
    expect: Result<(String, String), String>,
}

fn run(field: Field, input: &str) -> (Option<punctual::model::MeetingLink>, detect::Explanation) {
    let conference = vec![input.to_string()];
    let mut inv = Invite::default();
    match field {
        Field::Conference => inv.conference = &conference,
        Field::Url => inv.url = Some(input),
        Field::Location => inv.location = Some(input),
        Field::Description => inv.description = Some(input),
        Field::Html => inv.html = Some(input),
    }
    (detect::detect(&inv), explain(&inv))
}

fn source_of(f: Field) -> LinkSource {
    match f {
        Field::Conference => LinkSource::Conference,
        Field::Url => LinkSource::Url,
        Field::Location => LinkSource::Location,
        Field::Description => LinkSource::Description,
        Field::Html => LinkSource::Html,
    }
}

/// Percent-encode everything but unreserved characters, as SafeLinks and Google's redirector do.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn safelinks(u: &str) -> String {
    format!("https://nam12.safelinks.protection.outlook.com/?url={}&data=05%7C02%7Cjane%40acme.example%7Cabc%7C0&sdata=ZmFrZQ%3D%3D&reserved=0", enc(u))
}

fn google(u: &str) -> String {
    format!(
        "https://www.google.com/url?q={}&sa=D&source=calendar&usd=2&usg=AOvVaw0abc",
        enc(u)
    )
}

fn html_attr(u: &str) -> String {
    u.replace('&', "&amp;")
}

/// Links that must be accepted, by platform id. Every row of the table appears at least once.
const POSITIVES: &[(&str, &str)] = &[
    ("google_meet", "https://meet.google.com/kpw-qzrt-vxa"),
    ("google_meet", "https://meet.google.com/kpw-qzrt-vxa?authuser=0&hs=122"),
    ("google_meet", "https://meet.google.com/kpwqzrtvxa"),
    ("google_meet", "https://meet.google.com/lookup/acme-standup"),
    ("zoom", "https://acme.zoom.us/j/84512345678?pwd=bXlSeWJ5aWRsTk5VZz09"),
    ("zoom", "https://us02web.zoom.us/j/81234567890"),
    ("zoom", "https://zoom.us/my/janedoe"),
    ("zoom", "https://acme.zoom.us/w/98765432101?tk=AbC.dEf&uuid=WN_xyz"),
    ("zoom", "https://zoom.us/webinar/register/WN_abcDEF123"),
    ("zoom", "https://acme.zoomgov.com/j/1601234567?pwd=Zm9v"),
    ("zoom", "https://us06web.zoom-x.de/j/61234567890?pwd=YmFy"),
    ("zoom", "https://acme.zoom.us/s/84512345678"),
    ("zoom", "https://zoom.us/wc/join/84512345678"),
    ("zoom", "https://zoom.us/meeting/register/tJ0kd-abcDEF"),
    ("zoom", "https://zoom.com/j/84512345678"),
    ("zoom", "https://acme.zoom.us/j/84512345678#success"),
    ("teams", "https://teams.microsoft.com/l/meetup-join/19%3ameeting_MzQ5YjQ0ZTMtYTc5ZC00YzEyLWE4NDQtZjEyZDQzOGFkMmI1%40thread.v2/0?context=%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%2c%22Oid%22%3a%224d1f2a0c-7b3e-4c55-9a8e-1f2b3c4d5e6f%22%7d"),
    ("teams", "https://teams.live.com/meet/9412345678901?p=AbCdEfGh"),
    ("teams", "https://teams.microsoft.com/meet/24015681394?p=9kQ3Zx"),
    ("teams", "https://gov.teams.microsoft.us/l/meetup-join/19%3ameeting_Abc%40thread.v2/0?context=%7b%7d"),
    ("teams", "https://dod.teams.microsoft.us/l/meetup-join/19%3ameeting_Def%40thread.v2/0"),
    ("teams", "https://teams.microsoft.com/dl/launcher/launcher.html?url=%2F_%23%2Fl%2Fmeetup-join%2F19%3Ameeting_x%40thread.v2%2F0&type=meetup-join&directDl=true&msLaunch=true"),
    ("teams", "https://teams.microsoft.com/_#/l/meetup-join/19:meeting_x@thread.v2/0"),
    ("webex", "https://acme.webex.com/meet/jane.doe"),
    ("webex", "https://acme.webex.com/acme/j.php?MTID=m1234567890abcdef1234567890abcdef"),
    ("webex", "https://acme.my.webex.com/meet/jane"),
    ("webex", "https://acme.webex.com/join/jane.doe"),
    ("webex", "https://acme.webex.com/wbxmjs/joinservice/sites/acme/meeting/download/abc123?siteurl=acme&MTID=m1"),
    ("webex", "https://acme.webex.com/webappng/sites/acme/meeting/info/abc123"),
    ("gotomeeting", "https://global.gotomeeting.com/join/123456789"),
    ("gotomeeting", "https://www.gotomeeting.com/join/987654321"),
    ("goto_meet", "https://meet.goto.com/123456789"),
    ("goto_meet", "https://meet.goto.com/join/123456789"),
    ("goto_app", "https://app.goto.com/meeting/123456789"),
    ("gotowebinar", "https://attendee.gotowebinar.com/register/1234567890123456789"),
    ("gotowebinar", "https://global.gotowebinar.com/join/123/456"),
    ("gototraining", "https://global.gototraining.com/join/training/123456"),
    ("bluejeans", "https://bluejeans.com/123456789"),
    ("bluejeans", "https://acme.bluejeans.com/123456789/1234"),
    ("whereby", "https://whereby.com/jane-room"),
    ("whereby", "https://acme.whereby.com/standup"),
    ("appear_in", "https://appear.in/jane"),
    ("jitsi", "https://meet.jit.si/AcmeWeeklySync"),
    ("8x8", "https://8x8.vc/acme/weekly"),
    ("chime", "https://chime.aws/1234567890"),
    ("chime", "https://app.chime.aws/meetings/1234567890"),
    ("ringcentral_meetings", "https://meetings.ringcentral.com/j/1234567890"),
    ("ringcentral_video", "https://v.ringcentral.com/join/123456789"),
    ("slack_huddle", "https://app.slack.com/huddle/T01ABCDEF/C02GHIJKL"),
    ("discord_invite", "https://discord.gg/abcDEF1"),
    ("discord", "https://discord.com/channels/123456789012345678/987654321098765432"),
    ("skype", "https://join.skype.com/AbCdEfGhIjKl"),
    ("skype_business", "https://meet.lync.com/acme/jane/ABCD1234"),
    ("zoho_meeting", "https://meeting.zoho.com/meeting/register?sessionId=1234567890"),
    ("zoho_meeting", "https://meeting.zoho.eu/join?key=123456789"),
    ("zoho_cliq", "https://cliq.zoho.com/meetings/abc123"),
    ("lifesize", "https://call.lifesizecloud.com/1234567"),
    ("around", "https://around.co/r/acme-standup"),
    ("gather", "https://app.gather.town/app/AbCdEf/acme-office"),
    ("livestorm", "https://app.livestorm.co/p/1a2b3c4d/live?s=abc"),
    ("facetime", "https://facetime.apple.com/join#v=1&p=AbCdEf123&k=XyZ789"),
    ("proton_meet", "https://meet.proton.me/join/id-ABC123#pwd-xyz789"),
    ("vonage", "https://meetings.vonage.com/123456789"),
    ("pop", "https://pop.com/j/123-456-789"),
    ("tuple", "https://tuple.app/c/acme/abc123"),
    ("cal_video", "https://app.cal.com/video/abc123XYZ"),
    ("workplace", "https://acme.workplace.com/meet/abc-def"),
    ("messenger_rooms", "https://msngr.com/AbCdEfGh"),
    ("blackboard_collaborate", "https://us.bbcollab.com/guest/abc123def"),
    ("riverside", "https://riverside.fm/studio/jane-doe?t=abc"),
    ("streamyard", "https://streamyard.com/abcdefghij"),
    ("livekit", "https://meet.livekit.io/rooms/acme-sync"),
    ("jam", "https://jam.systems/acme-sync"),
    ("lark", "https://vc.feishu.cn/j/123456789"),
    ("lark", "https://vc.larksuite.com/j/987654321"),
    ("tencent_meeting", "https://meeting.tencent.com/dm/AbCdEf123"),
    ("voov", "https://voovmeeting.com/dm/AbCdEf123"),
    ("reclaim", "https://app.reclaim.ai/m/jane/30min"),
    ("demio", "https://event.demio.com/ref/AbCdEf123"),
    ("chorus", "https://go.chorus.ai/m/abc123"),
    ("gong", "https://app.gong.io/call?id=1234567890"),
    ("hangouts", "https://hangouts.google.com/hangouts/_/acme.com/weekly"),
    ("dialpad_meetings", "https://meetings.dialpad.com/room/acme"),
    ("uberconference", "https://www.uberconference.com/acme"),
    ("join_me", "https://join.me/acme-sync"),
    ("adobe_connect", "https://acme.adobeconnect.com/weekly"),
    ("clickmeeting", "https://acme.clickmeeting.com/weekly-sync"),
    ("butter", "https://butter.us/acme-weekly"),
    ("daily", "https://acme.daily.co/standup"),
    ("talky", "https://talky.io/acme"),
    ("element_call", "https://call.element.io/acme-sync"),
    ("kumospace", "https://www.kumospace.com/acme"),
    ("hopin", "https://hopin.com/events/acme-summit"),
    ("airmeet", "https://www.airmeet.com/e/abc-123"),
    ("telemost", "https://telemost.yandex.ru/j/12345678901234"),
    ("vk_calls", "https://vk.com/call/join/AbCdEf"),
    ("dingtalk", "https://meeting.dingtalk.com/j/AbCdEf"),
    ("starleaf", "https://meet.starleaf.com/4012345678/app"),
    ("pexip", "https://pexip.me/meet/acme"),
    ("vidyo", "https://acme.vidyocloud.com/join/AbCdEf"),
    ("bigbluebutton", "https://demo.bigbluebutton.org/rooms/abc-123/join"),
    ("intermedia", "https://meet.intermedia.net/123456789"),
    ("on24", "https://event.on24.com/wcc/r/1234567/ABCDEF"),
    ("crowdcast", "https://www.crowdcast.io/e/acme-launch"),
    ("remo", "https://live.remo.co/e/acme-social"),
    ("huddle01", "https://app.huddle01.com/abc-defg-hij"),
    ("vowel", "https://vowel.com/app/acme/meeting"),
    ("teamviewer_meeting", "https://go.teamviewer.com/m12345678"),
    ("mmhmm", "https://mmhmm.app/r/acme"),
    ("wire", "https://wire.link/conversation-join/?key=AbCdEf&code=123"),
    ("signal", "https://signal.link/call/#key=abcd-efgh-ijkl"),
    ("whatsapp_call", "https://call.whatsapp.com/video/AbCdEf123"),
    ("zoom_events", "https://events.zoom.com/ev/AbCdEf123"),
    ("vimeo_events", "https://vimeo.com/event/1234567"),
];

/// Links that must be rejected, with the rejection kind `explain` must report.
const NEGATIVES: &[(&str, &str)] = &[
    // Lookalike hosts.
    ("lookalike_host", "https://zoom.us.evil.com/j/84512345678"),
    ("lookalike_host", "https://evilzoom.us/j/84512345678"),
    ("lookalike_host", "https://zoom-us.com/j/84512345678"),
    ("lookalike_host", "https://zoomus.co/j/84512345678"),
    (
        "lookalike_host",
        "https://teams-microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0",
    ),
    (
        "lookalike_host",
        "https://teams.microsoft.com.phish.example/l/meetup-join/x",
    ),
    (
        "lookalike_host",
        "https://meet.google.com.evil.example/abc-defg-hij",
    ),
    ("lookalike_host", "https://meet-google.com/abc-defg-hij"),
    ("lookalike_host", "https://webex-meeting.com/meet/jane"),
    (
        "lookalike_host",
        "https://gotomeeting.com.login.example/join/123456789",
    ),
    ("lookalike_host", "https://bluejeans.net/123456789"),
    ("lookalike_host", "https://zoom.us./j/84512345678"),
    // User information before the host.
    ("userinfo", "https://zoom.us@evil.com/j/84512345678"),
    ("userinfo", "https://user:secret@acme.zoom.us/j/84512345678"),
    (
        "userinfo",
        "https://meet.google.com@evil.example/abc-defg-hij",
    ),
    (
        "userinfo",
        "https://teams.microsoft.com:443@evil.example/l/meetup-join/x",
    ),
    // IDN homographs.
    ("idn_homograph", "https://zооm.us/j/84512345678"),
    ("idn_homograph", "https://xn--zm-fmca.us/j/84512345678"),
    ("idn_homograph", "https://meеt.google.com/abc-defg-hij"),
    (
        "idn_homograph",
        "https://teams.microsоft.com/l/meetup-join/x",
    ),
    ("idn_homograph", "https://ｚｏｏｍ.us/j/84512345678"),
    ("idn_homograph", "https://wеbex.com/meet/jane"),
    // Schemes other than http(s) (found in hrefs, or written as scheme://).
    (
        "bad_scheme",
        "<a href=\"javascript:alert(document.cookie)\">https://acme.zoom.us/j/84512345678</a>",
    ),
    (
        "bad_scheme",
        "<a href=\"JavaScript:window.location='https://evil.example'\">Join</a>",
    ),
    (
        "bad_scheme",
        "<a href=\"data:text/html;base64,PHNjcmlwdD4=\">Join Zoom Meeting</a>",
    ),
    ("bad_scheme", "<a href=\"vbscript:msgbox(1)\">Join</a>"),
    (
        "bad_scheme",
        "Open file:///C:/Users/Public/zoom.us/j/84512345678.exe now",
    ),
    (
        "bad_scheme",
        "Join in the app: zoommtg://zoom.us/join?action=join&confno=84512345678",
    ),
    (
        "bad_scheme",
        "<a href=\"msteams:/l/meetup-join/19%3ameeting_x%40thread.v2/0\">Join</a>",
    ),
    ("bad_scheme", "ftp://zoom.us/j/84512345678"),
    // Pages that are not meetings.
    ("not_a_meeting_page", "https://meet.google.com/"),
    ("not_a_meeting_page", "https://meet.google.com/landing"),
    ("not_a_meeting_page", "https://meet.google.com/new"),
    (
        "not_a_meeting_page",
        "https://meet.google.com/landing?authuser=0",
    ),
    ("not_a_meeting_page", "https://acme.zoom.us/u/abcDEF123"),
    ("not_a_meeting_page", "https://zoom.us/download"),
    ("not_a_meeting_page", "https://zoom.us/pricing"),
    ("not_a_meeting_page", "https://zoom.us/signin"),
    (
        "not_a_meeting_page",
        "https://support.zoom.us/hc/en-us/articles/201362193",
    ),
    (
        "not_a_meeting_page",
        "https://explore.zoom.us/en/products/meetings/",
    ),
    (
        "not_a_meeting_page",
        "https://zoom.us/client/latest/ZoomInstaller.exe",
    ),
    ("not_a_meeting_page", "https://acme.zoom.us/j/"),
    ("not_a_meeting_page", "https://www.webex.com/downloads.html"),
    (
        "not_a_meeting_page",
        "https://help.webex.com/en-us/article/nqzpeei/Join-a-Webex-meeting",
    ),
    (
        "not_a_meeting_page",
        "https://teams.microsoft.com/downloads",
    ),
    (
        "not_a_meeting_page",
        "https://teams.microsoft.com/meetingOptions/?organizerId=abc&tenantId=def",
    ),
    (
        "not_a_meeting_page",
        "https://dialin.teams.microsoft.com/a1b2c3?id=851234567",
    ),
    ("not_a_meeting_page", "https://whereby.com/pricing"),
    ("not_a_meeting_page", "https://whereby.com/"),
    ("not_a_meeting_page", "https://meet.jit.si/"),
    ("not_a_meeting_page", "https://meet.goto.com/install"),
    ("not_a_meeting_page", "https://discord.com/download"),
    (
        "not_a_meeting_page",
        "https://app.slack.com/client/T01ABCDEF/C02GHIJKL",
    ),
    ("not_a_meeting_page", "https://docs.webex.com/meet/guide"),
    (
        "not_a_meeting_page",
        "https://acme.webex.com/meet/agenda.pdf",
    ),
    // Hosts that are no meeting service.
    (
        "unknown_host",
        "https://docs.google.com/document/d/1AbC/edit?usp=sharing",
    ),
    ("unknown_host", "https://acme.example/meeting/123"),
    (
        "unknown_host",
        "https://www.microsoft.com/microsoft-teams/join-a-meeting",
    ),
    (
        "unknown_host",
        "https://tel.meet/kpw-qzrt-vxa?pin=4512345678901",
    ),
    ("unknown_host", "https://192.168.1.10/j/84512345678"),
    // Ports.
    ("unexpected_port", "https://zoom.us:8443/j/84512345678"),
    (
        "unexpected_port",
        "https://meet.google.com:444/abc-defg-hij",
    ),
    // Wrappers around something bad.
    (
        "lookalike_host",
        "SAFE(https://zoom.us.evil.com/j/84512345678)",
    ),
    ("userinfo", "GOOGLE(https://zoom.us@evil.com/j/1)"),
    ("bad_scheme", "GOOGLE(javascript:alert(1))"),
    (
        "not_a_meeting_page",
        "SAFE(https://meet.google.com/landing)",
    ),
    (
        "empty_wrapper",
        "https://nam12.safelinks.protection.outlook.com/?data=05%7C02&reserved=0",
    ),
    ("empty_wrapper", "https://www.google.com/url?sa=D&q="),
    (
        "too_many_wrappers",
        "DEEP(https://acme.zoom.us/j/84512345678)",
    ),
    // Nothing link-like at all.
    ("none", "Conference room 4B (Liberty)"),
    ("none", "Dial +1 646 558 8656, meeting ID 845 1234 5678"),
    (
        "none",
        "Building 4.2/B, desk 12 (a dot and a slash, no meeting host)",
    ),
    ("none", "Location: zoom.us.evil.com/j/84512345678"),
    (
        "none",
        "<p>Microsoft Teams meeting</p><p>Join on your computer</p>",
    ),
];

fn expand_negative(input: &str) -> String {
    if let Some(inner) = input
        .strip_prefix("SAFE(")
        .and_then(|s| s.strip_suffix(')'))
    {
        return safelinks(inner);
    }
    if let Some(inner) = input
        .strip_prefix("GOOGLE(")
        .and_then(|s| s.strip_suffix(')'))
    {
        return google(inner);
    }
    if let Some(inner) = input
        .strip_prefix("DEEP(")
        .and_then(|s| s.strip_suffix(')'))
    {
        let mut u = inner.to_string();
        for i in 0..12 {
            u = if i % 2 == 0 {
                safelinks(&u)
            } else {
                google(&u)
            };
        }
        return u;
    }
    input.to_string()
}

fn positive_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (i, (platform, url)) in POSITIVES.iter().enumerate() {
        let ok = Ok((platform.to_string(), url.to_string()));
        // 1. The bare link in a field, in turn.
        let (field, input) = match i % 5 {
            0 => (Field::Conference, url.to_string()),
            1 => (Field::Url, url.to_string()),
            2 => (Field::Location, format!("Online: {url}")),
            3 => (
                Field::Description,
                format!("Hi all,\n\nJoin here: {url}.\n\nThanks!"),
            ),
            _ => (
                Field::Html,
                format!("<p>Join: <a href=\"{}\">{url}</a></p>", html_attr(url)),
            ),
        };
        cases.push(Case {
            name: format!("{platform} plain #{i}"),
            field,
            input,
            expect: ok.clone(),
        });
        // 2. The same link behind a wrapper or an encoding.
        let (field, input, how) = match i % 6 {
            0 => (
                Field::Html,
                format!("<a href=\"{}\">Join</a>", html_attr(&safelinks(url))),
                "safelinks href",
            ),
            1 => (
                Field::Description,
                format!("Join: {} (via Outlook)", safelinks(url)),
                "safelinks text",
            ),
            2 => (
                Field::Description,
                format!(
                    "<a href=\"{}\">Join the call</a><br>",
                    html_attr(&google(url))
                ),
                "google redirect in html description",
            ),
            3 => (
                Field::Html,
                format!(
                    "<a href=\"{}\">Join</a>",
                    html_attr(&safelinks(&google(url)))
                ),
                "safelinks around google redirect",
            ),
            4 => (
                Field::Html,
                format!(
                    "<A HREF='{}' target=_blank>{url}</A>",
                    url.replace('&', "&#38;")
                ),
                "numeric entities in href",
            ),
            _ => (
                Field::Description,
                format!("Video call link: [{url}]\n"),
                "markdown brackets",
            ),
        };
        cases.push(Case {
            name: format!("{platform} {how} #{i}"),
            field,
            input,
            expect: ok,
        });
    }
    cases
}

fn negative_cases() -> Vec<Case> {
    NEGATIVES
        .iter()
        .enumerate()
        .map(|(i, (kind, input))| {
            let input = expand_negative(input);
            let field = if input.contains("<a ") || input.contains("<p>") {
                Field::Html
            } else {
                match i % 3 {
                    0 => Field::Description,
                    1 => Field::Location,
                    _ => Field::Url,
                }
            };
            Case {
                name: format!("negative {kind} #{i}"),
                field,
                input,
                expect: Err(kind.to_string()),
            }
        })
        .collect()
}

const ZOOM_COPY_INVITATION: &str = "Jane Doe is inviting you to a scheduled Zoom meeting.

Topic: Vendor call
Time: Mar 5, 2024 10:00 AM Eastern Time (US and Canada)

Join Zoom Meeting
https://acme.zoom.us/j/84512345678?pwd=bXlSeWJ5aWRsTk5VZz09

Meeting ID: 845 1234 5678
Passcode: 736291

---

One tap mobile
+16465588656,,84512345678#,,,,*736291# US (New York)
+13017158592,,84512345678#,,,,*736291# US (Washington DC)

---

Dial by your location
• +1 646 558 8656 US (New York)
• +1 301 715 8592 US (Washington DC)

Meeting ID: 845 1234 5678
Passcode: 736291

Find your local number: https://acme.zoom.us/u/kbXyZ12

Join by SIP
• 84512345678@zoomcrc.com
";

const TEAMS_TEXT: &str = "________________________________________________________________________________
Microsoft Teams meeting
Join on your computer, mobile app or room device
Click here to join the meeting<https://teams.microsoft.com/l/meetup-join/19%3ameeting_MzQ5YjQ0ZTMtYTc5ZC00YzEyLWE4NDQtZjEyZDQzOGFkMmI1%40thread.v2/0?context=%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%2c%22Oid%22%3a%224d1f2a0c-7b3e-4c55-9a8e-1f2b3c4d5e6f%22%7d>
Meeting ID: 240 156 813 941
Passcode: 9kQ3Zx
Download Teams<https://www.microsoft.com/en-us/microsoft-teams/download-app> | Join on the web<https://www.microsoft.com/microsoft-teams/join-a-meeting>
Or call in (audio only)
+1 323-849-4874,,851234567#   United States, Los Angeles
Phone Conference ID: 851 234 567#
Find a local number<https://dialin.teams.microsoft.com/8551f4c1-bea3-441a-8738-69aa517a91c5?id=851234567> | Reset PIN<https://dialin.teams.microsoft.com/usp/pstnconferencing>
Learn More<https://aka.ms/JoinTeamsMeeting> | Meeting options<https://teams.microsoft.com/meetingOptions/?organizerId=4d1f&tenantId=72f9&threadId=19_meeting&messageId=0&language=en-US>
________________________________________________________________________________
";

const TEAMS_URL: &str = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_MzQ5YjQ0ZTMtYTc5ZC00YzEyLWE4NDQtZjEyZDQzOGFkMmI1%40thread.v2/0?context=%7b%22Tid%22%3a%2272f988bf-86f1-41af-91ab-2d7cd011db47%22%2c%22Oid%22%3a%224d1f2a0c-7b3e-4c55-9a8e-1f2b3c4d5e6f%22%7d";

fn teams_html() -> String {
    format!(
        r#"<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body><div><br></div><div style="width:100%"><span style="white-space:nowrap;color:#5F5F5F;opacity:.36">________________________________________________________________________________</span></div><div class="me-email-text" lang="en-US" style="color:#252424;font-family:'Segoe UI','Helvetica Neue',Helvetica,Arial,sans-serif"><div style="margin-top:24px;margin-bottom:20px"><span style="font-size:24px;color:#252424">Microsoft Teams meeting</span></div><div style="margin-bottom:20px"><div style="margin-top:0px;margin-bottom:0px;font-weight:bold"><span style="font-size:14px;color:#252424">Join on your computer, mobile app or room device</span></div><a class="me-email-headline" href="{}" target="_blank" rel="noreferrer noopener" style="font-size:14px;font-family:'Segoe UI Semibold','Segoe UI';text-decoration:underline;color:#6264a7">Click here to join the meeting</a></div><div style="margin-bottom:20px;margin-top:20px"><div style="margin-bottom:4px"><span data-tid="meeting-code" style="font-size:14px;color:#252424">Meeting ID: <span style="font-size:16px;color:#252424">240 156 813 941</span></span><br><span style="font-size:14px;color:#252424">Passcode: </span><span style="font-size:16px;color:#252424">9kQ3Zx</span></div><div style="font-size:14px"><a class="me-email-link" style="font-size:14px;text-decoration:underline;color:#6264a7" target="_blank" href="https://www.microsoft.com/en-us/microsoft-teams/download-app" rel="noreferrer noopener">Download Teams</a> | <a class="me-email-link" href="https://www.microsoft.com/microsoft-teams/join-a-meeting">Join on the web</a></div></div><div style="margin-bottom:24px;margin-top:20px"><div style="margin-bottom:4px;font-weight:bold"><span style="font-size:14px;color:#252424">Or call in (audio only)</span></div><div style="margin-bottom:4px"><a class="me-email-link" href="tel:+13238494874,,851234567#">+1 323-849-4874,,851234567#</a><span style="font-size:12px;color:#252424">&nbsp;&nbsp;United States, Los Angeles</span></div><div style="margin-bottom:4px"><span style="font-size:12px;color:#252424">Phone Conference ID: </span><span style="font-size:14px;color:#252424">851 234 567#</span></div></div><div style="margin-top:20px;margin-bottom:20px"><a class="me-email-link" href="https://aka.ms/JoinTeamsMeeting" target="_blank">Learn More</a> | <a class="me-email-link" href="https://teams.microsoft.com/meetingOptions/?organizerId=4d1f&amp;tenantId=72f9&amp;threadId=19_meeting&amp;messageId=0&amp;language=en-US">Meeting options</a></div></div><div style="font-size:14px;margin-bottom:4px;font-family:'Segoe UI','Helvetica Neue',Helvetica,Arial,sans-serif"></div><div style="width:100%"><span style="white-space:nowrap;color:#5F5F5F;opacity:.36">________________________________________________________________________________</span></div></body></html>"#,
        html_attr(&safelinks(TEAMS_URL))
    )
}

const WEBEX_TEXT: &str = "Jane Doe is inviting you to this Webex meeting.

Join meeting
https://acme.webex.com/acme/j.php?MTID=m7a3e1c2b9f8d4e6a5b0c1d2e3f4a5b6c

More ways to join:

Join from the meeting link
https://acme.webex.com/acme/j.php?MTID=m7a3e1c2b9f8d4e6a5b0c1d2e3f4a5b6c

Join by meeting number
Meeting number (access code): 2634 123 4567
Meeting password: XyZ7pq3Ab (99707730 when dialing from a phone or video system)

Tap to join from a mobile device (attendees only)
+1-415-655-0001,,26341234567## US Toll
+1-855-244-8681,,26341234567## Call-in toll-free number (US/Canada)

Join by phone
+1-415-655-0001 US Toll
Global call-in numbers
https://acme.webex.com/acmecmr/globalcallin.php?MTID=m1f2e3d4c5b6a7

Join from a video system or application
Dial 26341234567@acme.webex.com
You can also dial 173.243.2.68 and enter your meeting number.

Need help? Go to https://help.webex.com
";

const GOTO_TEXT: &str = "Weekly pipeline review
Mon, Mar 11, 2024 2:00 PM - 3:00 PM (EDT)

Please join my meeting from your computer, tablet or smartphone.
https://meet.goto.com/512345678

You can also dial in using your phone.
Access Code: 512-345-678

United States: +1 (872) 240-3212

Get the app now and be ready when your first meeting starts:
https://meet.goto.com/install
";

const GOOGLE_BLOCK: &str = "Jane Doe is inviting you to a meeting.

Join with Google Meet
meet.google.com/kpw-qzrt-vxa
https://meet.google.com/kpw-qzrt-vxa

Join by phone
(US) +1 650-555-0143 PIN: 123456789#

More phone numbers: https://tel.meet/kpw-qzrt-vxa?pin=4512345678901

Learn more about Meet at: https://support.google.com/a/users/answer/9282720

Please do not edit this section.
";

fn block_cases() -> Vec<Case> {
    let ok = |p: &str, u: &str| Ok((p.to_string(), u.to_string()));
    let zoom = "https://acme.zoom.us/j/84512345678?pwd=bXlSeWJ5aWRsTk5VZz09";
    let webex = "https://acme.webex.com/acme/j.php?MTID=m7a3e1c2b9f8d4e6a5b0c1d2e3f4a5b6c";
    let google_html = "<p>Join Zoom Meeting<br><a href=\"https://acme.zoom.us/j/84512345678?pwd=bXlSeWJ5aWRsTk5VZz09\">https://acme.zoom.us/j/84512345678?pwd=bXlSeWJ5aWRsTk5VZz09</a></p><p>Meeting ID: 845 1234 5678<br>Passcode: 736291</p>";
    vec![
        Case { name: "zoom copy invitation (description)".into(), field: Field::Description, input: ZOOM_COPY_INVITATION.into(), expect: ok("zoom", zoom) },
        Case { name: "zoom copy invitation (location)".into(), field: Field::Location, input: ZOOM_COPY_INVITATION.into(), expect: ok("zoom", zoom) },
        Case {
            name: "zoom copy invitation as Outlook HTML".into(),
            field: Field::Html,
            input: ZOOM_COPY_INVITATION.lines().map(|l| format!("<p class=MsoNormal>{}<o:p></o:p></p>\r\n", l.replace(zoom, &format!("<a href=\"{}\">{zoom}</a>", html_attr(&safelinks(zoom)))))).collect(),
            expect: ok("zoom", zoom),
        },
        Case { name: "google description HTML with a Zoom link".into(), field: Field::Description, input: google_html.into(), expect: ok("zoom", zoom) },
        Case { name: "teams plain-text block".into(), field: Field::Description, input: TEAMS_TEXT.into(), expect: ok("teams", TEAMS_URL) },
        Case { name: "teams Outlook HTML block behind SafeLinks".into(), field: Field::Html, input: teams_html(), expect: ok("teams", TEAMS_URL) },
        Case { name: "teams HTML block as a description".into(), field: Field::Description, input: teams_html(), expect: ok("teams", TEAMS_URL) },
        Case { name: "webex invitation".into(), field: Field::Description, input: WEBEX_TEXT.into(), expect: ok("webex", webex) },
        Case { name: "goto invitation".into(), field: Field::Description, input: GOTO_TEXT.into(), expect: ok("goto_meet", "https://meet.goto.com/512345678") },
        Case { name: "google conference block".into(), field: Field::Description, input: GOOGLE_BLOCK.into(), expect: ok("google_meet", "https://meet.google.com/kpw-qzrt-vxa") },
        Case {
            name: "teams launcher link in location".into(),
            field: Field::Location,
            input: "Microsoft Teams Meeting; https://teams.microsoft.com/dl/launcher/launcher.html?url=%2F_%23%2Fl%2Fmeetup-join%2F19%3Ameeting_x%40thread.v2%2F0&type=meetup-join".into(),
            expect: ok("teams", "https://teams.microsoft.com/dl/launcher/launcher.html?url=%2F_%23%2Fl%2Fmeetup-join%2F19%3Ameeting_x%40thread.v2%2F0&type=meetup-join"),
        },
        Case {
            name: "anchor text lies, href decides".into(),
            field: Field::Html,
            input: "<a href=\"https://evil.example/j/1\">https://acme.zoom.us/j/84512345678</a> <a href=\"https://meet.google.com/kpw-qzrt-vxa\">Meet</a>".into(),
            expect: ok("google_meet", "https://meet.google.com/kpw-qzrt-vxa"),
        },
        Case {
            name: "percent-encoded SafeLinks target twice".into(),
            field: Field::Html,
            input: format!("<a href=\"https://nam12.safelinks.protection.outlook.com/?url={}&amp;data=05\">Join</a>", enc(&enc(zoom))),
            expect: ok("zoom", zoom),
        },
        Case {
            name: "entity-encoded SafeLinks in text of an HTML description".into(),
            field: Field::Description,
            input: format!("<div>Join: {}</div>", html_attr(&safelinks(zoom))),
            expect: ok("zoom", zoom),
        },
        Case {
            name: "uppercase scheme and host".into(),
            field: Field::Location,
            input: "HTTPS://ACME.ZOOM.US/j/84512345678".into(),
            expect: ok("zoom", "HTTPS://ACME.ZOOM.US/j/84512345678"),
        },
        Case {
            name: "location link without a scheme".into(),
            field: Field::Location,
            input: "Zoom: acme.zoom.us/j/84512345678?pwd=bXlSeWJ5aWRsTk5VZz09; Room 4B".into(),
            expect: ok("zoom", "https://acme.zoom.us/j/84512345678?pwd=bXlSeWJ5aWRsTk5VZz09"),
        },
        Case {
            name: "Meet code without a scheme in the url field".into(),
            field: Field::Url,
            input: "meet.google.com/kpw-qzrt-vxa".into(),
            expect: ok("google_meet", "https://meet.google.com/kpw-qzrt-vxa"),
        },
        Case {
            // Found by fuzzing: detect's host shortcut must read extra slashes as the URL Standard does.
            name: "extra slashes before the host".into(),
            field: Field::Description,
            input: "Join Zoom: https:///acme.zoom.us/j/84512345678?pwd=bX".into(),
            expect: ok("zoom", "https:///acme.zoom.us/j/84512345678?pwd=bX"),
        },
        Case {
            name: "www link without scheme".into(),
            field: Field::Description,
            input: "Join at www.gotomeeting.com/join/987654321, thanks".into(),
            expect: ok("gotomeeting", "https://www.gotomeeting.com/join/987654321"),
        },
        Case {
            name: "lookalike first, real link after".into(),
            field: Field::Description,
            input: "Old: https://zoom.us.evil.com/j/1 New: https://acme.zoom.us/j/84512345678?pwd=bXlSeWJ5aWRsTk5VZz09".into(),
            expect: ok("zoom", zoom),
        },
        Case {
            name: "download link before the meeting link".into(),
            field: Field::Description,
            input: "Install https://zoom.us/download first, then join (https://acme.zoom.us/j/84512345678?pwd=bXlSeWJ5aWRsTk5VZz09).".into(),
            expect: ok("zoom", zoom),
        },
    ]
}

fn all_cases() -> Vec<Case> {
    let mut v = positive_cases();
    v.extend(block_cases());
    v.extend(negative_cases());
    v
}

fn check(case: &Case) -> Result<(), String> {
    let (got, explanation) = run(case.field, &case.input);
    if got != explanation.link {
        return Err(format!(
            "detect and explain disagree: {got:?} vs {:?}",
            explanation.link
        ));
    }
    match (&case.expect, got) {
        (Ok((platform, url)), Some(link)) => {
            if &link.platform != platform || &link.url != url {
                return Err(format!(
                    "expected {platform} {url}, got {} {}",
                    link.platform, link.url
                ));
            }
            if link.source != source_of(case.field) {
                return Err(format!(
                    "expected source {:?}, got {:?}",
                    case.field, link.source
                ));
            }
            if explanation.chosen().and_then(|c| c.rule.as_ref()).is_none() {
                return Err("the chosen candidate names no rule".into());
            }
            Ok(())
        }
        (Ok(_), None) => Err(format!(
            "no link; candidates: {}",
            explanation.render_text(true)
        )),
        (Err(kind), None) => {
            if kind == "none" {
                return if explanation.candidates.is_empty() {
                    Ok(())
                } else {
                    Err(format!(
                        "expected no candidates: {}",
                        explanation.render_text(true)
                    ))
                };
            }
            let kinds: Vec<String> = explanation
                .candidates
                .iter()
                .filter_map(|c| c.rejection.as_ref())
                .filter_map(|r| serde_json::to_value(r).ok())
                .filter_map(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string))
                .collect();
            if kinds.iter().any(|k| k == kind) {
                Ok(())
            } else {
                Err(format!("expected a {kind} rejection, got {kinds:?}"))
            }
        }
        (Err(kind), Some(link)) => Err(format!(
            "expected rejection {kind}, but got {} {}",
            link.platform, link.url
        )),
    }
}

#[test]
fn table() {
    let cases = all_cases();
    let negatives = cases.iter().filter(|c| c.expect.is_err()).count();
    assert!(
        cases.len() >= 200,
        "the issue asks for at least 200 cases, have {}",
        cases.len()
    );
    assert!(
        negatives >= 50,
        "the issue asks for at least 50 negatives, have {negatives}"
    );
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            check(c).err().map(|e| {
                format!(
                    "- {} [{:?}]: {e}\n  input: {}",
                    c.name,
                    c.field,
                    c.input.chars().take(300).collect::<String>()
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_platform_and_field_and_wrapper_is_covered() {
    let cases = all_cases();
    let mut platforms: Vec<&str> = cases
        .iter()
        .filter_map(|c| c.expect.as_ref().ok())
        .map(|(p, _)| p.as_str())
        .collect();
    platforms.sort_unstable();
    platforms.dedup();
    for p in detect::platforms::PLATFORMS {
        assert!(
            platforms.contains(&p.id),
            "platform {} has no positive case, so its row is untested",
            p.id
        );
    }
    for f in [
        Field::Conference,
        Field::Url,
        Field::Location,
        Field::Description,
        Field::Html,
    ] {
        assert!(
            cases.iter().any(|c| c.field == f && c.expect.is_ok()),
            "field {f:?} has no positive case"
        );
    }
    for w in ["safelinks.protection.outlook.com", "www.google.com/url"] {
        assert!(
            cases
                .iter()
                .any(|c| c.input.contains(w) && c.expect.is_ok()),
            "wrapper {w} has no positive case"
        );
    }
    let kinds = [
        "lookalike_host",
        "userinfo",
        "idn_homograph",
        "bad_scheme",
        "not_a_meeting_page",
        "unknown_host",
        "unexpected_port",
        "empty_wrapper",
        "too_many_wrappers",
        "none",
    ];
    for k in kinds {
        assert!(
            cases
                .iter()
                .any(|c| c.expect.as_ref().err().is_some_and(|e| e == k)),
            "rejection class {k} has no negative case"
        );
    }
}

#[test]
fn links_keep_query_and_fragment_and_are_never_reencoded() {
    for (_, url) in POSITIVES {
        let (got, _) = run(
            Field::Html,
            &format!("<a href=\"{}\">x</a>", html_attr(&safelinks(url))),
        );
        assert_eq!(
            got.map(|l| l.url),
            Some(url.to_string()),
            "unwrapping must return the target byte for byte"
        );
    }
}

#[test]
fn extraction_zoom() {
    let (link, _) = run(Field::Description, ZOOM_COPY_INVITATION);
    let link = link.expect("the Zoom invitation has a link");
    assert_eq!(
        link.meeting_id.as_deref(),
        Some("84512345678"),
        "Zoom's id comes from /j/{{id}}"
    );
    assert_eq!(
        link.passcode.as_deref(),
        Some("736291"),
        "the passcode is labelled Passcode:"
    );
    assert_eq!(
        link.dial_in,
        vec![
            "+16465588656,,84512345678#,,,,*736291#",
            "+13017158592,,84512345678#,,,,*736291#",
            "+1 646 558 8656",
            "+1 301 715 8592"
        ],
        "every dial-in number, one-tap first, as written"
    );
    assert_eq!(
        link.native_url.as_deref(),
        Some("zoommtg://acme.zoom.us/join?action=join&confno=84512345678&pwd=bXlSeWJ5aWRsTk5VZz09"),
        "the native link carries the id and pwd"
    );
}

#[test]
fn extraction_teams_text_and_html() {
    for (field, input) in [
        (Field::Description, TEAMS_TEXT.to_string()),
        (Field::Html, teams_html()),
    ] {
        let (link, _) = run(field, &input);
        let link = link.expect("the Teams block has a link");
        assert_eq!(
            link.meeting_id.as_deref(),
            Some("240 156 813 941"),
            "Teams writes Meeting ID: in the block ({field:?})"
        );
        assert_eq!(
            link.passcode.as_deref(),
            Some("9kQ3Zx"),
            "Teams writes Passcode: in the block ({field:?})"
        );
        assert_eq!(
            link.dial_in,
            vec!["+1 323-849-4874,,851234567#"],
            "the audio dial-in ({field:?})"
        );
        assert!(
            link.native_url
                .as_deref()
                .is_some_and(|n| n.starts_with("msteams:/l/meetup-join/")),
            "Teams native link ({field:?})"
        );
    }
    let (link, _) = run(
        Field::Location,
        "https://teams.live.com/meet/9412345678901?p=AbCdEfGh",
    );
    let link = link.expect("teams.live.com link");
    assert_eq!(
        link.meeting_id.as_deref(),
        Some("9412345678901"),
        "the /meet/{{id}} form carries the id"
    );
    assert_eq!(
        link.passcode.as_deref(),
        Some("AbCdEfGh"),
        "the /meet/ form carries the passcode in p="
    );
}

#[test]
fn extraction_webex() {
    let (link, _) = run(Field::Description, WEBEX_TEXT);
    let link = link.expect("the Webex invitation has a link");
    assert_eq!(
        link.meeting_id.as_deref(),
        Some("2634 123 4567"),
        "Webex labels it Meeting number (access code):"
    );
    assert_eq!(
        link.passcode.as_deref(),
        Some("XyZ7pq3Ab"),
        "Webex labels it Meeting password:"
    );
    assert_eq!(
        link.dial_in,
        vec![
            "+1-415-655-0001,,26341234567##",
            "+1-855-244-8681,,26341234567##",
            "+1-415-655-0001"
        ],
        "Webex tap-to-join and toll numbers"
    );
    assert!(
        link.native_url
            .as_deref()
            .is_some_and(|n| n.starts_with("webex://acme.webex.com/")),
        "Webex native link"
    );
}

#[test]
fn accept_url_rejects_what_detect_rejects() {
    for (kind, input) in NEGATIVES {
        let input = expand_negative(input);
        if input.contains('<') || *kind == "none" || input.contains(' ') {
            continue;
        }
        assert!(
            detect::accept_url(&input).is_err(),
            "accept_url must not accept {input} ({kind})"
        );
    }
    for (platform, url) in POSITIVES {
        let got = detect::accept_url(url).map(|l| l.platform);
        assert_eq!(
            got.as_deref(),
            Ok(*platform),
            "accept_url must accept {url}"
        );
    }
}

#[test]
fn hostile_html_costs_linear_time() {
    let inputs = [
        "<a href=x>".repeat(100_000),
        "<a href='".repeat(100_000),
        format!("https://zoom.us/j/1{}", ")".repeat(200_000)),
        "):".repeat(300_000),
        "&amp;https://".repeat(60_000),
    ];
    for input in &inputs {
        let started = std::time::Instant::now();
        let _ = explain(&Invite {
            html: Some(input),
            description: Some(input),
            location: Some(input),
            ..Default::default()
        });
        let took = started.elapsed();
        assert!(
            took < std::time::Duration::from_secs(5),
            "a {} byte hostile body took {took:?}; quadratic scanning would let one invite stall every sync",
            input.len()
        );
    }
}
