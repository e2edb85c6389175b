"""Regular-expression sources for status cues and for the words that modify them.

All patterns run over normalised token text (lower case, single spaces, ``|`` for clause
punctuation) in which every film mention has been collapsed to ``qfilmq`` (a watched film) or
``qorigq`` (some other film), so words inside titles ("Wake Up *Dead* Man") are never cues.

Cues name *what* happened; whether it is asserted, negated, hedged, wished, planned, nearly
reached or told in retrospect is decided separately from the surrounding words (see
``cues.py``). That split is what lets unseen wordings work: a new verb for "started filming"
only needs the cue, and every modality already applies to it.

Verbs are listed as lemmas (``*_VERBS``) and inflected by ``morph.verbs``; hand-written
alternations remain for nouns, idioms and forms that need a guard ("wraps" but not "wraps up
its tour"). Where a base or third-person form is mostly a noun in news copy ("eyes",
"circles", "pitch"), it is skipped rather than guarded.
"""

from __future__ import annotations

from bot.classify.morph import verbs

MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
SEASONS = "spring|summer|fall|autumn|winter|holidays?"
PLATFORMS = (
    r"netflix|disney|disney plus|max|hbo max|hulu|peacock|prime video|prime|apple tv|streaming|"
    r"paramount plus|digital|vod|on demand|the service"
)
_ANY = r"(?:\S+ )"
# Auxiliaries, modals and adverbs that may sit between a subject noun and its verb
# ("cameras are due to roll", "filming has now officially wrapped"). Their meaning (plan,
# negation, hedge) is read separately, also inside a cue's span.
AUX_CHAIN = (
    r"(?:(?:is|are|was|were|be|been|being|has|have|had|will|would|to|now|already|finally|"
    r"officially|set|due|about|expected|scheduled|slated|poised|ready|going|gets?|got|has|"
    r"could|may|might|should|\w+'ll|not|never|\w+n't|yet|still) ){0,4}?"
)
# Nouns that can stand for the film itself as a subject ("the mystery is finished").
FILM_NOUNS = (
    r"(?:qfilmq|film|movie|sequel|prequel|picture|feature|follow up|followup|installment|"
    r"instalment|chapter|mystery|thriller|comedy|drama|adventure|epic|blockbuster|project|it)"
)
# "Shooting on the sequel has finished": the film may sit between a process noun and its verb.
_ON_FILM = r"(?:(?:on|of|for) (?:the )?(?:qfilmq|film|movie|sequel) )?"
_FILM_OBJ = r"(?:the |its |their |a |an )?(?:qfilmq|film|movie|sequel|project|picture|feature)"

# Verb vocabulary as lemmas; morph.verbs() generates every inflection.
CANCEL_VERBS = verbs(
    "cancel",
    "scrap",
    "shelve",
    "axe",
    "ax",
    "abandon",
    "nix",
    "scuttle",
    "bury",
    "junk",
    "ditch",
    "mothball",
    "pull the plug",
    "put on ice",
    "deep six",
)
REVIVE_VERBS = verbs("revive", "resurrect", "rescue", "salvage", "uncancel", "un cancel")
PAUSE_VERBS = verbs("halt", "pause", "stop", "suspend", "shut down", "shutter", "freeze")
START_VERBS = verbs(
    "begin",
    "start",
    "kick off",
    "get under way",
    "get underway",
    "commence",
    "resume",
    "get going",
    "tee off",
    "enter",
    "head into",
    "go into",
    "move into",
)
FINISH_VERBS = verbs("wrap", "finish", "end", "conclude", "complete")
GREENLIGHT_VERBS = verbs("greenlight", "green light*", "approve", "okay", "sign off", "order")
GRANT_VERBS = verbs("give", "get", "receive", "earn", "land", "win")
HIRE_VERBS = verbs("hire", "tap", "enlist", "recruit", "bring on", "bring in", "sign", "set")
CAST_VERBS = verbs(
    "join",
    "board",
    "sign on",
    "round out",
    "fill out",
    "finalise",
    "finalize",
    "assemble",
    "complete",
)
RUMOUR_VERBS = (
    verbs(
        "float",
        "toss around",
        "kick around",
        "toy with",
        "mull",
        "ponder",
        "circle",
        "explore",
        "consider",
        "pitch",
        "tease",
        "hint",
        "beg",
        "plead",
        "campaign",
        skip=("circle", "circles", "pitch", "pitches", "beg", "campaign", "tease"),
    )
    + r"|weigh(?:s|ed|ing)?(?! in)|eyeing|eying"
)

# Order matters: at one position the first alternative wins, so compound cues
# ("wraps filming", "pre production", "not happening") come before their parts.
CUES: tuple[tuple[str, str], ...] = (
    # A cancellation phrase that carries its own negation ("will never be made").
    (
        "cancelled_neg",
        r"\b(?:not|never|no longer|\w+n't) (?:\S+ )?(?:happen(?:ing|ed)?|be made|get made|"
        r"going to happen|moving forward|be released|be seen|see the light of day)\b",
    ),
    # Talk that carries its own negation ("not ruling it out"): a rumour, not a denial.
    (
        "rumored_neg",
        r"\b(?:not|never|\w+n't) rul\w* (?:\S+ ){0,3}?out\b|\bnever say never\b",
    ),
    (
        "cancelled",
        r"\b(?:" + CANCEL_VERBS + r"|cancellation|canned|on the shelf|on ice|"
        r"dead in the water|kill(?:s|ed)|dead|nixed|plug (?:\S+ ){0,2}?pulled|"
        r"pull(?:s|ed|ing)? " + _FILM_OBJ + r"|"
        r"dropp(?:ed|ing) (?:the |its |it |qfilmq|plans)|(?:being|been|was|is) dropped|"
        # "drops X from its slate"; a bare "drops" is also slang for releasing a trailer.
        r"drop(?:s|ped|ping)? (?:\S+ ){0,4}?from (?:its |the |their )?(?:\S+ )?(?:slate|"
        r"schedule|calendar|line ?up|plans))\b"
        r"|\b(?:halt\w*|stop\w*|end(?:s|ed)?|shut\w* down|freez\w*) (?:\S+ ){0,2}?development\b",
    ),
    (
        "revival",
        r"\b(?:" + REVIVE_VERBS + r"|revival|back on track|"
        r"back on(?! set| the set| screen)|back in (?:development|the works)|"
        r"back from the dead|back to life|new lease on life|gets? new life)\b",
    ),
    (
        "pause",
        r"\b" + PAUSE_VERBS + r" (?:\S+ ){0,3}?(?:production|filming|shooting|mid shoot)\b"
        r"|\b(?:production|filming|shooting) " + _ON_FILM + AUX_CHAIN + r"(?:halted|paused|stopped|"
        r"suspended|shut down|shuts down|frozen|on hold)\b",
    ),
    (
        "delay",
        r"\b(?:delay\w*|postpon\w*|push(?:ed|es)? (?:back|to|into|out)|pushed|"
        r"mov(?:e|es|ed) (?:\S+ ){0,3}?(?:back|up|to|from|out of)|shift(?:s|ed)? (?:\S+ ){0,3}?"
        r"(?:back|to|from|out)|slid(?:e|es|ing)?|slips?|bump(?:s|ed)|reschedul\w*|"
        r"off (?:the |its )?(?:\d+ )?(?:calendar|schedule|slate)|vacat\w* (?:its |the )?"
        r"(?:date|slot)|new release date|release date change\w*)\b",
    ),
    # The finished film as a thing: "a near-complete film" is in post, not nearly filmed.
    (
        "post_state",
        r"\b(?:(?:finished|completed|complete|done) (?:film|movie|sequel|cut|picture|feature)|"
        + FILM_NOUNS
        + r" (?:is |has been |was )?(?:now |already )?(?:finished|complete|completed|done|"
        r"locked|in the can)(?! (?:with|by|in|on|for|filming|shooting))|in the can)\b",
    ),
    (
        "post_production",
        r"\b(?:post production|in post|post work|that's a wrap|it's a wrap|wrap(?:s|ped|ping)?"
        r"(?! up (?:its |the |a )?(?:\S+ )?(?:tour|campaign|season))|"
        r"(?:finish\w*|complet\w*|end(?:s|ed)?|conclud\w*) (?:\S+ ){0,2}?(?:filming|shooting|"
        r"photography|production|the shoot|scenes|principal photography)|end of (?:filming|"
        r"shooting|production|photography|the shoot)|(?:filming|shooting|photography|"
        r"production|the shoot) " + _ON_FILM + AUX_CHAIN + r"(?:" + FINISH_VERBS + r"|done|over)|"
        r"edit(?:s|ed|ing)?|edit room|cutting room|the edit|cut together|"
        r"lock(?:s|ed|ing)? (?:the |its )?(?:final )?cut|(?:final |picture )?cut (?:is )?locked|"
        r"picture lock|test screenings?|scor(?:es|ed|ing) "
        + _FILM_OBJ
        + r"|finishing touches|fine tun\w*|render(?:s|ed|ing)|"
        r"visual effects|vfx|effects (?:work|shots)|sound mix\w*|reshoots?|color grad\w*|"
        r"animation is (?:locked|complete|done|finished))\b",
    ),
    (
        "pre_production",
        r"\b(?:pre production|prep(?:s|ping)?|start date|camera date|start of (?:filming|"
        r"production|shooting|photography|principal photography)|rehears\w*|table read|"
        r"location scout\w*|scout(?:s|ed|ing)?|costume fittings?|fittings|camera tests?|"
        r"screen tests?|chemistry (?:reads?|tests?)|auditions?|auditioning|casting calls?|"
        r"(?:staff|crew)(?:s|ed|ing)? up|stunt training|training for|production office|"
        r"sets? (?:are |is )?(?:being )?(?:built|constructed|under construction|going up|rising)|"
        r"(?:build|construct|erect)\w* (?:\S+ ){0,4}?(?:sets?|stages?|replica|backlot)|"
        r"casting|casts|cast (?:in|as|for)|"
        r"(?:is|are|was|were|been|being|gets|got) cast|"
        r"cast (?:expands|grows|adds|is set|is complete|rounds out)|"
        r"" + CAST_VERBS + r" (?:its |the |an |a )?(?:cast|ensemble)|"
        r"(?:qfilmq|sequel|film|movie|production|it) adds|adds? (?:\S+ ){1,4}?to (?:the |its )?"
        r"cast|to star (?:in|as|opposite|alongside)|"
        r"(?:join(?:s|ed|ing)?|board(?:s|ed|ing)?|signs? on|signed on)"
        r"(?! (?:\S+ ){0,4}?as (?:a )?(?:co )?(?:writer|director|producer|screenwriter))\b)",
    ),
    (
        "filming",
        r"\b(?:principal photography|photography|film(?:ing|ed)|shoot(?:s|ing)?(?! down)|"
        r"mid shoot|(?:was|were|being|been) shot|lens(?:ing|ed)|on location|between takes|"
        r"" + verbs("go") + r" before (?:the )?cameras|"
        r"cameras? " + AUX_CHAIN + r"(?:" + START_VERBS + r" )?(?:to )?roll\w*|"
        r"roll(?:s|ed|ing)? cameras|gets? rolling|in production|on (?:the )?set|from the set|"
        r"set (?:photos|pictures|images|visit)|qfilmq set(?! (?:for|to|a|an|the|its|up))|"
        r"" + START_VERBS + r" (?!pre )(?:\S+ )?production|"
        r"production (?:\S+ ){0,4}?(?:" + START_VERBS + r"|is underway|underway|under way|"
        r"continues|continued|rolling)(?! \w+ing\b))\b",
    ),
    (
        "released",
        r"\b(?:theaters|theatres|cinemas|multiplexes|now (?:playing|showing|streaming|available)|"
        r"streaming (?:now|on|worldwide|exclusively|debut)|streams? (?:on|now)|is streaming|"
        r"out now|is (?:now )?out|available (?:to (?:stream|rent|buy|watch)|on|now)|"
        r"land(?:s|ed)? on|arriv(?:es|ed) on|hits? (?:" + PLATFORMS + r")|"
        r"to rent or buy|playing (?:in|worldwide|nationwide|now)|"
        r"open(?:s|ed)? (?:\S+ ){0,2}?(?:today|tonight|nationwide|worldwide|wide)|"
        r"(?:opening|debut) (?:weekend|frame|day)|"
        r"open(?:s|ed)? to (?=\d|strong|big|huge|record|solid|soft|rave|mixed|glowing|great)|"
        r"debut(?:s|ed)? (?:with|at|to)|(?:debut(?:s|ed)?|premier(?:es|ed)) (?:on|in) "
        r"(?:" + PLATFORMS + r"|theaters|theatres|cinemas)|(?:streaming|theatrical|digital) debut|"
        r"(?:at|the|domestic|global|worldwide|international) box office|box office "
        r"(?:debut|opening|forecasts?|expectations|crown|chart|weekend|haul|win|bomb|flop|hit|"
        r"success|smash|disappointment|dud|misfire|failure|champ|results?|numbers|returns)|"
        r"(?:grossed|earned|earns|took in|takes in|scar\w* up|crossed|crosses|pass(?:es|ed)|"
        r"tops|topped|blows? past|soar(?:s|ed)? past|hauls?|hauled|collected|raked in|"
        r"logged|logs|racked up|racks up|clocked|clocks) "
        r"(?:\S+ ){0,2}?(?:\d+ (?:million|billion)|million|billion|forecasts|the charts?|charts?|"
        r"views|hours)|\d+ (?:million |billion )?views|(?:viewing|viewership|ratings) "
        r"(?:numbers|figures|records?)|record viewing|ticket sales|top spot|"
        r"(?:second|third|fourth|fifth|consecutive|straight) weekend|"
        r"wins? (?:the )?weekend|top (?:10|ten|five)|most watched|breaks? (?:\S+ ){0,2}?records?|"
        r"(?:was|has been|is|been|be|were|got|gets) released|released (?:in|on|to) )\b",
    ),
    (
        "greenlit_date",
        r"\b(?:(?:sets?|dates?|dated|slates?|slated|schedul\w*) (?:\S+ ){0,4}?for (?:release )?"
        r"(?:in )?(?:(?:early|late|mid|next) )?(?:"
        + MONTHS
        + r"|"
        + SEASONS
        + r"|20\d\d|next year)"
        # "set for summer shoot" is a shooting plan, not a release slot.
        r"(?! (?:\S+ )?(?:shoot|shooting|filming|start|production|cameras?|camera date))|"
        r"on (?:its|the) slate|release (?:date )?(?:is )?set for|set for release)\b",
    ),
    (
        "greenlit",
        r"\b(?:green ?(?:lit|light(?:s|ed|ing)?)|" + GREENLIGHT_VERBS + r"|go ahead|"
        r"(?:is|it's|its|officially) (?:a )?go|(?:officially|is|it's) happening|officially on|"
        r"(?<!in )order(?:s|ed)|commission(?:s|ed)|approval|signed off|oks|ok'd|"
        r"" + GRANT_VERBS + r" (?:the |a )?(?:nod|thumbs up|okay|ok)|"
        r"lock(?:s|ed)? in " + _FILM_OBJ + r"|"
        r"commit(?:s|ted)? to (?:a |an |the )?(?:\S+ )?(?:qfilmq|sequel|film|movie)|"
        r"(?:officially )?mov(?:es|ed|ing) forward(?! with (?:development|a script|the script))|"
        r"confirm(?:s|ed)? (?:the |a |that )?(?:sequel|qfilmq|third film|fifth film|film|movie)"
        r"(?! (?:is|script|has|will|would|that))|"
        r"qfilmq (?:is |has been )?(?:officially )?confirmed)\b",
    ),
    (
        "in_development",
        r"\b(?:(?:in|into|back in|under|enters?|heads? into) (?:early |active )?development|"
        r"develop(?:s|ing|ed)?|in the works|working on|work(?:s|ed)? on|writ(?:e|es|ing|ten)|"
        r"wrote|co (?:wrote|writing|written|write|writer)|pen(?:s|ned|ning)?|scripts?|scripting|"
        r"screenplay|drafts?|drafting|rewrit\w*|writers?|scribe|helmer|writers room|"
        r"story (?:meetings?|development|sessions?|work)|early stages|"
        r"shap(?:e|es|ed|ing) (?:the |its )?(?:story|script|film|sequel|qfilmq)|"
        r"steer(?:s|ed|ing)? " + _FILM_OBJ + r"|"
        r"(?:his|her|their|its) next (?:project|film|feature|movie)|"
        r"(?:to|will) (?:direct|helm|write|pen|script|adapt)|direct(?:s|ing)|at the helm|"
        r"director (?:is |has been )?(?:attached|hired|on board|in place|set|found)|"
        r"" + HIRE_VERBS + r" (?:\S+ ){0,3}?(?:as |to )?(?:writer|director|screenwriter|scribe|"
        r"helmer)|"
        r"(?:has|have|finds?|found|lands?|landed|gets?|got) (?:a|an|its|their) (?:new )?"
        r"(?:writer|director|screenwriter|script)|attached|on board|"
        r"board(?:s|ed)? (?:qfilmq )?as (?:a )?(?:co )?(?:writer|director|screenwriter))\b",
    ),
    (
        "rumored",
        r"\b(?:rumou?r(?:s|ed|ing)?|speculat\w*|theor(?:y|ies)|whispers?|whispered|buzz|"
        r"chatter|murmurs?|gossip|word is|said to be|in (?:early |preliminary |"
        r"initial |final )?(?:talks|discussions|negotiations)|negotiat\w*|preliminary "
        r"(?:conversations|talks|discussions)|early (?:talks|conversations)|"
        r"talks (?:could|may|might)|eye(?:s|ing|d)? (?:a |an )?(?:return|qfilmq)|"
        # A trailer that "teases" a film is marketing for a film that exists, not a rumour.
        r"(?<!trailer )(?<!teaser )(?<!poster )(?<!clip )(?:"
        + RUMOUR_VERBS
        + r")|in the cards|would love|'d love|d love|in a heartbeat|"
        r"in a second|hop(?:e|es|ed|ing)|wants? (?:to|another|a|qfilmq)|wish(?:es|ed|ing)?|"
        r"dream(?:s|ed|ing|t)?|game for|(?:is|are|am|'m|be|was|were|\w+'s) up for|"
        r"(?:is|are|am|'m|be|remains?|stays?) open to|keen (?:to|on)|eager to|itching to|"
        r"dying to|jump at|calling for|pushing for|lobbying)\b",
    ),
    # A reporting frame is a rumour only when it frames nothing else: "sources say there is
    # no shoot scheduled" reports a denial (see cues.read_cues).
    (
        "report",
        r"\b(?:reportedly|sources? (?:say|said|claim)|insiders? (?:say|said|claim)|"
        r"reports? (?:says?|said|claims?|suggests?)|according to (?:a |an )?(?:\S+ )?"
        r"(?:reports?|insiders?|sources?)|per (?:a )?report)\b",
    ),
    (
        "project",
        r"\b(?:return(?:s|ing)?|come back|coming back|be back|reprise\w*|"
        r"do (?:it|one|a|another|the)|make (?:it|one|a|another|the)|happen|happening|"
        r"get (?:a|another) (?:sequel|third)|join|be part|one more time|one last time|"
        r"once more|reunite|reunion)\b",
    ),
)

# --- modifiers ------------------------------------------------------------------------------

NEGATORS = (
    r"\b(?:not|no|never|nothing|none|nobody|neither|nor|without|\w+n't|yet to|no longer|far from)\b"
)
# Denials reach over the whole rest of the sentence ("denied reports that it starts shooting").
DENIALS = (
    r"\b(?:den(?:y|ies|ied)|dismiss\w*|shoot(?:s|ing)? down|shot down|debunk\w*|"
    r"laugh(?:s|ed)? off|quash\w*|refut\w*|rejects?|nothing to do with|set(?:s)? (?:the )?record "
    r"straight|should not believe)\b"
)
# ...and so do these verdicts on a report, wherever they sit ("rumours ... are premature").
DENIAL_VERDICTS = (
    r"\b(?:premature|false|untrue|wrong|overblown|exaggerated|baseless|inaccurate|fake news|"
    r"not true)\b"
)
# Modal and evidential words: scope forward within the clause.
# Wishes and willingness ("would love to", "is game for", "would jump at the chance").
WISH_WORDS = (
    r"would love|'d love|d love|in a heartbeat|hop(?:e|es|ed|ing)|wants?|wish(?:es|ed|ing)?|"
    r"dream(?:s|ed|ing|t)?|game for|(?:is|are|am|'m|be|was|were|\w+'s) up for|open to|"
    r"keen (?:to|on)|eager to|itching to|"
    r"dying to|jump at|beg(?:s|ged|ging)|plead(?:s|ed|ing)|calling for|pushing for|lobbying"
)
HEDGES = (
    r"\b(?:could|might|may|would|\w+'d|should|possibly|potentially|perhaps|maybe|likely|"
    r"unlikely|possible|potential|in (?:early |preliminary |final )?(?:talks|negotiations|"
    r"discussions)|eye(?:s|ing)|considering|exploring|weigh(?:s|ing)(?! in)|mull\w*|"
    r"ponder\w*|float(?:s|ed|ing)|toy(?:s|ed|ing)? with|circl(?:e|es|ed|ing)|"
    r"teas(?:e|es|ed|ing)|hint(?:s|ed|ing)?|wonder(?:s|ed|ing)?|speculat\w*|tipped|angling|"
    + WISH_WORDS
    + r")\b"
)
# Reporting frames: scope over the whole sentence, wherever they are.
FRAMES = (
    r"\b(?:reportedly|allegedly|apparently|supposedly|rumou?red|rumou?rs?|sources?|insiders?|"
    r"per (?:a )?report|according to (?:a |an )?(?:\S+ )?(?:report|insider|source)s?|"
    r"reports? (?:say|said|says|suggest\w*|claim\w*|indicate\w*)|(?:is|are|was) said to|"
    r"claims?|if|whether|unconfirmed|speculation|whispers?|whispered|buzz|chatter|murmurs?|"
    r"gossip|word is|said to be|believed|understood to|"
    # Epistemic verbs frame what follows as belief ("crew members think it could wrap").
    r"believe[sd]?|think|thinks|suspects?|reckons?|guess(?:es)?)\b"
)
WISHES = r"\b(?:" + WISH_WORDS + r")\b"
PROXIMITY = (
    r"\b(?:close to|so close|closer to|nearly|almost|near|nearing|on the verge of|verge of|"
    r"edging (?:closer )?(?:to|toward|towards)|inching (?:closer )?(?:to|toward|towards)|"
    r"one step (?:away )?from|just shy of|on the cusp of|within reach of|approaching)\b"
)
# "to" marks a plan as an infinitive ("to begin filming"), not as a preposition after a verb of
# motion ("heads to test screenings"). "set for/to" is headline grammar for "is set for".
PLANNED = (
    r"\b(?:will|\w+'ll|shall|(?<!head )(?<!heads )(?<!headed )(?<!heading )(?<!back )to|"
    r"set (?:for|to)|(?:prep\w*|prepar\w*|gear\w* up|read(?:y|ies|ying)) for|ahead of|before|"
    r"when|once|until|in time for|gear(?:s|ed|ing)? up|"
    r"preparing|poised|about to|due|expected|scheduled|slated|plans?|planning|aims?|aiming)\b"
)
# Future auxiliaries that can sit inside a cue's own span (see AUX_CHAIN).
FUTURE_AUX = (
    r"\b(?:will|\w+'ll|shall|due|expected|scheduled|slated|poised|about to|set to|going to|"
    r"plans? to|planning to|aims? to)\b"
)
FUTURE_TIME = (
    r"\b(?:next (?:week|month|year|" + SEASONS + r"|" + MONTHS + r")|this (?:coming |"
    r")(?:" + SEASONS + r"|" + MONTHS + r")|later this (?:year|month)|"
    r"in (?:the )?(?:early |late |mid )?(?:" + MONTHS + r"|" + SEASONS + r"|new year)|"
    r"in (?:early |late |mid )?20\d\d|soon|in the (?:coming|next) (?:weeks|months)|"
    r"until next)\b"
)
# Past or ongoing forms: a cue written this way is not a plan even with a date after it.
PAST_FORM = (
    r"\b(?:began|begun|started|kicked|got|rolled|commenced|wrapped|finished|completed|"
    r"underway|rolling|filmed|shot|ended|resumed|continued|continues|landed|opened|"
    r"arrived|debuted)\b"
)
AUX_BEFORE = frozenset({"is", "are", "was", "were", "has", "have", "had", "been", "being"})
# Explicit anchors in the past: demote the clause they sit in.
RETRO_ANCHORS = (
    r"\b(?:back in|originally|initially|previously|formerly|years? ago|decades? ago|"
    r"at the time|for (?:a|two|three) decades?|once upon)\b"
)
YEAR_ANCHOR = (
    # Not "since": "in development since 2015" is a state that still holds.
    r"\b(?:back |)(?:in|during|of) (?:(?:early|late|mid) )?(?:(?:"
    + MONTHS
    + r") )?((?:19|20)\d\d)\b"
)
# Framing of a whole sentence as a look back.
RETRO_FRAMES = (
    r"\b(?:recall\w*|remember\w*|looks? back|looking back|look back|reflect\w*|turns \d+|"
    r"anniversary|(?:one|a|two|three|five|ten|twenty|\d+) years? (?:later|on)|the making of|"
    r"(?:\d+|ten|twenty|thirty|forty|fifty) years of|"
    r"oral history|retrospective)\b"
)
CLAUSE_WORDS = frozenset(
    {
        "but",
        "though",
        "although",
        "while",
        "whereas",
        "however",
        "meanwhile",
        "separately",
        "despite",
        "yet_conj",
        # Subordinators end a negation's or a hedge's reach: "won't film until the script
        # is done" does not negate the script.
        "until",
        "unless",
        "because",
    }
)
