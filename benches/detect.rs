//! Link detection throughput over a generated corpus of realistic invites, beside a baseline.
//!
//! - Corpus: 10,000 invite bodies, 1–20 KB each, half HTML (Outlook/Graph bodies, Google descriptions) and half
//!   plain text, generated deterministically here from a fixed seed (no files). Each holds agenda prose, ordinary
//!   links (documents, trackers, images, mailto), and usually one meeting block in a real format (Zoom copy
//!   invitation, Teams HTML and text blocks, Webex, GoTo, Google Meet, others), sometimes behind SafeLinks.
//! - Ours: `detect::detect` with the body as the HTML field or the description.
//! - Baseline: MeetingBar's method — one case-insensitive regex per service (here one per row of our table, so
//!   both sides cover the same services), each run over the whole text, one after another. A second baseline
//!   figure stops at the first pattern that matches, as MeetingBar's loop does.
//!
//! Run: `cargo bench --bench detect`. Besides criterion's figures, it prints one line with both MB/s and the ratio.

use criterion::{Criterion, Throughput};
use punctual::detect::{self, Invite};
use regex::Regex;
use std::hint::black_box;
use std::time::Instant;

const INVITES: usize = 10_000;

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
    fn letters(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'a' + self.below(26) as u8))
            .collect()
    }
}

const WORDS: &[&str] = &[
    "agenda",
    "quarterly",
    "review",
    "the",
    "and",
    "roadmap",
    "please",
    "join",
    "us",
    "for",
    "discussion",
    "of",
    "budget",
    "hiring",
    "plan",
    "customer",
    "feedback",
    "launch",
    "timeline",
    "notes",
    "will",
    "be",
    "shared",
    "after",
    "meeting",
    "bring",
    "your",
    "questions",
    "design",
    "sync",
    "status",
    "update",
    "blockers",
    "action",
    "items",
    "owner",
    "team",
];

const OTHER_LINKS: &[&str] = &[
    "https://docs.google.com/document/d/1AbCdEfGhIjKlMnOpQrStUvWxYz/edit?usp=sharing",
    "https://acme.sharepoint.com/sites/eng/Shared%20Documents/Q3%20Plan.docx?web=1",
    "https://www.acme.example/careers?utm_source=calendar&utm_medium=email",
    "https://github.com/acme/roadmap/issues/123",
    "https://aka.ms/JoinTeamsMeeting?omkt=en-US",
    "https://www.microsoft.com/microsoft-teams/join-a-meeting",
    "https://support.zoom.us/hc/en-us/articles/201362193",
    "https://zoom.us/download",
    "https://support.google.com/a/users/answer/9282720",
    "https://acme.atlassian.net/wiki/spaces/ENG/pages/123456/Planning",
    "https://www.linkedin.com/company/acme",
];

fn prose(r: &mut Rng, words: usize) -> String {
    let mut s = String::new();
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(r.pick(WORDS));
        if r.below(14) == 0 {
            s.push('.');
        }
    }
    s
}

fn meeting_block(r: &mut Rng, html: bool) -> (String, bool) {
    let id = r.digits(11);
    let pwd = r.letters(20);
    let pass = r.digits(6);
    let spaced = format!("{} {} {}", &id[..3], &id[3..7], &id[7..]);
    let code = format!("{}-{}-{}", r.letters(3), r.letters(4), r.letters(3));
    let teams = format!(
        "https://teams.microsoft.com/l/meetup-join/19%3ameeting_{}%40thread.v2/0?context=%7b%22Tid%22%3a%22{}%22%2c%22Oid%22%3a%22{}%22%7d",
        r.letters(48),
        r.letters(36),
        r.letters(36)
    );
    let zoom = format!("https://acme.zoom.us/j/{id}?pwd={pwd}");
    let kind = r.below(10);
    let (link, text_block) = match kind {
        0 | 1 => (
            zoom.clone(),
            format!(
                "Jane Doe is inviting you to a scheduled Zoom meeting.\n\nJoin Zoom Meeting\n{zoom}\n\nMeeting ID: {spaced}\nPasscode: {pass}\n\n---\n\nOne tap mobile\n+16465588656,,{id}#,,,,*{pass}# US (New York)\n+13017158592,,{id}#,,,,*{pass}# US (Washington DC)\n\nDial by your location\n• +1 646 558 8656 US (New York)\n• +1 301 715 8592 US (Washington DC)\n• +1 312 626 6799 US (Chicago)\n\nMeeting ID: {spaced}\nPasscode: {pass}\nFind your local number: https://acme.zoom.us/u/abcDEF\n"
            ),
        ),
        2 | 3 => (
            teams.clone(),
            format!(
                "________________________________________________________________________________\nMicrosoft Teams meeting\nJoin on your computer, mobile app or room device\nClick here to join the meeting<{teams}>\nMeeting ID: 240 156 813 941\nPasscode: 9kQ3Zx\nDownload Teams<https://www.microsoft.com/en-us/microsoft-teams/download-app> | Join on the web<https://www.microsoft.com/microsoft-teams/join-a-meeting>\nOr call in (audio only)\n+1 323-849-4874,,851234567#   United States, Los Angeles\nPhone Conference ID: 851 234 567#\nFind a local number<https://dialin.teams.microsoft.com/a1b2?id=851234567> | Reset PIN<https://dialin.teams.microsoft.com/usp/pstnconferencing>\nLearn More<https://aka.ms/JoinTeamsMeeting> | Meeting options<https://teams.microsoft.com/meetingOptions/?organizerId=x&tenantId=y>\n________________________________________________________________________________\n"
            ),
        ),
        4 => {
            let w = format!("https://acme.webex.com/acme/j.php?MTID=m{}", r.letters(32));
            (w.clone(), format!("Join meeting\n{w}\nMeeting number (access code): 2634 123 4567\nMeeting password: Xy7{pass}\nJoin by phone\n+1-415-655-0001 US Toll\nAccess code: 2634 123 4567\n"))
        }
        5 => {
            let g = format!("https://meet.goto.com/{}", r.digits(9));
            (g.clone(), format!("Please join my meeting from your computer, tablet or smartphone.\n{g}\n\nYou can also dial in using your phone.\nUnited States: +1 (224) 501-3412\n\nAccess Code: 123-456-789\n\nNew to GoTo Meeting? Get the app now and be ready when your first meeting starts: https://meet.goto.com/install\n"))
        }
        6 => {
            let m = format!("https://meet.google.com/{code}");
            (m.clone(), format!("Join with Google Meet\n{m}\n\nJoin by phone\n(US) +1 650-555-0143 PIN: 123456789#\n\nMore phone numbers: https://tel.meet/{code}?pin=4512345678901\n\nLearn more about Meet at: https://support.google.com/a/users/answer/9282720\n"))
        }
        7 => {
            let others = [
                format!("https://whereby.com/{}", r.letters(8)),
                format!("https://meet.jit.si/{}", r.letters(12)),
                format!("https://acme.bluejeans.com/{}", r.digits(9)),
                format!("https://app.chime.aws/meetings/{}", r.digits(10)),
                format!("https://app.slack.com/huddle/T{}/C{}", r.digits(8), r.digits(8)),
                format!("https://discord.gg/{}", r.letters(7)),
            ];
            let l = others[r.below(others.len())].clone();
            (l.clone(), format!("Video call: {l}\n"))
        }
        _ => (String::new(), String::new()),
    };
    let found = !link.is_empty();
    if !html {
        return (text_block, found);
    }
    if link.is_empty() {
        return (String::new(), false);
    }
    let href = if r.below(3) == 0 {
        let enc: String = link
            .chars()
            .map(|c| match c {
                ':' => "%3A".to_string(),
                '/' => "%2F".to_string(),
                '?' => "%3F".to_string(),
                '=' => "%3D".to_string(),
                '&' => "%26".to_string(),
                '%' => "%25".to_string(),
                c => c.to_string(),
            })
            .collect();
        format!("https://nam12.safelinks.protection.outlook.com/?url={enc}&amp;data=05%7C02%7C%7Cabc%7C0&amp;sdata=ZmFrZQ%3D%3D&amp;reserved=0")
    } else {
        link.replace('&', "&amp;")
    };
    let body = text_block
        .lines()
        .map(|l| format!("<div style=\"margin-bottom:4px;font-family:'Segoe UI',Helvetica,Arial,sans-serif;color:#252424\"><span style=\"font-size:14px\">{}</span></div>", l.replace('<', "&lt;").replace('>', "&gt;")))
        .collect::<String>();
    (
        format!("<div class=\"me-email-text\"><a class=\"me-email-headline\" href=\"{href}\" target=\"_blank\" rel=\"noreferrer noopener\" style=\"font-size:14px;font-family:'Segoe UI Semibold';text-decoration:underline;color:#5B5FC7\">Click here to join the meeting</a>{body}</div>"),
        true,
    )
}

fn invite(r: &mut Rng) -> (String, bool) {
    let html = r.below(2) == 0;
    let target = 1024 + r.below(18 * 1024);
    let (block, _) = meeting_block(r, html);
    let mut s = String::with_capacity(target + block.len() + 512);
    if html {
        s.push_str("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"><style>p{margin:0}</style></head><body>");
    }
    let block_at = r.below(3);
    let mut i = 0;
    while s.len() < target {
        if i == block_at {
            s.push_str(&block);
        }
        let words = 20 + r.below(60);
        let p = prose(r, words);
        if html {
            s.push_str("<p style=\"font-family:Calibri,sans-serif;font-size:11pt\">");
            s.push_str(&p);
            if r.below(3) == 0 {
                let l = r.pick(OTHER_LINKS).replace('&', "&amp;");
                s.push_str(&format!(" <a href=\"{l}\">{}</a>", r.pick(WORDS)));
            }
            if r.below(8) == 0 {
                s.push_str("<img src=\"https://statics.teams.cdn.office.net/evergreen-assets/icons/logo.png\" width=\"24\">");
            }
            s.push_str("</p>\n");
        } else {
            s.push_str(&p);
            if r.below(3) == 0 {
                s.push(' ');
                s.push_str(r.pick(OTHER_LINKS));
            }
            s.push_str("\n\n");
        }
        i += 1;
    }
    if i <= block_at {
        s.push_str(&block);
    }
    if html {
        s.push_str("</body></html>");
    }
    (s, html)
}

/// MeetingBar's method: one case-insensitive regex per platform, in MeetingBar's style
/// (`https?://(sub.)?host/path…`), here one for every row of our table so both sides cover the same services.
fn baseline_patterns() -> Vec<Regex> {
    use punctual::detect::platforms::{PathRule, PLATFORMS};
    PLATFORMS
        .iter()
        .filter_map(|p| {
            let hosts: Vec<String> = p.hosts.iter().map(|h| regex::escape(h)).collect();
            let paths: Vec<String> = match p.paths {
                PathRule::Patterns(pats) => pats
                    .iter()
                    .map(|pat| {
                        let lit = pat.split(['*', '?']).next().unwrap_or("/");
                        regex::escape(lit)
                    })
                    .collect(),
                PathRule::Custom(..) => vec!["/".to_string()],
            };
            let re = format!(
                r#"(?i)https?://(?:[a-z0-9-]+\.)*(?:{})(?:{})[^\s<>"']*"#,
                hosts.join("|"),
                paths.join("|")
            );
            Regex::new(&re).ok()
        })
        .collect()
}

/// Every platform's regex over the whole text, one after another; the first platform (in table order) that
/// matched wins.
fn baseline(patterns: &[Regex], text: &str) -> Option<usize> {
    let mut first = None;
    for (i, re) in patterns.iter().enumerate() {
        if re.find(text).is_some() && first.is_none() {
            first = Some(i);
        }
    }
    first
}

/// The same, stopping at the first pattern that matches (MeetingBar's loop returns on the first match).
fn baseline_first_match(patterns: &[Regex], text: &str) -> Option<usize> {
    patterns.iter().position(|re| re.find(text).is_some())
}

fn ours(body: &str, html: bool) -> Option<punctual::model::MeetingLink> {
    let invite = if html {
        Invite {
            html: Some(body),
            ..Default::default()
        }
    } else {
        Invite {
            description: Some(body),
            ..Default::default()
        }
    };
    detect::detect(&invite)
}

fn main() {
    let mut r = Rng(0x5EED_CAFE_F00D_D00D);
    let corpus: Vec<(String, bool)> = (0..INVITES).map(|_| invite(&mut r)).collect();
    let bytes: usize = corpus.iter().map(|(s, _)| s.len()).sum();
    let found = corpus.iter().filter(|(s, h)| ours(s, *h).is_some()).count();
    if std::env::var_os("DETECT_PROFILE_OURS").is_some() {
        // For `perf record`: only our detector, a few passes.
        let n: usize = (0..5)
            .map(|_| corpus.iter().filter(|(s, h)| ours(s, *h).is_some()).count())
            .sum();
        println!("profile passes found {n}");
        return;
    }
    let patterns = baseline_patterns();
    assert_eq!(
        patterns.len(),
        punctual::detect::platforms::PLATFORMS.len(),
        "every baseline pattern must compile"
    );
    let html = corpus.iter().filter(|(_, h)| *h).count();
    let (min, max) = corpus.iter().fold((usize::MAX, 0), |(a, b), (s, _)| {
        (a.min(s.len()), b.max(s.len()))
    });
    println!(
        "corpus: {INVITES} invites ({html} HTML), {:.1} MB, {min}..{max} bytes each; ours finds a link in {found}",
        bytes as f64 / 1e6
    );

    let mut c = Criterion::default().sample_size(10).configure_from_args();
    let mut g = c.benchmark_group("detect_corpus");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("ours", |b| {
        b.iter(|| {
            corpus
                .iter()
                .filter(|(s, h)| ours(black_box(s), *h).is_some())
                .count()
        })
    });
    g.bench_function("baseline_meetingbar_regex", |b| {
        b.iter(|| {
            corpus
                .iter()
                .filter(|(s, _)| baseline(&patterns, black_box(s)).is_some())
                .count()
        })
    });
    g.bench_function("baseline_first_match_only", |b| {
        b.iter(|| {
            corpus
                .iter()
                .filter(|(s, _)| baseline_first_match(&patterns, black_box(s)).is_some())
                .count()
        })
    });
    g.finish();
    c.final_summary();

    // One explicit line with both figures and the ratio, measured the same way in this run.
    let time = |f: &dyn Fn() -> usize| {
        let mut best = f64::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            black_box(f());
            best = best.min(t.elapsed().as_secs_f64());
        }
        best
    };
    let t_ours = time(&|| corpus.iter().filter(|(s, h)| ours(s, *h).is_some()).count());
    let t_base = time(&|| {
        corpus
            .iter()
            .filter(|(s, _)| baseline(&patterns, s).is_some())
            .count()
    });
    let t_first = time(&|| {
        corpus
            .iter()
            .filter(|(s, _)| baseline_first_match(&patterns, s).is_some())
            .count()
    });
    let mbs = |t: f64| bytes as f64 / 1e6 / t;
    println!(
        "summary: ours {:.0} MB/s; baseline (MeetingBar method, every platform regex) {:.0} MB/s, ratio {:.1}x; \
         baseline stopping at the first match {:.0} MB/s, ratio {:.1}x; {INVITES} invites, {:.1} MB",
        mbs(t_ours),
        mbs(t_base),
        t_base / t_ours,
        mbs(t_first),
        t_first / t_ours,
        bytes as f64 / 1e6
    );
}
