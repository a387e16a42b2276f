"""Other ways people name a choice ("maîtrise", "PhD", "résident permanent"), kept in the catalogs.

Each entry is a `|`-separated list in each language; both languages are accepted whatever the
person's language, as labels are.
"""

from __future__ import annotations

from rules import N_

SYNONYMS = {
    ("education", "bachelor_final_year"): N_("synonyms.education.bachelor_final_year"),
    ("education", "bachelor_in_progress"): N_("synonyms.education.bachelor_in_progress"),
    ("education", "master_in_progress"): N_("synonyms.education.master_in_progress"),
    ("education", "phd_in_progress"): N_("synonyms.education.phd_in_progress"),
    ("education", "bar_school"): N_("synonyms.education.bar_school"),
    ("education", "graduated"): N_("synonyms.education.graduated"),
    ("education", "none"): N_("synonyms.education.none"),
    ("highest_degree", "none"): N_("synonyms.highest_degree.none"),
    ("highest_degree", "bachelor"): N_("synonyms.highest_degree.bachelor"),
    ("highest_degree", "master"): N_("synonyms.highest_degree.master"),
    ("highest_degree", "phd"): N_("synonyms.highest_degree.phd"),
    ("citizenship", "canadian"): N_("synonyms.citizenship.canadian"),
    ("citizenship", "permanent_resident"): N_("synonyms.citizenship.permanent_resident"),
    ("citizenship", "other"): N_("synonyms.citizenship.other"),
    ("french_writing", "excellent"): N_("synonyms.level.excellent"),
    ("french_writing", "good"): N_("synonyms.level.good"),
    ("french_writing", "basic"): N_("synonyms.level.basic"),
    ("english_writing", "excellent"): N_("synonyms.level.excellent"),
    ("english_writing", "good"): N_("synonyms.level.good"),
    ("english_writing", "basic"): N_("synonyms.level.basic"),
    ("field_of_study", "economics"): N_("synonyms.field_of_study.economics"),
    ("field_of_study", "international_relations"): N_("synonyms.field_of_study.international_relations"),
    ("field_of_study", "business"): N_("synonyms.field_of_study.business"),
    ("field_of_study", "social_sciences"): N_("synonyms.field_of_study.social_sciences"),
    ("field_of_study", "law"): N_("synonyms.field_of_study.law"),
    ("field_of_study", "development"): N_("synonyms.field_of_study.development"),
    ("field_of_study", "international_affairs"): N_("synonyms.field_of_study.international_affairs"),
    ("field_of_study", "other"): N_("synonyms.field_of_study.other"),
}
