"""Regular-expression sources for status cues and for the words that modify them.

All patterns run over normalised token text (lower case, single spaces, ``|`` for clause
punctuation) in which every film mention has been collapsed to ``qfilmq`` (a watched film) or
``qorigq`` (some other film), so words inside titles ("Wake Up *Dead* Man") are never cues.

Cues name *what* happened; whether it is asserted, negated, hedged, wished, planned, nearly
reached or told in retrospect is decided separately from the surrounding words (see
``cues.py``). That split is what lets unseen wordings work: a new verb for "started filming"
only needs the cue, and every modality already applies to it.
"""

from __future__ import annotations

MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
SEASONS = "spring|summer|fall|autumn|winter|holidays?"
PLATFORMS = (
    r"netflix|disney|disney plus|max|hbo max|hulu|peacock|prime video|prime|apple tv|"
    r"paramount plus|digital|vod|on demand|the service"
)
_ANY = r"(?:\S+ )"

# Order matters: at one position the first alternative wins, so compound cues
# ("wraps filming", "pre production", "not happening") come before their parts.
CUES: tuple[tuple[str, str], ...] = (
    # A cancellation phrase that carries its own negation ("will never be made").
    (
        "cancelled_neg",
        r"\b(?:not|never|no longer|\w+n't) (?:\S+ )?(?:happen(?:ing|ed)?|be made|get made|"
        r"going to happen|moving forward)\b",
    ),
    (
        "cancelled",
        r"\b(?:cancel(?:s|led|ed|ling|ing|lation)?|scrap(?:s|ped|ping)?|shelv(?:e|es|ed|ing)|"
        r"on the shelf|ax(?:e|es|ed|ing)?|pull(?:s|ed|ing)? the plug|abandon(?:s|ed|ing)?|"
        r"kill(?:s|ed)|dead|scuttled|nixed|nix(?:es)?|"
        r"dropp(?:ed|ing) (?:the |its |it |qfilmq|plans)|(?:being|been|was|is) dropped)\b"
        r"|\b(?:halt\w*|stop\w*|end(?:s|ed)?|shut\w* down|freez\w*) (?:\S+ ){0,2}?development\b",
    ),
    (
        "revival",
        r"\b(?:revive[ds]?|reviving|revival|resurrect\w*|back on track|"
        r"back on(?! set| the set| screen)|back in (?:development|the works)|un ?cancel\w*|"
        r"back from the dead|new lease on life|gets? new life)\b",
    ),
    (
        "pause",
        r"\b(?:halt\w*|paus\w*|stop\w*|suspend\w*|shut\w* down|shuts down) "
        r"(?:\S+ ){0,3}?(?:production|filming|shooting|mid shoot)\b"
        r"|\b(?:production|filming|shooting) (?:\S+ ){0,3}?(?:halted|paused|stopped|suspended|"
        r"shut down|shuts down)\b",
    ),
    (
        "delay",
        r"\b(?:delay\w*|postpon\w*|push(?:ed|es)? (?:back|to|into|out)|pushed|"
        r"mov(?:e|es|ed) (?:\S+ ){0,3}?(?:back|up|to|from|out of)|shift(?:s|ed)? (?:\S+ ){0,3}?"
        r"(?:back|to|from|out)|slid(?:e|es)|slips?|bump(?:s|ed)|reschedul\w*|"
        r"new release date|release date change\w*)\b",
    ),
    (
        "post_production",
        r"\b(?:post production|in post|post work|that's a wrap|it's a wrap|wrap(?:s|ped|ping)?"
        r"(?! up (?:its |the |a )?(?:\S+ )?(?:tour|campaign|season))|"
        r"(?:finish\w*|complet\w*|end(?:s|ed)?|conclud\w*) (?:\S+ ){0,2}?(?:filming|shooting|"
        r"photography|production|the shoot|scenes|principal photography)|end of (?:filming|"
        r"shooting|production|photography|the shoot)|(?:filming|shooting|photography|"
        r"production) (?:has |had |is |was )?(?:now )?(?:wrapped|finished|ended|completed|"
        r"complete|done|over)|edit(?:s|ed|ing)?|edit room|cutting room|the edit|"
        r"visual effects|vfx|sound mix\w*|reshoots?|color grad\w*|"
        r"animation is (?:locked|complete|done|finished)|"
        r"(?:finished|completed|complete) (?:film|movie|sequel|cut|picture)|"
        r"(?:qfilmq|film|movie|sequel) (?:is |has been |was )?(?:now |already )?"
        r"(?:finished|complete|completed|done|locked|in the can))\b",
    ),
    (
        "pre_production",
        r"\b(?:pre production|prep(?:s|ping)?|start date|start of (?:filming|production|"
        r"shooting|photography|principal photography)|rehears\w*|table read|location "
        r"scout\w*|scouting|sets? (?:are |is )?(?:being )?(?:built|constructed|under construction)|"
        r"build\w* (?:the )?sets|casting|casts|cast (?:in|as|for)|"
        r"(?:is|are|was|were|been|being|gets|got) cast|"
        r"cast (?:expands|grows|adds|is set|is complete|rounds out)|"
        r"(?:fill\w*|round\w* out) (?:its |the )?cast|"
        r"(?:qfilmq|sequel|film|movie|production|it) adds|adds? (?:\S+ ){1,4}?to (?:the |its )?"
        r"cast|"
        r"(?:join(?:s|ed|ing)?|board(?:s|ed|ing)?|signs? on|signed on)"
        r"(?! (?:\S+ ){0,4}?as (?:a )?(?:co )?(?:writer|director|producer|screenwriter))\b)",
    ),
    (
        "filming",
        r"\b(?:principal photography|photography|film(?:ing|ed)|shoot(?:s|ing)?(?! down)|"
        r"mid shoot|(?:was|were|being|been) shot|lens(?:ing|ed)|"
        r"cameras? (?:are |were |have |has |will |to )?(?:start\w* |begin\w* |began )?roll\w*|"
        r"roll(?:s|ed|ing)? cameras|gets? rolling|in production|on (?:the )?set|from the set|"
        r"set (?:photos|pictures|images|visit)|qfilmq set(?! (?:for|to|a|an|the|its|up))|"
        r"(?:begin|begins|began|begun|start(?:s|ed|ing)?|kick(?:s|ed)? off|got underway|"
        r"gets underway|tees? off|commenc\w*|resum\w*|enter(?:s|ed)?) production|"
        r"production (?:\S+ ){0,4}?(?:began|begins|begun|starts?|started|kicked off|"
        r"got underway|is underway|underway|continues|continued|resumes?|resumed|commenced|"
        r"rolling)(?! \w+ing\b))\b",
    ),
    (
        "released",
        r"\b(?:theaters|theatres|cinemas|multiplexes|now (?:playing|showing|streaming|available)|"
        r"streaming (?:now|on|worldwide|exclusively)|streams? (?:on|now)|is streaming|"
        r"out now|is (?:now )?out|available (?:to (?:stream|rent|buy|watch)|on|now)|"
        r"land(?:s|ed)? on|arriv(?:es|ed) on|hits? (?:" + PLATFORMS + r")|"
        r"to rent or buy|playing (?:in|worldwide|nationwide|now)|"
        r"open(?:s|ed)? (?:\S+ ){0,2}?(?:today|tonight|nationwide|worldwide|wide)|"
        r"(?:opening|debut) (?:weekend|frame|day)|open(?:s|ed)? to|debut(?:s|ed)? (?:with|at|to)|"
        r"(?:at|the|domestic|global|worldwide|international) box office|box office "
        r"(?:debut|opening|forecasts?|expectations|crown|chart|weekend|haul|win)|"
        r"(?:grossed|earned|earns|took in|takes in|scar\w* up|crossed|crosses|pass(?:es|ed)|"
        r"tops|topped|blows? past|soar(?:s|ed)? past|hauls?|hauled|collected|raked in) "
        r"(?:\S+ ){0,2}?(?:\d+ (?:million|billion)|million|billion|forecasts|the charts?|charts?)|"
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
        + r"|20\d\d|next year)|"
        r"on (?:its|the) slate|release (?:date )?(?:is )?set for|set for release)\b",
    ),
    (
        "greenlit",
        r"\b(?:green ?(?:lit|light(?:s|ed|ing)?)|go ahead|(?:is|it's|its|officially) (?:a )?go|"
        r"(?:officially|is|it's) happening|(?<!in )order(?:s|ed)|commission(?:s|ed)|"
        r"approv(?:e|es|ed|al)|signs? off|signed off|"
        r"(?:officially )?mov(?:es|ed|ing) forward(?! with (?:development|a script|the script))|"
        r"confirm(?:s|ed)? (?:the |a |that )?(?:sequel|qfilmq|third film|fifth film|film|movie)"
        r"(?! (?:is|script|has|will|would|that))|"
        r"qfilmq (?:is |has been )?(?:officially )?confirmed)\b",
    ),
    (
        "in_development",
        r"\b(?:(?:in|into|back in|under|enters?|heads? into) (?:early |active )?development|"
        r"develop(?:s|ing|ed)?|in the works|working on|writ(?:e|es|ing|ten)|wrote|"
        r"co (?:wrote|writing|written|write|writer)|pen(?:s|ned|ning)?|scripts?|scripting|"
        r"screenplay|drafts?|drafting|rewrit\w*|writers?|"
        r"(?:to|will) (?:direct|helm)|direct(?:s|ing)|at the helm|"
        r"director (?:is |has been )?(?:attached|hired|on board|in place|set|found)|"
        r"(?:has|have|finds?|found|lands?|landed|gets?|got) (?:a|an|its|their) (?:new )?"
        r"(?:writer|director|screenwriter|script)|attached|on board|"
        r"board(?:s|ed)? (?:qfilmq )?as (?:a )?(?:co )?(?:writer|director|screenwriter))\b",
    ),
    (
        "rumored",
        r"\b(?:rumou?r(?:s|ed|ing)?|speculat\w*|theor(?:y|ies)|in (?:early |preliminary |"
        r"initial )?(?:talks|discussions|negotiations)|negotiat\w*|preliminary (?:conversations|"
        r"talks|discussions)|early talks|talks (?:could|may|might)|eye(?:s|ing|d)? (?:a |an )?"
        r"(?:return|qfilmq)|considering|exploring|mulling|circling|pitch(?:ed|ing)|"
        r"in the cards|would love|'d love|d love|in a heartbeat|in a second|hop(?:e|es|ed|ing)|"
        r"wants? (?:to|another|a)|wish(?:es|ed|ing)?|dream(?:s|ed|ing|t)?|teas(?:e|es|ed|ing)|"
        r"hint(?:s|ed|ing)?|wonder(?:s|ed|ing)?|campaign(?:s|ed|ing)?|stirring|reportedly|"
        r"sources? (?:say|said|claim)|insiders? (?:say|said|claim)|reports? (?:says?|said|"
        r"claims?|suggests?)|according to (?:a |an )?(?:\S+ )?(?:reports?|insiders?|sources?)|"
        r"per (?:a )?report)\b",
    ),
    (
        "project",
        r"\b(?:return(?:s|ing)?|come back|coming back|be back|reprise\w*|"
        r"do (?:it|one|a|another|the)|make (?:it|one|a|another|the)|happen|happening|"
        r"get (?:a|another) (?:sequel|third)|join|be part)\b",
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
HEDGES = (
    r"\b(?:could|might|may|would|\w+'d|should|possibly|potentially|perhaps|maybe|likely|"
    r"unlikely|possible|potential|in (?:early |preliminary )?(?:talks|negotiations)|eye(?:s|ing)|"
    r"considering|exploring|hop(?:e|es|ed|ing)|wants?|wish(?:es|ed|ing)?|would love|"
    r"teas(?:e|es|ed|ing)|hint(?:s|ed|ing)?|wonder(?:s|ed|ing)?|speculat\w*|tipped|angling|"
    r"pushing for|lobbying)\b"
)
# Reporting frames: scope over the whole sentence, wherever they are.
FRAMES = (
    r"\b(?:reportedly|allegedly|apparently|supposedly|rumou?red|rumou?rs?|sources?|insiders?|"
    r"per (?:a )?report|according to (?:a |an )?(?:\S+ )?(?:report|insider|source)s?|"
    r"reports? (?:say|said|says|suggest\w*|claim\w*|indicate\w*)|(?:is|are|was) said to|"
    r"claims?|if|whether|unconfirmed|speculation)\b"
)
WISHES = (
    r"\b(?:would love|'d love|d love|in a heartbeat|hop(?:e|es|ed|ing)|wants?|wish(?:es|ed|ing)?|"
    r"dream(?:s|ed|ing|t)?)\b"
)
PROXIMITY = (
    r"\b(?:close to|so close|closer to|nearly|almost|near|nearing|on the verge of|verge of|"
    r"edging (?:closer )?(?:to|toward|towards)|inching (?:closer )?(?:to|toward|towards)|"
    r"one step (?:away )?from|just shy of|on the cusp of|within reach of|approaching)\b"
)
PLANNED = (
    r"\b(?:will|\w+'ll|shall|to|ahead of|before|when|once|until|in time for|gearing up|"
    r"preparing|poised|about to|due|expected|scheduled|slated|plans?|planning|aims?|aiming)\b"
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
    r"\b(?:back |)(?:in|during|since|of) (?:(?:early|late|mid) )?(?:(?:"
    + MONTHS
    + r") )?((?:19|20)\d\d)\b"
)
# Framing of a whole sentence as a look back.
RETRO_FRAMES = (
    r"\b(?:recall\w*|remember\w*|looks? back|looking back|look back|reflect\w*|turns \d+|"
    r"anniversary|(?:one|a|two|three|five|ten|twenty|\d+) years? (?:later|on)|the making of|"
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
    }
)
