import Foundation
import LiaisonProtocol

/// The facts of the seed document (NCTV, "Internationale samenwerking") as rows of the cooperation dataset.
///
/// Ids are stable slugs so that every replica initialised with `--sample` holds the same rows.
enum SampleData {
    /// One sample row: its table, id and column values (without `id`, `scope` and `owner`'s defaults).
    struct Row: Sendable {
        var table: String
        var id: String
        var values: [String: CellValue]
    }

    /// Rows in an order that respects references (a row comes after the rows it points to).
    static let rows: [Row] = [
        // MARK: organisation — states and national agencies
        Row(
            table: "organisation", id: "org-nl",
            values: [
                "name": "Netherlands",
                "kind": "state",
                "country": "NL",
                "parent_id": .null,
                "description":
                    "The Netherlands; cooperates on counter-terrorism bilaterally, in the EU and multilaterally.",
                "scope": "public",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "organisation", id: "org-ma",
            values: [
                "name": "Morocco",
                "kind": "state",
                "country": "MA",
                "parent_id": .null,
                "description":
                    "Morocco; co-chairs the GCTF and its Foreign Terrorist Fighters working group with the Netherlands.",
                "scope": "public",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "organisation", id: "org-tr",
            values: [
                "name": "Turkey",
                "kind": "state",
                "country": "TR",
                "parent_id": .null,
                "description":
                    "Turkey; co-chairs the anti-ISIS coalition's Foreign Terrorist Fighters working group with the Netherlands.",
                "scope": "public",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "organisation", id: "org-nctv",
            values: [
                "name": "National Coordinator for Security and Counterterrorism (NCTV)",
                "kind": "agency",
                "country": "NL",
                "parent_id": "org-nl",
                "description":
                    "Dutch counter-terrorism coordinator; works with other governments and international bodies such as the EU and the UN.",
                "scope": "public",
                "owner": "NL-NCTV",
            ]),

        // MARK: organisation — international organisations
        Row(
            table: "organisation", id: "org-eu",
            values: [
                "name": "European Union",
                "kind": "international_organisation",
                "country": .null,
                "parent_id": .null,
                "description":
                    "European Union; forum for common counter-terrorism measures, information exchange and preventing radicalisation.",
                "scope": "eu",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "organisation", id: "org-un",
            values: [
                "name": "United Nations",
                "kind": "international_organisation",
                "country": .null,
                "parent_id": .null,
                "description": "United Nations; international partner of the NCTV in counter-terrorism.",
                "scope": "public",
                "owner": "NL-NCTV",
            ]),

        // MARK: organisation — EU bodies, units, networks and projects
        Row(
            table: "organisation", id: "org-europol",
            values: [
                "name": "Europol",
                "kind": "agency",
                "country": .null,
                "parent_id": "org-eu",
                "description": "EU law enforcement agency; hosts the Internet Referral Unit.",
                "scope": "eu",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "organisation", id: "org-europol-iru",
            values: [
                "name": "Internet Referral Unit (IRU)",
                "kind": "unit",
                "country": .null,
                "parent_id": "org-europol",
                "description": "Unit at Europol that works to undermine jihadist content on the internet.",
                "scope": "eu",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "organisation", id: "org-ran-coe",
            values: [
                "name": "Radicalisation Awareness Network Centre of Excellence (RAN CoE)",
                "kind": "network",
                "country": "NL",
                "parent_id": "org-eu",
                "description":
                    "Based in the Netherlands; brings first-line practitioners together to prevent radicalisation and can advise EU member states and other countries.",
                "scope": "eu",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "organisation", id: "org-sscat",
            values: [
                "name": "SSCAT",
                "kind": "project",
                "country": .null,
                "parent_id": "org-eu",
                "description": "European project supporting EU member states in developing counter-narratives.",
                "scope": "eu",
                "owner": "NL-NCTV",
            ]),

        // MARK: organisation — Global Counterterrorism Forum
        Row(
            table: "organisation", id: "org-gctf",
            values: [
                "name": "Global Counterterrorism Forum (GCTF)",
                "kind": "forum",
                "country": .null,
                "parent_id": .null,
                "description":
                    "International cooperation framework to prevent and combat terrorism; co-chaired by the Netherlands and Morocco.",
                "scope": "gctf",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "organisation", id: "org-gctf-ftf-wg",
            values: [
                "name": "GCTF Foreign Terrorist Fighters Working Group",
                "kind": "working_group",
                "country": .null,
                "parent_id": "org-gctf",
                "description":
                    "GCTF working group on foreign terrorist fighters; co-chaired by the Netherlands and Morocco.",
                "scope": "gctf",
                "owner": "NL-NCTV",
            ]),

        // MARK: organisation — anti-ISIS coalition
        Row(
            table: "organisation", id: "org-coalition",
            values: [
                "name": "Anti-ISIS Coalition",
                "kind": "coalition",
                "country": .null,
                "parent_id": .null,
                "description":
                    "International coalition against ISIS in which the Netherlands is militarily and diplomatically active.",
                "scope": "coalition",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "organisation", id: "org-coalition-ftf-wg",
            values: [
                "name": "Anti-ISIS Coalition Foreign Terrorist Fighters Working Group",
                "kind": "working_group",
                "country": .null,
                "parent_id": "org-coalition",
                "description":
                    "Coalition working group on foreign terrorist fighters; co-chaired by the Netherlands and Turkey.",
                "scope": "coalition",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "organisation", id: "org-coalition-cif-wg",
            values: [
                "name": "Anti-ISIS Coalition Counter-ISIS Financing Working Group",
                "kind": "working_group",
                "country": .null,
                "parent_id": "org-coalition",
                "description": "Coalition working group on countering financial flows to ISIS.",
                "scope": "coalition",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "organisation", id: "org-coalition-narrative-wg",
            values: [
                "name": "Anti-ISIS Coalition Inclusive Narrative Working Group",
                "kind": "working_group",
                "country": .null,
                "parent_id": "org-coalition",
                "description":
                    "Coalition working group developing an inclusive narrative in response to ISIS propaganda.",
                "scope": "coalition",
                "owner": "NL-NCTV",
            ]),

        // MARK: organisation — other multilateral bodies
        Row(
            table: "organisation", id: "org-fatf",
            values: [
                "name": "Financial Action Task Force (FATF)",
                "kind": "task_force",
                "country": .null,
                "parent_id": .null,
                "description":
                    "Intergovernmental body against money laundering and terrorist financing; the Netherlands is active in it.",
                "scope": "public",
                "owner": "NL-NCTV",
            ]),

        // MARK: membership — general
        Row(
            table: "membership", id: "mem-nctv-eu",
            values: [
                "organisation_id": "org-nctv",
                "body_id": "org-eu",
                "role": "participant",
                "since": .null,
                "until": .null,
                "note": "NCTV cooperates on counter-terrorism with the European Union.",
                "scope": "public",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "membership", id: "mem-nctv-un",
            values: [
                "organisation_id": "org-nctv",
                "body_id": "org-un",
                "role": "participant",
                "since": .null,
                "until": .null,
                "note": "NCTV cooperates on counter-terrorism with the United Nations.",
                "scope": "public",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "membership", id: "mem-nl-un",
            values: [
                "organisation_id": "org-nl",
                "body_id": "org-un",
                "role": "member",
                "since": .null,
                "until": .null,
                "note": .null,
                "scope": "public",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "membership", id: "mem-nl-fatf",
            values: [
                "organisation_id": "org-nl",
                "body_id": "org-fatf",
                "role": "member",
                "since": .null,
                "until": .null,
                "note": "The Netherlands is active in the FATF.",
                "scope": "public",
                "owner": "NL-NCTV",
            ]),

        // MARK: membership — European Union
        Row(
            table: "membership", id: "mem-nl-eu",
            values: [
                "organisation_id": "org-nl",
                "body_id": "org-eu",
                "role": "member",
                "since": .null,
                "until": .null,
                "note": "Presses for better information exchange between EU member states.",
                "scope": "eu",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "membership", id: "mem-nl-eu-presidency",
            values: [
                "organisation_id": "org-nl",
                "body_id": "org-eu",
                "role": "chair",
                "since": "2016-01",
                "until": "2016-06",
                "note":
                    "Dutch presidency of the EU in the first half of 2016; priority on concrete arrangements on information sharing.",
                "scope": "eu",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "membership", id: "mem-nl-ran-coe",
            values: [
                "organisation_id": "org-nl",
                "body_id": "org-ran-coe",
                "role": "host",
                "since": .null,
                "until": .null,
                "note": "RAN CoE is based in the Netherlands.",
                "scope": "eu",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "membership", id: "mem-europol-iru",
            values: [
                "organisation_id": "org-europol",
                "body_id": "org-europol-iru",
                "role": "host",
                "since": .null,
                "until": .null,
                "note": "The Internet Referral Unit is housed at Europol.",
                "scope": "eu",
                "owner": "NL-NCTV",
            ]),

        // MARK: membership — Global Counterterrorism Forum
        Row(
            table: "membership", id: "mem-nl-gctf",
            values: [
                "organisation_id": "org-nl",
                "body_id": "org-gctf",
                "role": "co_chair",
                "since": .null,
                "until": .null,
                "note": "Co-chair together with Morocco.",
                "scope": "gctf",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "membership", id: "mem-ma-gctf",
            values: [
                "organisation_id": "org-ma",
                "body_id": "org-gctf",
                "role": "co_chair",
                "since": .null,
                "until": .null,
                "note": "Co-chair together with the Netherlands.",
                "scope": "gctf",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "membership", id: "mem-nl-gctf-ftf-wg",
            values: [
                "organisation_id": "org-nl",
                "body_id": "org-gctf-ftf-wg",
                "role": "co_chair",
                "since": .null,
                "until": .null,
                "note": "Co-chair together with Morocco.",
                "scope": "gctf",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "membership", id: "mem-ma-gctf-ftf-wg",
            values: [
                "organisation_id": "org-ma",
                "body_id": "org-gctf-ftf-wg",
                "role": "co_chair",
                "since": .null,
                "until": .null,
                "note": "Co-chair together with the Netherlands.",
                "scope": "gctf",
                "owner": "NL-NCTV",
            ]),

        // MARK: membership — anti-ISIS coalition
        Row(
            table: "membership", id: "mem-nl-coalition",
            values: [
                "organisation_id": "org-nl",
                "body_id": "org-coalition",
                "role": "member",
                "since": .null,
                "until": .null,
                "note": "Militarily and diplomatically active.",
                "scope": "coalition",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "membership", id: "mem-nl-coalition-ftf-wg",
            values: [
                "organisation_id": "org-nl",
                "body_id": "org-coalition-ftf-wg",
                "role": "co_chair",
                "since": .null,
                "until": .null,
                "note": "Co-chair together with Turkey.",
                "scope": "coalition",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "membership", id: "mem-tr-coalition-ftf-wg",
            values: [
                "organisation_id": "org-tr",
                "body_id": "org-coalition-ftf-wg",
                "role": "co_chair",
                "since": .null,
                "until": .null,
                "note": "Co-chair together with the Netherlands.",
                "scope": "coalition",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "membership", id: "mem-nl-coalition-cif-wg",
            values: [
                "organisation_id": "org-nl",
                "body_id": "org-coalition-cif-wg",
                "role": "participant",
                "since": .null,
                "until": .null,
                "note": .null,
                "scope": "coalition",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "membership", id: "mem-nl-coalition-narrative-wg",
            values: [
                "organisation_id": "org-nl",
                "body_id": "org-coalition-narrative-wg",
                "role": "participant",
                "since": .null,
                "until": .null,
                "note": .null,
                "scope": "coalition",
                "owner": "NL-NCTV",
            ]),

        // MARK: topic
        Row(
            table: "topic", id: "topic-cve",
            values: [
                "name": "Countering violent extremism",
                "description":
                    "Preventing radicalisation and countering violent extremism, including sharing experience between countries.",
                "scope": "public",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "topic", id: "topic-counter-narratives",
            values: [
                "name": "Counter-narratives and strategic communication",
                "description":
                    "Creating counter-narratives and the role of strategic communication, e.g. an inclusive narrative against ISIS propaganda.",
                "scope": "public",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "topic", id: "topic-information-exchange",
            values: [
                "name": "Information exchange between countries",
                "description":
                    "Promoting (operational) information exchange between countries, e.g. on (potential) foreign terrorist fighters.",
                "scope": "public",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "topic", id: "topic-terrorist-financing",
            values: [
                "name": "Detecting and preventing terrorist financing",
                "description": "Detecting and preventing terrorist financing, including financial flows to ISIS.",
                "scope": "public",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "topic", id: "topic-ftf",
            values: [
                "name": "Stopping foreign terrorist fighters",
                "description": "Detecting, flagging and stopping foreign terrorist fighters and terrorist travel.",
                "scope": "public",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "topic", id: "topic-reintegration",
            values: [
                "name": "Reintegration and rehabilitation",
                "description": "Reintegration and rehabilitation aspects.",
                "scope": "public",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "topic", id: "topic-radicalisation-prevention",
            values: [
                "name": "Preventing radicalisation (integrated local approach)",
                "description":
                    "Common measures to prevent radicalisation, with attention to the integrated local approach to radicalisation and violent extremism.",
                "scope": "public",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "topic", id: "topic-online-content",
            values: [
                "name": "Undermining jihadist content online",
                "description": "Undermining jihadist content on the internet.",
                "scope": "public",
                "owner": "NL-NCTV",
            ]),

        // MARK: agenda_item — GCTF (all high on the agenda)
        Row(
            table: "agenda_item", id: "agenda-gctf-cve",
            values: [
                "body_id": "org-gctf",
                "topic_id": "topic-cve",
                "priority": 1,
                "scope": "gctf",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "agenda_item", id: "agenda-gctf-counter-narratives",
            values: [
                "body_id": "org-gctf",
                "topic_id": "topic-counter-narratives",
                "priority": 1,
                "scope": "gctf",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "agenda_item", id: "agenda-gctf-information-exchange",
            values: [
                "body_id": "org-gctf",
                "topic_id": "topic-information-exchange",
                "priority": 1,
                "scope": "gctf",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "agenda_item", id: "agenda-gctf-terrorist-financing",
            values: [
                "body_id": "org-gctf",
                "topic_id": "topic-terrorist-financing",
                "priority": 1,
                "scope": "gctf",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "agenda_item", id: "agenda-gctf-ftf",
            values: [
                "body_id": "org-gctf",
                "topic_id": "topic-ftf",
                "priority": 1,
                "scope": "gctf",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "agenda_item", id: "agenda-gctf-reintegration",
            values: [
                "body_id": "org-gctf",
                "topic_id": "topic-reintegration",
                "priority": 1,
                "scope": "gctf",
                "owner": "NL-NCTV",
            ]),

        // MARK: agenda_item — anti-ISIS coalition (the same topics; high where a working group exists)
        Row(
            table: "agenda_item", id: "agenda-coalition-cve",
            values: [
                "body_id": "org-coalition",
                "topic_id": "topic-cve",
                "priority": 2,
                "scope": "coalition",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "agenda_item", id: "agenda-coalition-counter-narratives",
            values: [
                "body_id": "org-coalition",
                "topic_id": "topic-counter-narratives",
                "priority": 1,
                "scope": "coalition",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "agenda_item", id: "agenda-coalition-information-exchange",
            values: [
                "body_id": "org-coalition",
                "topic_id": "topic-information-exchange",
                "priority": 2,
                "scope": "coalition",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "agenda_item", id: "agenda-coalition-terrorist-financing",
            values: [
                "body_id": "org-coalition",
                "topic_id": "topic-terrorist-financing",
                "priority": 1,
                "scope": "coalition",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "agenda_item", id: "agenda-coalition-ftf",
            values: [
                "body_id": "org-coalition",
                "topic_id": "topic-ftf",
                "priority": 1,
                "scope": "coalition",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "agenda_item", id: "agenda-coalition-reintegration",
            values: [
                "body_id": "org-coalition",
                "topic_id": "topic-reintegration",
                "priority": 2,
                "scope": "coalition",
                "owner": "NL-NCTV",
            ]),

        // MARK: agenda_item — European Union
        Row(
            table: "agenda_item", id: "agenda-eu-information-exchange",
            values: [
                "body_id": "org-eu",
                "topic_id": "topic-information-exchange",
                "priority": 1,
                "scope": "eu",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "agenda_item", id: "agenda-eu-radicalisation-prevention",
            values: [
                "body_id": "org-eu",
                "topic_id": "topic-radicalisation-prevention",
                "priority": 2,
                "scope": "eu",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "agenda_item", id: "agenda-eu-online-content",
            values: [
                "body_id": "org-eu",
                "topic_id": "topic-online-content",
                "priority": 2,
                "scope": "eu",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "agenda_item", id: "agenda-eu-counter-narratives",
            values: [
                "body_id": "org-eu",
                "topic_id": "topic-counter-narratives",
                "priority": 2,
                "scope": "eu",
                "owner": "NL-NCTV",
            ]),

        // MARK: agreement
        Row(
            table: "agreement", id: "agr-eu-info-exchange-roadmap",
            values: [
                "title": "EU roadmap on information sharing and the quality of information and systems",
                "kind": "roadmap",
                "body_id": "org-eu",
                "date": "2016-06",
                "status": "agreed",
                "scope": "eu",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "agreement", id: "agr-eu-ct-directive",
            values: [
                "title": "EU directive on combating terrorism",
                "kind": "directive",
                "body_id": "org-eu",
                "date": .null,
                "status": "in_preparation",
                "scope": "eu",
                "owner": "NL-NCTV",
            ]),

        // MARK: action — items of the 2016 EU information-exchange roadmap
        Row(
            table: "action", id: "act-roadmap-info-sharing",
            values: [
                "agreement_id": "agr-eu-info-exchange-roadmap",
                "title": "Agree concrete arrangements on information sharing between EU member states",
                "assignee_id": "org-nl",
                "due": "2016-06",
                "status": "done",
                "scope": "eu",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "action", id: "act-roadmap-info-quality",
            values: [
                "agreement_id": "agr-eu-info-exchange-roadmap",
                "title": "Improve the quality of information and of information systems",
                "assignee_id": "org-eu",
                "due": "2017-06",
                "status": "in_progress",
                "scope": "eu",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "action", id: "act-roadmap-early-detection",
            values: [
                "agreement_id": "agr-eu-info-exchange-roadmap",
                "title": "Detect, flag and stop terrorists and terrorist travel at an early stage",
                "assignee_id": "org-eu",
                "due": "2017-12",
                "status": "open",
                "scope": "eu",
                "owner": "NL-NCTV",
            ]),
        Row(
            table: "action", id: "act-roadmap-ftf-exchange",
            values: [
                "agreement_id": "agr-eu-info-exchange-roadmap",
                "title": "Strengthen operational information exchange on (potential) foreign terrorist fighters",
                "assignee_id": "org-nctv",
                "due": "2016-12",
                "status": "in_progress",
                "scope": "eu",
                "owner": "NL-NCTV",
            ]),
    ]
}
