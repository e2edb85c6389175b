"""Status classifier: which watched film a news story is about, and what stage it reports.

    from bot.classify import Classifier
    c = Classifier(films)                       # compiles everything once
    c.classify(title, summary, published)       # -> list[Signal], at most one per film

How a story is read
===================

1. **Sentences.** The headline and each summary sentence are read separately; the evidence
   quoted with a signal is the one sentence that carries the winning reading.
2. **Films** (``films.py``). One combined trie-regex finds every title, alias and original
   title. A film's own names are mentions of it; an original's title counts for its sequel
   only with a sequel marker beside it ("a third Top Gun", "the Beetlejuice sequel"), and a
   name followed by a numeral that is not its own ("Gladiator 3") is another film. Ambiguous
   names (one plain word, or a title written in lower case) need film vocabulary in the
   story, and capitalisation that is not part of a longer name ("Elio Germano").
   An original's title directly followed by "reunion"/"revival"/"reboot" ("a Freaky Friday
   reunion") is the follow-up too.
3. **Cues** (``lexicon.py``, ``cues.py``). Each sentence is scanned once for event cues
   (developing, greenlit, casting, filming, wrapped, the finished film, in theaters,
   cancelled, revived, delayed, production halted, talk/rumour, a reporting frame, "would
   return"). Verb vocabulary is written as lemmas and phrasal lemmas ("pull the plug",
   "kick off") and every inflection is generated (``morph.py``), so "greenlighting",
   "buries" or "shelves" need no separate entry; a subject noun may be separated from its
   verb by auxiliaries, modals and "on <film>" ("shooting on the sequel will finish",
   "cameras are due to roll"). Separately, each cue is checked for negation and its scope,
   hedges and reporting frames (including epistemic verbs, "whispers of", "said to be"),
   wishes and willingness ("is game for", "would jump at"), proximity ("close to"), plans
   ("starts shooting in May", a future auxiliary inside the cue, headline "set for summer
   shoot") and retrospect ("back in 2019"). Scope stops at clause punctuation, contrast
   words and subordinators ("won't film *until* the script is done").
4. **Attribution.** A cue belongs to the nearest film mention in its clause (coordinated
   mentions share it); a sentence with no mention continues the story's first film; a cue
   nearest to an original or other film is dropped. A title that names a person ("Sinners
   star …", "Twisters director …") does not take that person's casting, writing, talks or
   wishes: those are their own next project.

What each cue means (``resolve.interpret``)
===========================================

* asserted stage cue → that stage;
* negated → nothing, except *not (officially/yet) greenlit* → ``in_development``: it
  presupposes a project awaiting approval, whereas "isn't filming yet" leaves several stages
  open, and "no shoot scheduled" denies a date, not an approval. "Not dead"/"hasn't been
  cancelled" is therefore never ``cancelled``; "not ruling it out"/"never say never" carry
  their own negation and are ``rumored``;
* a reporting frame ("sources say", "reportedly") is a rumour only when the sentence has no
  other cue: otherwise it just hedges what it frames, so "a source said there is no shoot
  scheduled" reports nothing;
* hedged, reported, wished or asked (could, may, reportedly, sources say, in talks, if, "?",
  would love, in a heartbeat) → ``rumored`` when about the film being made (development
  through filming), nothing when about release, wrap or cancellation — a rumour that an
  existing film might be moved is not a stage. We chose "rumored" over "the stage below"
  because a hedge says nothing about how far the real project has got;
* nearly reached (close to / on the verge of / almost greenlit) → the stage below
  (``in_development`` for greenlit), except the finished film as a thing: "a near-complete
  film" is in post-production, not nearly shot;
* planned, not yet begun: filming → ``pre_production`` (a firm shooting date is preparation),
  greenlight → ``in_development``, release or wrap → nothing ("opens in July");
* retrospective (anchored in the past: "back in 2019", "originally", "in 2014" in a 2021
  story — but not "since 2015", which dates a state that still holds; or framed as a look
  back: "recalls", "turns 20", "thirty years of") → nothing, except a cancellation,
  which stands until something revives the film;
* delays ("pushed to 2026") → nothing, and a date mentioned in the same sentence is not read
  as a new release slot;
* production halted/paused → ``filming`` (it has started and has not wrapped);
* revival ("revived", "back on", "back in development") → ``in_development`` and lifts a
  cancellation.

Combining a story's readings for one film (``resolve.resolve``)
===============================================================

1. An asserted cancellation wins, unless the story revives the film, or the cancellation
   is retrospective and the story asserts later progress.
2. Otherwise the **most advanced asserted or derived stage** wins: stories report the latest
   step and mention earlier ones as background ("director hired … not officially greenlit"
   → development). Hedged readings never raise the stage.
3. Otherwise, if all that was said is talk, hedge or wish → ``rumored``.
4. Otherwise no signal.

Confidence
==========

Base by kind — asserted 0.9, revival 0.85, derived 0.75, plain talk 0.65, hedged 0.55,
wish 0.5 — times position (headline 1.0, summary sentences 0.95 falling by 0.03 each), times
how sure the film link is (direct 1.0, via an original + marker 0.95, ambiguous name or a
sentence without a mention 0.9); a retrospective cancellation ×0.8; +0.04 for each other
sentence agreeing (up to two).
"""

from bot.classify.classifier import Classifier

__all__ = ["Classifier"]
