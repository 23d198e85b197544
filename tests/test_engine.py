"""Engine behaviour: what real posts look like gets found, medical and educational language does not."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.guidelines import Verdict, load_engine
from functions.model import Author, Post, finding_id_for

ENGINE = load_engine()
STRANGER = Author(id="x:user:7", handle="someone", name="Some One", is_org=False)
ORG = Author(id="x:user:1", handle="cmeorg", name="CME Org", is_org=True)


def post(text: str, *, author: Author = STRANGER, kind: str = "comment", post_id: str = "x:1") -> Post:
    return Post(id=post_id, platform="x", account="CMEOrg", kind=kind, author=author, text=text,
                created_at="2026-11-20T14:03:00Z", url="https://x.com/cmeorg/status/1",
                parent_id=None if kind == "post" else "x:0")


def categories(text: str, **kwargs) -> set[str]:
    return {v.category for v in ENGINE.evaluate(post(text, **kwargs))}


def verdict(text: str, category: str, **kwargs) -> Verdict:
    return next(v for v in ENGINE.evaluate(post(text, **kwargs)) if v.category == category)


@pytest.mark.parametrize("text", [
    "this webinar was a f*cking joke",
    "what a load of sh1t",
    "b u l l s h i t from start to finish",
    "total bull$hit",
    "\u0455\u04bbit slides",  # Cyrillic look-alikes
    "\uff46\uff55\uff43\uff4b this",  # fullwidth
    "f\u200bu\u200bc\u200bk this platform",  # zero-width joiners
    "fuuuuuck the audio again",
    "F.U.C.K this",
    "sh!t audio",
])
def test_obfuscated_profanity_is_found(text: str) -> None:
    assert "profanity" in categories(text)


def test_evidence_points_into_the_original_text_despite_zero_width_characters() -> None:
    text = "Great talk but the Q&A was f\u200buck\u200bing chaos."
    found = verdict(text, "profanity")
    assert text[found.start:found.end] == found.evidence
    assert found.evidence.replace("\u200b", "") == "fucking"


def test_evidence_is_a_short_span_of_a_long_post() -> None:
    filler = "The trial enrolled adults with sepsis across twelve sites and measured lactate clearance. " * 30
    text = filler + "Honestly the presenter is an idiot. " + filler
    found = verdict(text, "harassment")
    assert found.evidence == "idiot"
    assert text[found.start:found.end] == "idiot"


@pytest.mark.parametrize("text", [
    "Registration is open for our accredited webinar on early detection of breast cancer.",
    "Sexual health and STI prevention workshop for nurse practitioners.",
    "Substance abuse education is so underfunded.",
    "Opioid overdose: naloxone dosing and take-home kits.",
    "CAR-T therapy, killer T cells, and cytokine release syndrome explained.",
    "Flu shots for staff start Monday; booster shot timing was covered.",
    "Erectile dysfunction is often the first sign of cardiovascular disease.",
    "Anal fissure management algorithm, slide 12.",
    "Elder abuse recognition: bruising patterns every ED nurse should know.",
    "Firearm injury prevention counseling belongs in pediatric curricula.",
    "Suicide prevention training for pharmacists starts Monday.",
    "The attack rate in the outbreak was 38 percent.",
    "Screening for intimate partner violence: how to ask.",
    "Hot flashes and sleep disturbance in perimenopause.",
    "Visceral fat and insulin resistance in adolescents.",
])
def test_clinical_vocabulary_is_not_flagged(text: str) -> None:
    assert categories(text) == set()


@pytest.mark.parametrize("text", [
    "Heart attack symptoms in women are still missed.",
    "Our keynote speaker absolutely killed it this morning.",
    "I hate how short these webinars are!",
    "Can we shoot a short video with your faculty?",
    "This might be a dumb question, but where is the certificate?",
    "Pros and cons of both dosing strategies were clear.",
])
def test_idioms_are_not_flagged(text: str) -> None:
    assert categories(text) == set()


@pytest.mark.parametrize("text", [
    "Respectfully, I think the evidence is weaker than the speaker suggested.",
    "I disagree strongly with the speaker's conclusions. The meta-analysis excluded two negative trials.",
    "The fee schedule cut is real but the bigger problem is prior authorization.",
    "Drug pricing reform will change how industry funds education. How will providers adapt?",
])
def test_civil_disagreement_and_measured_policy_talk_are_not_flagged(text: str) -> None:
    assert categories(text) == set()


def test_org_promoting_own_activity_is_not_solicitation() -> None:
    own = "Early-bird registration for our accredited sepsis course: save 20% with code SEPSIS20 until Friday."
    assert categories(own, author=ORG, kind="post") == set()


def test_stranger_selling_with_a_promo_code_is_solicitation() -> None:
    assert "commercial-solicitation" in categories("Scrubs 40% off this weekend with code SCRUB40 at scrubs.shop")


def test_disclosed_relationship_is_not_a_financial_disclosure_problem() -> None:
    disclosed = "Disclosure: I consult for Medivance. Their new stent outperforms everything I have used."
    assert "financial-disclosure" not in categories(disclosed)
    assert "financial-disclosure" in categories("Their new stent outperforms everything I have used. I hold stock.")


def test_sponsored_hashtag_counts_as_disclosure() -> None:
    text = "The only serum I recommend to patients now - they sent me a free supply. #ad"
    assert "financial-disclosure" not in categories(text)
    assert "financial-disclosure" in categories(text.replace(" #ad", ""))


def test_disclosure_earlier_in_the_authors_own_thread_counts() -> None:
    reply = post("Glucora is simply superior. Every clinician should switch.")
    own_parent = post("Disclosure: I consult for the maker of Glucora.", post_id="x:0")
    other_parent = replace(own_parent, author=Author("x:user:9", "other", "Other", False))
    assert "financial-disclosure" in {v.category for v in ENGINE.evaluate(reply)}
    assert "financial-disclosure" not in {v.category for v in ENGINE.evaluate(reply, parent=own_parent)}
    assert "financial-disclosure" in {v.category for v in ENGINE.evaluate(reply, parent=other_parent)}


def test_petition_links_are_spam_but_regulatory_petitions_are_not() -> None:
    assert "spam" in categories("Please sign: change.org/p/stop-moc-now and share everywhere")
    assert categories("A citizen petition on the labeling question was filed with FDA; the docket is public.") == set()


def test_shortened_bait_link_is_spam_but_a_slides_link_is_not() -> None:
    assert "spam" in categories("Free download of the whole textbook here: bit.ly/free-tx")
    assert categories("Slides from today's session: bit.ly/sepsis-slides") == set()


@pytest.mark.parametrize(("text", "category"), [
    ("Eres un idiota y un payaso.", "harassment"),
    ("Quelle bande de cons.", "harassment"),
    ("Qué mierda de plataforma.", "profanity"),
    ("Putain, encore un bug.", "profanity"),
    ("Te voy a matar si vuelves a publicar eso.", "threat"),
    ("Je sais où tu habites.", "threat"),
    ("Los inmigrantes son una plaga para nuestros hospitales.", "hate"),
    ("Les immigrés sont une plaie pour nos hôpitaux.", "hate"),
    ("Gana dinero desde casa, escríbeme.", "spam"),
    ("¡Compra nuestros suplementos! 50% de descuento, escríbeme por privado.", "commercial-solicitation"),
    ("Je vends mes cours, prix imbattable, contactez-moi en MP.", "commercial-solicitation"),
])
def test_spanish_and_french_high_severity_categories_are_found(text: str, category: str) -> None:
    assert category in categories(text)


@pytest.mark.parametrize(("text", "category"), [
    ("Keep pushing this and someone is going to teach you a lesson.", "threat"),
    ("Watch your back at the next meeting.", "threat"),
    ("Oh look, another 'expert' who can't read a forest plot. Bless your heart.", "harassment"),
    ("Women shouldn't be allowed to lead surgical training.", "hate"),
    ("Everyone in the field knows Dr. Jane Roe takes kickbacks from a device maker.", "defamation"),
    ("The faculty portal login is admin / Winter2026! lol", "confidential-information"),
    ("Screenshot of my DMs with the speaker where she admits she hates the guideline.", "private-conversation"),
    ("Full text of the paywalled article below, no copyright intended.", "copyright"),
    ("Share this with 10 colleagues in the next hour or your license will be delayed!", "spam"),
    ("Vaccines contain microchips that track you. Do your own research!", "spam"),
    ("The GOP is a death cult and anyone who votes Republican has blood on their hands.", "political-rant"),
    ("Struggling with billing? We handle coding for practices at 3%. DM me for rates!", "commercial-solicitation"),
])
def test_each_category_is_found_in_a_typical_post(text: str, category: str) -> None:
    assert category in categories(text)


def test_one_verdict_per_category_from_the_strongest_rule() -> None:
    text = "You are pathetic, you absolute idiot and clown, nobody asked you."
    verdicts = ENGINE.evaluate(post(text))
    assert [v.category for v in verdicts].count("harassment") == 1
    assert len({v.category for v in verdicts}) == len(verdicts)


def test_verdict_carries_rule_severity_action_and_clause() -> None:
    found = verdict("Watch your back at the next meeting.", "threat")
    assert found.rule.startswith("threat/") and found.severity == "critical"
    assert "threatening" in found.clause and found.action
    assert 0 < found.confidence <= 1


def test_findings_have_stable_ids_policy_version_and_excerpt() -> None:
    item = post("Dr. Lee's cell is 617-555-0142 and she lives at 14 Elm Court. Call her and tell her what you think.")
    first = ENGINE.findings(item, run_id="r1", detected_at="2026-11-24T13:00:05Z")
    again = ENGINE.findings(item, run_id="r2", detected_at="2026-11-25T13:00:05Z")
    assert {f.category for f in first} == {"confidential-information", "harassment"}
    assert [f.finding_id for f in first] == [f.finding_id for f in again]
    for finding in first:
        assert finding.finding_id == finding_id_for(item.id, finding.rule, item.text)
        assert finding.policy == "alliance-cme" and finding.policy_version == ENGINE.policy_version
        assert finding.kind == "comment" and finding.clause and finding.evidence in finding.excerpt
    edited = replace(item, text=item.text + " Seriously.")
    assert ENGINE.findings(edited, run_id="r3", detected_at="2026-11-25T13:00:05Z")[0].finding_id != first[0].finding_id


def test_excerpt_of_a_long_post_is_a_window_around_the_evidence() -> None:
    text = "x " * 400 + "you absolute moron" + " y" * 400
    finding = ENGINE.findings(post(text), run_id="r", detected_at="2026-11-24T13:00:05Z")[0]
    assert len(finding.excerpt) <= 242 and "moron" in finding.excerpt


def test_evaluate_is_pure_and_repeatable() -> None:
    item = post("What a load of sh1t. Vote every corrupt Democrat out!!!")
    assert ENGINE.evaluate(item) == ENGINE.evaluate(item)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_valid_spans(text: str) -> None:
    for found in ENGINE.evaluate(post(text)):
        assert 0 <= found.start < found.end <= len(text)
        assert found.evidence == text[found.start:found.end]


@pytest.mark.parametrize(("text", "category"), [
    ("a$$hole moderators", "harassment"),
    ("what the fuq is this", "profanity"),
    ("go kill yourself", "harassment"),
    ("Buy $NURSETOKEN before launch, 100x gains!", "spam"),
])
def test_more_disguises_are_found(text: str, category: str) -> None:
    assert category in categories(text)


@pytest.mark.parametrize("text", [
    "Patients who drink bleach need poison control right away.",
    "$PFE reported earnings today.",
    "The copay is $40 per visit.",
    "Every clinic should stock epinephrine auto-injectors.",
])
def test_look_alikes_in_ordinary_posts_are_not_flagged(text: str) -> None:
    assert categories(text) == set()


@pytest.mark.parametrize("text", [
    "Bloody diarrhea in a returning traveler: think Shigella.",
    "Bloody nipple discharge needs imaging.",
])
def test_clinical_uses_of_swear_like_words_are_not_flagged(text: str) -> None:
    assert categories(text) == set()


RISKY_LOOKING_BUT_FINE = [
    "You're dead right about the dosing.",
    "I'm dying to try this protocol.",
    'This module is the bomb!',
    'We need to attack the backlog of charts.',
    'Women are underdiagnosed with heart disease.',
    'Old doctors and young doctors learn differently - interesting study.',
    'Immigrants are often uninsured; how do we help?',
    'The speaker killed it!',
    'That case was sick - a perfect example of Kawasaki.',
    'What a shocker, the trial was underpowered again (sigh).',
    'I hate paperwork more than anything.',
    'Damage control surgery was well explained.',
    "Shoot me an email and I'll send the protocol.",
    'Our hospital was sued last year and we learned a lot from it.',
    'The company settled with DOJ for kickbacks in 2019, per the press release.',
    'Dr. Wu is a brilliant teacher and a joke-telling legend.',
    "You're just a great presenter, thanks!",
    'Just a nurse here, but I loved this!',
    'The fraud module covered billing red flags.',
    "I'm a shareholder of nothing; just a student.",
    'Buy-in from leadership is key for QI projects.',
    'Register now - seats are limited!',
    'Sign up for our newsletter for updates.',
    'The petition for review was denied by the court.',
    'Vote for the best poster!',
    'Trump-era policies on Title X were discussed neutrally.',
    'Cancer screening saves lives; share this with your patients.',
    'Forward this to your residency coordinator if you think it helps.',
    'My patient (no identifiers) was 67 and had atypical MI.',
    'Room 412 needs cleaning after the workshop.',
    'The password reset link is in your email.',
    "Please don't share the recording outside the organization - internal use only for staff training.",
    'Our internal medicine grand rounds are open to all.',
    'A private practice perspective on burnout would help.',
    'Closed-loop communication in the OR was the key lesson.',
    'She DMed me to say thanks for the notes, so sweet.',
    'Full text of the CDC guideline is free online.',
    'I uploaded my own slides to the shared drive as requested.',
    'Pirate-themed gala was fun!',
    'Not sponsored, just a fan of this course.',
    'I recommend the ACLS refresher to every new nurse.',
    'Best webinar of the year, hands down.',
    'Great to see bipartisan support for residency funding!',
    "The senator's bill on prior auth was summarized well.",
    'DM me if you want our free protocol.',
    'We offer free CME to nurses in rural areas through a grant.',
    'Selling points of the new guideline were clear.',
    'Affordable care act changes were explained clearly.',
    'Hiring managers should read the burnout data.',
    'This course is worth every penny of the $199.',
    'Earn up to 10 credits with our accredited series.',
]


@pytest.mark.parametrize("text", RISKY_LOOKING_BUT_FINE)
def test_ordinary_phrases_that_look_risky_are_not_flagged(text: str) -> None:
    assert categories(text) == set()


SHORT_VARIANTS = [
    ('this shit again', 'profanity'),
    ('what the hell is this', 'profanity'),
    ('damn it, audio again', 'profanity'),
    ('screw this platform', 'profanity'),
    ('bloody useless stream', 'profanity'),
    ('piss poor organization', 'profanity'),
    ('F this webinar', 'profanity'),
    ('this sucks balls', 'profanity'),
    ('goddamn zoom', 'profanity'),
    ('crap audio as usual', 'profanity'),
    ('holy shit that was long', 'profanity'),
    ('son of a b*tch', 'profanity'),
    ("you're an idiot", 'harassment'),
    ('what a moron', 'harassment'),
    ("she's useless", 'harassment'),
    ("he's a joke", 'harassment'),
    ('nobody likes you', 'harassment'),
    ('you should be ashamed', 'harassment'),
    ("you're a disgrace", 'harassment'),
    ('what an incompetent fool', 'harassment'),
    ('shut up already', 'harassment'),
    ('go away troll', 'harassment'),
    ('you are so stupid', 'harassment'),
    ('this guy is a clown', 'harassment'),
    ('the speaker is dumb as a rock', 'harassment'),
    ('you have the IQ of a potato', 'harassment'),
    ('pathetic excuse for a doctor', 'harassment'),
    ('loser', 'harassment'),
    ("you're pathetic", 'harassment'),
    ('get lost, nobody asked', 'harassment'),
    ('how are you even a doctor', 'harassment'),
    ("she's a total idiot", 'harassment'),
    ('i will kill you', 'threat'),
    ("you're dead", 'threat'),
    ("you're going to regret this", 'threat'),
    ('watch your back', 'threat'),
    ("i'll hurt you", 'threat'),
    ('someone should hurt him', 'threat'),
    ('i hope you die', 'threat'),
    ("i'll find you", 'threat'),
    ("i'm going to beat you up", 'threat'),
    ('we know where you live', 'threat'),
    ('you better watch out', 'threat'),
    ('your days are numbered', 'threat'),
    ("i'll burn your clinic down", 'threat'),
    ("i'll make you pay", 'threat'),
    ('one day someone will shoot you', 'threat'),
    ('immigrants are vermin', 'hate'),
    ('muslims are terrorists', 'hate'),
    ('women are inferior', 'hate'),
    ('gays are disgusting', 'hate'),
    ('jews are greedy', 'hate'),
    ('blacks are criminals', 'hate'),
    ('disabled people are a burden', 'hate'),
    ('trans people are sick', 'hate'),
    ('mexicans are lazy', 'hate'),
    ('old people are useless', 'hate'),
    ('share this with 20 friends', 'spam'),
    ('earn $5000 a week from home', 'spam'),
    ('click here to win a free iphone', 'spam'),
    ('free followers at bit.ly/x', 'spam'),
    ('vaccines cause autism', 'spam'),
    ('sign the petition change.org/p/x', 'spam'),
    ('bitcoin giveaway send 1 btc get 2', 'spam'),
    ('miracle cure for diabetes doctors hate', 'spam'),
    ('dm me for prices', 'commercial-solicitation'),
    ('buy now 50% off', 'commercial-solicitation'),
    ('we sell cheap scrubs', 'commercial-solicitation'),
    ('visit my shop', 'commercial-solicitation'),
    ('order today at example.shop', 'commercial-solicitation'),
    ('hire me for your billing', 'commercial-solicitation'),
    ('contact us for a quote', 'commercial-solicitation'),
    ('use my discount code SAVE20 for 20% off', 'commercial-solicitation'),
    ('Dr. Smith is a fraud who fakes his research', 'defamation'),
    ('Acme Health is committing insurance fraud', 'defamation'),
    ('Dr. Jones sexually harassed his residents', 'defamation'),
    ('Dr. Lee takes bribes from drug companies', 'defamation'),
    ('Mercy Hospital hides patient deaths', 'defamation'),
    ('Dr. Brown is a drug addict', 'defamation'),
    ('Dr. Green killed a patient through negligence and lied about it', 'defamation'),
    ('MedEd Inc steals money from its learners', 'defamation'),
    ('Dr. White plagiarized her entire thesis', 'defamation'),
    ('Prof. Adams is on the take from pharma', 'defamation'),
    ('my login is jdoe and password is abc12345', 'confidential-information'),
    ("Dr. Kim's home address is 12 Oak Street", 'confidential-information'),
    ("here's her personal cell: 555-123-4567", 'confidential-information'),
    ('patient John Doe, MRN 123456, has HIV', 'confidential-information'),
    ('attached is the confidential budget memo', 'confidential-information'),
    ('the api key is sk-abcdefghijklmnopqrstuvwxyz123456', 'confidential-information'),
    ('leaked internal strategy document here', 'confidential-information'),
    ('his SSN is 123-45-6789', 'confidential-information'),
    ('here are screenshots of our private chat', 'private-conversation'),
    ('she told me privately that she hates her boss', 'private-conversation'),
    ('leaked audio from the closed meeting', 'private-conversation'),
    ('posting his private email without asking', 'private-conversation'),
    ("what he said in our DMs: 'this course is a scam'", 'private-conversation'),
    ('I recorded the staff meeting secretly', 'private-conversation'),
    ('full movie of the lecture series free download', 'copyright'),
    ('pdf of the entire textbook attached', 'copyright'),
    ("I copied the whole article here since it's paywalled", 'copyright'),
    ('torrent link for the board review course', 'copyright'),
    ('all rights go to the original creator, just reposting', 'copyright'),
    ('pirated copy of the course here', 'copyright'),
    ('I love this drug, not sponsored wink', 'financial-disclosure'),
    ('Best device ever! (they pay me but whatever)', 'financial-disclosure'),
    ('Everyone should switch to BrandX. I own shares in the company.', 'financial-disclosure'),
    ("My company's product is the best on the market, trust me as an independent expert", 'financial-disclosure'),
    ('Trump is destroying America!!!', 'political-rant'),
    ('Biden is senile and the Democrats are criminals', 'political-rant'),
    ('Vote Republican or die!!!', 'political-rant'),
    ('The left are traitors!!!', 'political-rant'),
    ('MAGA forever', 'political-rant'),
    ('Liberals are ruining this country!!!', 'political-rant'),
]


@pytest.mark.parametrize(("text", "category"), SHORT_VARIANTS)
def test_short_everyday_variants_are_found(text: str, category: str) -> None:
    assert category in categories(text)


@pytest.mark.parametrize(("text", "category"), [
    ("Si tu continues, je vais te faire regretter d'être venu.", "threat"),
    ("Te vas a arrepentir de publicar esto.", "threat"),
    ("La Dra. Vega cobra sobornos de los laboratorios.", "defamation"),
    ("Our Stripe key is sk_live_abcdef1234567890 if you need it", "confidential-information"),
    ("api_token: 9f8e7d6c5b4a3210fedcba98", "confidential-information"),
])
def test_more_languages_and_secret_shapes_are_found(text: str, category: str) -> None:
    assert category in categories(text)


def test_self_care_advice_is_not_a_threat() -> None:
    assert categories("Watch yourself for signs of burnout this winter, everyone.") == set()
