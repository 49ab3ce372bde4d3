"""``inkling demo``: a month of a support team, made through Inkling's real intake.

Acme sells software; its support has three teams on three clocks: billing in
Europe/Berlin (Berlin's public holidays), technical in America/New_York (New York's) and
onboarding in Asia/Singapore (Singapore's), twenty agents in all and a lead. The demo
draws 2,000 tickets and 6,000 replies over the 30 days before now (seeded: the same seed
and the same now give the same month), and stores them as a helpdesk and an email service
provider would hand them over: tickets as upserts, everything else as lines of an events
import, judged by the real classifier; the queue and the reports are the real playbook's
and metrics' reading of them. ``company.py`` holds the teams, links and topics,
``customers.py`` the people, ``devices.py`` what their mail apps, proxies and gateways
send, ``conversation.py`` one ticket played out, ``month.py`` the month, ``stories.py``
five tickets written by hand, ``filling.py`` the writing. The demo fills only an empty
data dir (and writes its settings there: ``settings.py``); on the data dir it filled it
only serves again, with a new password for the lead; one holding other data it refuses.

The mix, and where it comes from (assumptions, unless a source is named; the sources are
those of ``tests/classify/scenarios.py`` and docs/signals.md):

- Tickets arrive on weekdays (weekends 0.35 as busy) in the team's working hours
  (nights 0.08); billing 35 %, technical 40 %, onboarding 25 %. Priorities by topic,
  about 15 % low, 60 % normal, 18 % high, 7 % urgent.
- Replies per ticket: 1 plus a geometric number, 2 (an invoice copy) to 5 (SAML errors)
  on average by topic, 1.1 for a dunning notice; the month is settled to exactly 6,000.
  Agents answer in business hours, the first reply after about 1.2 business hours
  (median, log-normal), later ones after 2.5; customers answer about 25 minutes after
  reading (median).
- Requesters: at a company for 30 % (billing) to 65 % (technical) of tickets, at one of
  26 companies of very different sizes (Zipf-like), 80 % of them in the team's region.
  Companies' gateways: Defender Safe Links 45 %, Proofpoint 15 %, Mimecast 10 %, none
  30 %; a fifth of company tickets copy in a colleague.
- Mail set-ups (Litmus's client shares, shifted toward business readers): at home
  Apple Mail with Privacy Protection 40 %, Gmail 36 %, Outlook.com in a browser 9 %,
  Yahoo 6 %, Mail on an iPhone without Privacy Protection 5 %, Thunderbird 4 %; at work
  Outlook 62 % (half of them block images), Apple Mail with Privacy Protection 22 %,
  Google Workspace 10 %, iPhone Mail and Thunderbird 3 % each. Apple's proxy so touches
  about a third of the mail.
- Machines: Apple's proxy fetches each copy within a minute (80 %, Movable Ink) or hours;
  Gmail fetches at delivery now and then (4.5 %, GMass); gateways follow every link in
  one to three seconds (Safe Links with the outdated Chromes it is known for).
- People: read 90 % of the replies they do not answer (3 % of the dunning notices
  "Action required: your payment did not go through"); first look within minutes (35 %),
  that day (40 %) or days later (25 %), never at night where they live; look again with
  45 % each time; follow a link as likely as its appeal (2 % for the getting-started guide,
  60 % for the SAML article); 3 % of replies meet an out-of-office reply, and its person
  reads when back. A link that does not solve it brings the customer back (a reply, or
  with 45 % a new ticket within a week): the SAML article solves 12 % of the time, the
  others 85 to 92 %. A reply offers each of its topic's links with 25 % before Bayes'
  rule is applied: the month fixes in advance whether a reply is answered, so a link
  that solves turns up more in replies that end a ticket (``conversation._links``).
- Bounces: 1.2 % of home addresses do not exist (5.1.1), 0.5 % of mailboxes are full,
  0.2 % of tickets meet a server that refuses Acme's own sending (5.7.26).
- Every copy delivered is reported by the provider (a ``delivered`` event, a second
  after sending); every event is dropped that would come after ``now``.
- Tickets end solved with the last reply (half), by the helpdesk after three business
  days of silence (the other half), or after a "thanks" (12 %); solved tickets close four
  days later. What is still going on at ``now`` is the queue.
"""

from inkling.demo.company import LEAD, TEAMS
from inkling.demo.filling import (
    REPLIES,
    SEED,
    TICKETS,
    Filled,
    Freshness,
    fill,
    freshness,
    renew_password,
)
from inkling.demo.glance import Glance, glance
from inkling.demo.settings import settings_text, write_settings
from inkling.demo.stories import Story

__all__ = [
    "LEAD",
    "REPLIES",
    "SEED",
    "TEAMS",
    "TICKETS",
    "Filled",
    "Freshness",
    "Glance",
    "Story",
    "fill",
    "freshness",
    "glance",
    "renew_password",
    "settings_text",
    "write_settings",
]
