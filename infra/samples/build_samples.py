"""Writes ``posts.jsonl`` and ``labels.jsonl``: the demo organization's accounts on all seven platforms.

The texts are written for the demo (not taken from the development corpus). Each platform's ids,
author ids and links follow that platform's real shapes, exactly as its connector normalizes them,
so ``sandbox(posts) -> connector`` gives back the same records. Run: ``python -m infra.samples.build_samples``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

HERE = Path(__file__).parent
START = datetime(2026, 11, 12, 8, 0, tzinfo=UTC)

# Who is who on each platform: key -> (native user id, handle, display name).
ORG = {
    "x": ("1490000000000000001", "lakeshorecme", "Lakeshore CME"),
    "facebook": ("104800000000001", "LakeshoreCME", "Lakeshore CME"),
    "instagram": ("17841400000000001", "lakeshorecme", "lakeshorecme"),
    "linkedin": ("urn:li:organization:90000001", "lakeshore-cme", "lakeshore-cme"),
    "youtube": ("UCl4keshoreCMEchannel0001", "LakeshoreCME", "LakeshoreCME"),
    "mastodon": ("109000000000000001", "lakeshorecme", "Lakeshore CME"),
    "bluesky": ("did:plc:lakeshorecmeaaaaaaaaaaaa", "lakeshorecme.bsky.social", "Lakeshore CME"),
}
ACCOUNT = {
    "x": "LakeshoreCME",
    "facebook": "LakeshoreCME",
    "instagram": "lakeshorecme",
    "linkedin": "lakeshore-cme",
    "youtube": "LakeshoreCME",
    "mastodon": "lakeshorecme",
    "bluesky": "lakeshorecme.bsky.social",
}
PEOPLE = {
    # key: (display name, handle stem, is staff)
    "maya": ("Dr. Maya Chen", "drmayachen", True),
    "priya": ("Priya Natarajan", "pnatarajan_md", False),
    "tom": ("Tom Okafor", "tomokafor", False),
    "lena": ("Lena Fischer RN", "lenafischer_rn", False),
    "marcus": ("Marcus Hale", "marcushale", False),
    "sofia": ("Dr. Sofia Reyes", "sreyes_peds", False),
    "ken": ("Ken Whitfield", "kwhitfield", False),
    "ava": ("Ava Lindqvist", "ava_lindq", False),
    "raj": ("Raj Mehta DO", "rajmehta_do", False),
    "bill": ("Bill Carver", "patriot_bill", False),
    "nora": ("Nora Quinn", "noraquinn", False),
    "derek": ("Derek Simms", "dsimms_pharma", False),
    "profit": ("Profit Pathways", "profit_pathways", False),
    "glow": ("Glow Skin Deals", "glowskin_deals", False),
    "subs": ("freesubs 4u", "freesubs_4u", False),
    "viewer": ("angry viewer 88", "angry_viewer88", False),
}
MASTODON_HOME = {"maya": "", "lena": "nurses.social", "ken": "mastodon.example", "bill": "freedom.example"}
MASTODON_INSTANCE = "med-mastodon.example"

# Threads per platform: (post text, post labels, [(author, text, labels, [(author, text, labels)])]).
# Author "org" is the organization's own account.
Thread = tuple[str, list[str], list[tuple[str, str, list[str], list[tuple[str, str, list[str]]]]]]
THREADS: dict[str, list[Thread]] = {
    "x": [
        (
            "Our new accredited course on managing sepsis in the first hour is live: 2.0 AMA PRA Category 1 "
            "Credits. Faculty disclosures are listed on the activity page.",
            [],
            [
                ("priya", "Took it last night. The lactate and fluid-resuscitation cases were excellent, thank you.",
                 [], [("maya", "Thanks Priya, glad the cases helped. The antibiotic-timing module comes next.", [])]),
                ("marcus", "Whoever wrote module 3 is a clueless hack who should be embarrassed to call himself "
                 "a doctor.", ["harassment"],
                 [("tom", "Disagree with the content all you want, but that is a personal attack. Keep it civil.",
                   [])]),
                ("profit", "I turned $500 into $12,000 in two weeks with this crypto signal group!!! Ask me how, "
                 "spots close tonight", ["spam"], []),
            ],
        ),
        (
            "Reminder: tomorrow's live webinar covers killer T cells and checkpoint inhibitors in melanoma. "
            "Bring your toughest questions.",
            [],
            [
                ("lena", "Will the recording be available for night-shift nurses?", [],
                 [("org", "Yes, the recording goes up within 48 hours and is eligible for credit.", [])]),
                ("bill", "Nobody cares about your webinar. Vote the whole corrupt party out in November or this "
                 "country is finished, WAKE UP PEOPLE!!!", ["political-rant"], []),
                ("ken", "Your faculty chair Dr. Alvarez has been taking kickbacks from a device maker for years. "
                 "Everyone knows it.", ["defamation"], []),
            ],
        ),
        (
            "Thank you to the 1,200 clinicians who joined our stroke update this month. Slides and references "
            "are in the learner portal.",
            [],
            [("raj", "The thrombectomy-window section was the clearest explanation I've seen.", [], [])],
        ),
    ],
    "facebook": [
        (
            "Photos from Saturday's hands-on ultrasound workshop are up. Thank you to our faculty and the 60 "
            "learners who spent their weekend practicing FAST exams.",
            [],
            [
                ("sofia", "Best workshop I've attended this year. The breast and testicular ultrasound station "
                 "was excellent.", [], []),
                ("marcus", "Any chance of an evening session for those of us working weekends?", [],
                 [("org", "We're planning two weekday evening sessions in January; dates soon.", [])]),
            ],
        ),
        (
            "Registration is open for our Spring Pediatric Emergency Update. Topics include sexual health "
            "counseling for adolescents, substance abuse screening and overdose response.",
            [],
            [
                ("ava", "Is there a group rate for our residency program?", [],
                 [("org", "Yes, programs with five or more residents qualify for a group rate. Details are on "
                   "the registration page.", [])]),
                ("nora", "This damn registration form crashed three times. Absolute shit website.", ["profanity"],
                 [("raj", "Same for me on mobile; it worked fine on a desktop browser.", [])]),
                ("ken", "I'll be waiting outside the convention center for the speaker who failed my board "
                 "review. He'll regret it.", ["threat"], []),
            ],
        ),
        (
            "Join us Thursday for \"Shots that matter: updating adult immunization schedules\". 1.0 credit, "
            "free for members.",
            [],
            [
                ("bill", "Vaccines cause autism and the CDC is hiding the data. Copy and share this before they "
                 "delete it, send it to 10 friends!", ["spam"], []),
                ("lena", "Looking forward to it. Will you cover the new RSV recommendations for older adults?", [],
                 [("org", "Yes, RSV vaccination for adults 60 and over has its own segment.", [])]),
                ("derek", "Pasting the whole paywalled journal article here so nobody has to pay, no copyright "
                 "intended. Full text below: Adult Immunization in 2026, by ...", ["copyright"], []),
            ],
        ),
    ],
    "instagram": [
        (
            "Meet our new director of accreditation, Dr. Maya Chen, who joins us from a decade of hospital "
            "quality work.",
            [],
            [
                ("ava", "Welcome, Dr. Chen! Looking forward to the new programs.", [], []),
                ("ken", "Dr. Chen was fired from her last job for faking quality data. Look it up.", ["defamation"],
                 [("maya", "Thank you all for the warm welcome.", [])]),
            ],
        ),
        (
            "Behind the scenes at our simulation lab: residents practicing airway management on the new "
            "manikins. #MedEd #CME",
            [],
            [
                ("tom", "Great training setup! Which video laryngoscope is that?", [],
                 [("org", "It's the model our simulation center uses in all airway courses; it's listed in the "
                   "course syllabus.", [])]),
                ("glow", "Want clearer skin in 7 days? 40% off our serum with code GLOW40, DM us to order",
                 ["commercial-solicitation"], []),
                ("lena", "Is that Dr. Patel in the photo? Her home address is 14 Birch Lane and her cell is "
                 "555-0148, she'd love visitors lol", ["confidential-information"], []),
            ],
        ),
        (
            "Highlights from our breast cancer screening symposium: 400 attendees, 3 credits, and a lively "
            "debate on dense-breast notification.",
            [],
            [
                ("priya", "Fantastic debate. Respectfully, I think the panel underplayed the false-positive burden "
                 "of supplemental MRI.", [],
                 [("marcus", "Agreed. The evidence on interval cancers is still thin.", [])]),
                ("nora", "People like you from that country should go back where you came from, you don't belong "
                 "in our hospitals.", ["hate"],
                 [("raj", "Reported. That has no place here.", [])]),
            ],
        ),
    ],
    "linkedin": [
        (
            "Our outcomes report is out: 9,800 learners, 240 accredited activities, and measurable practice "
            "change in antimicrobial stewardship.",
            [],
            [
                ("raj", "Impressive numbers. Would love to see the methodology behind the practice-change data.",
                 [], [("org", "The methods appendix is on page 14 of the report.", [])]),
                ("marcus", "Honestly, self-reported practice change is weak evidence. Chart audits would be far "
                 "more convincing.", [], []),
            ],
        ),
        (
            "We're proud to share that Lakeshore CME has been reaccredited with Commendation. Thank you to our "
            "faculty, planners and learners.",
            [],
            [
                ("sofia", "Congratulations, well deserved. Your pediatric pain management series changed how our "
                 "unit handles post-op care.", [],
                 [("org", "Thank you, Sofia. The series returns in March with a new module on opioid tapering.",
                   [])]),
                ("derek", "Congrats! Btw I'm hiring remote sales reps for my supplement line, $5k/month, no "
                 "experience needed, message me.", ["commercial-solicitation"], []),
                ("ken", "Posting screenshots of the review committee's private Slack thread here without asking "
                 "anyone: they almost turned you down, read what they said.", ["private-conversation"], []),
            ],
        ),
        (
            "We are looking for clinician educators in addiction medicine to help build our 2027 curriculum.",
            [],
            [
                ("marcus", "Interested. I run a buprenorphine clinic and teach at the medical school.", [], []),
                ("priya", "For anyone curious, here are the internal planning committee minutes and the draft "
                 "budget sheet. Shared drive password is Lakeshore2027!", ["confidential-information"],
                 [("org", "Please take this down: those documents are internal. We have contacted you directly.",
                   [])]),
            ],
        ),
    ],
    "youtube": [
        (
            "Sexual health in primary care: taking a history without judgment\n\nPart 3 of our adolescent "
            "medicine series.",
            [],
            [
                ("lena", "Excellent. The scripted phrasing for asking about partners is something I'll use "
                 "tomorrow.", [], []),
                ("marcus", "Good talk, but the STI screening intervals slide is out of date.", [],
                 [("org", "Thanks for flagging this; we'll post a correction in the description.", [])]),
            ],
        ),
        (
            "Opioid overdose: recognition and naloxone dosing\n\nA 20-minute refresher for emergency and primary "
            "care clinicians. Credit is available through our learning portal.",
            [],
            [
                ("raj", "Clear and practical. The section on fentanyl analog half-lives was especially helpful.",
                 [], [("org", "Thanks! A follow-up on xylazine wound care is in production.", [])]),
                ("subs", "SUB 4 SUB!!! free phone giveaway, click the link on my channel now now now", ["spam"],
                 []),
                ("viewer", "What a fucking waste of twenty minutes.", ["profanity"], []),
            ],
        ),
        (
            "Grand Rounds: heart failure with preserved ejection fraction\n\nRecorded at our November grand "
            "rounds. Speaker disclosures appear at the start of the video.",
            [],
            [
                ("priya", "Disclosure: I consult for a company that makes SGLT2 inhibitors. Even so, I think the "
                 "speaker's summary of the trial data was balanced.", [], []),
                ("derek", "Anyone treating HFpEF should be on CardioNova, nothing else comes close. Trust me, I've "
                 "seen the numbers (and no, I won't say who pays my speaking fees).", ["financial-disclosure"],
                 [("tom", "Do you have a financial relationship with the manufacturer? That should be disclosed.",
                   [])]),
                ("bill", "I uploaded the full slide deck from the paid conference to my drive, download it free "
                 "before they take it down.", ["copyright"], []),
            ],
        ),
    ],
    "mastodon": [
        (
            "Tonight's journal club: aspirin for primary prevention in older adults. Bring your critiques.",
            [],
            [
                ("priya", "The bleeding risk data in this trial should make everyone rethink routine use.", [],
                 [("tom", "Agreed, though the population skews healthier than our clinic patients.", [])]),
                ("sofia", "Will slides be shared afterwards?", [], []),
            ],
        ),
        (
            "New podcast episode: two rural family physicians on telehealth for substance use disorder.\n\n"
            "Listen and claim 0.5 credits.",
            [],
            [
                ("lena", "Loved this. Rural access is the whole story for our patients.", [],
                 [("maya", "Thank you! Episode 2 covers hepatitis C treatment in primary care.", [])]),
                ("ken", "Forwarding the email the program director sent me privately about budget cuts, since "
                 "everyone deserves to see it: \"Between us, we are dropping the rural track next year.\"",
                 ["private-conversation"], []),
                ("bill", "Enough podcasts. The other party is destroying healthcare. Vote them ALL out, every "
                 "single one, they are ruining this country!!!", ["political-rant"], []),
                ("raj", "A measured take: the telehealth payment parity rules expiring next year will hurt rural "
                 "clinics more than anything discussed here.", [], []),
            ],
        ),
        (
            "We're hiring a part-time instructional designer for our online CME catalog. Details on our "
            "careers page.",
            [],
            [
                ("marcus", "Whoever approved that last course deserves a beating, and if I see him at the "
                 "conference he'll get one.", ["threat"],
                 [("org", "This comment breaks our community guidelines and has been reported.", [])]),
            ],
        ),
    ],
    "bluesky": [
        (
            "Heat illness season may be over, but our on-demand course on exertional heat stroke is open all "
            "year.",
            [],
            [
                ("marcus", "Cold-water immersion first, transport second. Great that you emphasize it.", [], []),
                ("bill", "Forward this to 10 colleagues or you'll have bad luck all winter! It really works!!",
                 ["spam"], []),
            ],
        ),
        (
            "Our annual learner survey is open. Tell us which topics you want in 2027, from breast cancer "
            "survivorship to heat illness.",
            [],
            [
                ("sofia", "More on pediatric mental health crisis response, please.", [],
                 [("org", "Noted, Sofia. That one is already on our shortlist.", [])]),
                ("tom", "Sign our petition to make CME fees tax-deductible for nurses! Share it with everyone you "
                 "know, we need 100,000 signatures.", ["spam"], []),
                ("nora", "Add a session on dealing with old people who can't use a computer. Useless, all of "
                 "them, they should just retire.", ["hate"], []),
            ],
        ),
        (
            "Case of the week: a 54-year-old with chest pain and a normal ECG. What's your next step? Answers "
            "and discussion on Friday.",
            [],
            [
                ("raj", "High-sensitivity troponin at 0 and 1 hour, then a risk score. Killer case though.", [],
                 [("priya", "Agreed, and I'd add a HEART score before deciding on discharge.", [])]),
                ("derek", "Great case! Buy cheap meds at my online pharmacy, no prescription needed, code CME20 "
                 "for 20% off.", ["commercial-solicitation"], []),
                ("ken", "The patient in this case is obviously Mr. Garza from St. Anne's, bed 12, I recognize "
                 "the story.", ["confidential-information"], []),
            ],
        ),
    ],
}


# X mentions of the account that are not replies to its posts: (author, text, labels, hours after START).
MENTIONS: list[tuple[str, str, list[str], int]] = [
    ("derek", "@lakeshorecme please add Zentravex to the lipid module, best statin on the market and my patients "
     "love it. Just don't ask about my 'consulting' income from the maker", ["financial-disclosure"], 30),
    ("ava", "Shout-out to @lakeshorecme for the free opioid stewardship course. Our whole unit took it.", [], 80),
]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _snowflake(moment: datetime, seq: int) -> str:
    """An X/Mastodon-style id that grows with time, like the real ones."""
    return str(((int(moment.timestamp() * 1000) - 1288834974657) << 22) + seq)


_TID = "234567abcdefghijklmnopqrstuvwxyz"


def _tid(moment: datetime, seq: int) -> str:
    """A Bluesky record key (TID): base32-sortable microseconds since the epoch."""
    value = (int(moment.timestamp() * 1_000_000) << 10) | (seq & 0x3FF)
    out = ""
    for _ in range(13):
        out = _TID[value & 31] + out
        value >>= 5
    return out


def author_for(platform: str, who: str) -> dict[str, Any]:
    """The normalized author of ``who`` on ``platform``, as its connector builds it."""
    if who == "org":
        native, handle, name = ORG[platform]
        return {"id": f"{platform}:user:{native}", "handle": handle, "name": name, "is_org": True}
    name, stem, staff = PEOPLE[who]
    number = 1000 + list(PEOPLE).index(who)
    if platform == "x":
        return _person(platform, f"20000000{number}", stem, name, staff)
    if platform == "facebook":
        native = f"1000{number}0000{number}"
        return _person(platform, native, native, name, staff)
    if platform == "instagram":
        return _person(platform, f"1784150000{number}", stem, stem, staff)
    if platform == "linkedin":
        urn = f"urn:li:person:{stem.replace('_', '').title()}{number}"
        return _person(platform, urn, stem.replace("_", "-"), name, staff)
    if platform == "youtube":
        return _person(platform, f"UC{stem.replace('_', '')[:10]:x<10}{number}chan0000", stem, stem, staff)
    if platform == "mastodon":
        home = MASTODON_HOME.get(who, "med.social")
        return _person(platform, f"1090000000000{number}", f"{stem}@{home}" if home else stem, name, staff)
    handle = f"{stem.replace('_', '')}.bsky.social"
    return _person(platform, f"did:plc:{stem.replace('_', '')[:12]:a<12}{number}aaaaaaaa", handle, name, staff)


def _person(platform: str, native: str, handle: str, name: str, staff: bool) -> dict[str, Any]:
    return {"id": f"{platform}:user:{native}", "handle": handle, "name": name, "is_org": staff}


class Ids:
    """Native ids, links and parents of one platform's items, in that platform's real shapes."""

    def __init__(self, platform: str):
        self.platform = platform
        self.seq = 0

    def native(self, moment: datetime, parent: dict[str, Any] | None, root: dict[str, Any] | None) -> str:
        self.seq += 1
        p = self.platform
        if p in ("x", "mastodon"):
            return _snowflake(moment, self.seq)
        if p == "facebook":
            page = ORG["facebook"][0]
            if root is None:
                return f"{page}_{9000000 + self.seq}"
            return f"{root['_native'].split('_')[1]}_{7000000 + self.seq}"
        if p == "instagram":
            return str(17900000000000000 + self.seq * 37)
        if p == "linkedin":
            if root is None:
                return f"urn:li:share:72600000000000{self.seq:05d}"
            return f"urn:li:comment:({root['_native']},72610000000000{self.seq:05d})"
        if p == "youtube":
            if root is None:
                return f"Lk{self.seq:03d}vid{chr(97 + self.seq % 26)}Qz"[:11]
            if parent is root:
                return f"UgzLakeshore{self.seq:04d}AaABAg"
            return f"{(parent or {})['_native']}.9Lk{self.seq:04d}rpl"
        did = ORG["bluesky"][0] if root is None else None
        return f"{did or '{did}'}|{_tid(moment, self.seq)}"

    def url(self, native: str, author: dict[str, Any], root: dict[str, Any] | None) -> str:
        p = self.platform
        if p == "x":
            return f"https://x.com/{author['handle']}/status/{native}"
        if p == "facebook":
            page = ORG["facebook"][0]
            if root is None:
                return f"https://www.facebook.com/{page}/posts/{native.split('_')[1]}"
            return f"https://www.facebook.com/{page}/posts/{root['_native'].split('_')[1]}?comment_id={native.split('_')[1]}"
        if p == "instagram":
            return root["url"] if root else f"https://www.instagram.com/p/C{int(native) % 10**9:09d}x/"
        if p == "linkedin":
            if root is None:
                return f"https://www.linkedin.com/feed/update/{native}/"
            return f"https://www.linkedin.com/feed/update/{root['_native']}/?commentUrn={quote(native, safe='')}"
        if p == "youtube":
            if root is None:
                return f"https://www.youtube.com/watch?v={native}"
            return f"https://www.youtube.com/watch?v={root['_native']}&lc={native}"
        if p == "mastodon":
            handle = author["handle"]
            user, _, home = handle.partition("@")
            return f"https://{home or MASTODON_INSTANCE}/@{user}/{native}"
        rkey = native.split("/")[-1]
        return f"https://bsky.app/profile/{author['handle']}/post/{rkey}"


def build() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """All sample items (posts first, each followed by its comments and replies) and their labels."""
    posts: list[dict[str, Any]] = []
    labels: list[dict[str, Any]] = []
    for item, cats in iter_items():
        _emit(posts, labels, item, cats)
    return posts, labels


def iter_items(
    *, start: datetime = START, thread_step: timedelta | None = None, copies: int = 1, comment_scale: float = 1.0
) -> Iterator[tuple[dict[str, Any], list[str]]]:
    """(item, labels) of every thread, ``copies`` times over with fresh ids; threads ``thread_step`` apart."""
    ids = {platform: Ids(platform) for platform in THREADS}
    for copy in range(copies):
        for p_index, (platform, threads) in enumerate(THREADS.items()):
            for t_index, thread in enumerate(threads):
                if thread_step is None:
                    at = start + timedelta(days=t_index * 3, hours=p_index * 2)
                else:
                    at = start + thread_step * ((copy * len(threads) + t_index) * len(THREADS) + p_index)
                yield from _thread(platform, ids[platform], thread, at, comment_scale)
            if platform == "x" and copy == 0 and thread_step is None:
                for who, m_text, m_labels, hours in MENTIONS:
                    moment = start + timedelta(hours=hours)
                    yield _item(platform, ids[platform], "comment", who, m_text, moment, None, None), m_labels


def _thread(
    platform: str, ids: Ids, thread: Thread, at: datetime, scale: float
) -> Iterator[tuple[dict[str, Any], list[str]]]:
    text, post_labels, comments = thread
    root = _item(platform, ids, "post", "org", text, at, None, None)
    yield root, post_labels
    for c_index, (who, c_text, c_labels, replies) in enumerate(comments):
        c_at = at + timedelta(minutes=scale * (60 + c_index * 187))
        comment = _item(platform, ids, "comment", who, c_text, c_at, root, root)
        yield comment, c_labels
        for r_index, (r_who, r_text, r_labels) in enumerate(replies):
            r_at = c_at + timedelta(minutes=scale * (25 + 40 * r_index))
            yield _item(platform, ids, "reply", r_who, r_text, r_at, comment, root), r_labels


def _item(
    platform: str,
    ids: Ids,
    kind: str,
    who: str,
    text: str,
    at: datetime,
    parent: dict[str, Any] | None,
    root: dict[str, Any] | None,
) -> dict[str, Any]:
    author = author_for(platform, who)
    native = ids.native(at, parent, root)
    if platform == "bluesky":
        did = author["id"].split(":user:", 1)[1]
        native = f"at://{did}/app.bsky.feed.post/{native.split('|')[1]}"
    item = {
        "id": f"{platform}:{native}",
        "platform": platform,
        "account": ACCOUNT[platform],
        "kind": kind,
        "author": author,
        "text": text,
        "created_at": _stamp(at),
        "url": ids.url(native, author, root),
        "parent_id": parent["id"] if parent else None,
        "lang": "en" if platform in ("x", "mastodon", "bluesky") else None,
        "_native": native,
    }
    return item


def _emit(posts: list[dict[str, Any]], labels: list[dict[str, Any]], item: dict[str, Any], cats: list[str]) -> None:
    posts.append({k: v for k, v in item.items() if not k.startswith("_")})
    labels.append({"id": item["id"], "categories": cats, "note": "demo sample"})


def main() -> None:
    posts, labels = build()
    with (HERE / "posts.jsonl").open("w", encoding="utf-8") as out:
        for record in posts:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    with (HERE / "labels.jsonl").open("w", encoding="utf-8") as out:
        for record in labels:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(posts)} items")


if __name__ == "__main__":
    main()
