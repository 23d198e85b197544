"""The demo organization's threads: what its accounts posted and what people answered, with labels.

Written for the demo (not taken from the development corpus): every category of
``shared/spec/categories.md`` appears, next to many clean items and hard negatives (clinical
vocabulary, heated but civil disagreement, disclosed relationships, measured policy talk).
"""

from __future__ import annotations

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
