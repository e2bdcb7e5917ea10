"""Five-category loan classification (贷款五级分类, DOMAIN.md s.4, seed 002 chapter 3).

Quantitative category from consecutive missed periods, optional days-past-due backstops,
qualitative adjustment from risk signals, borrower-level consistency and audited manual
overrides; every result says which rules fired, in English and Chinese.

Examples
--------
>>> from riskkit.classification import Classifier
>>> Classifier()
Classifier(policy='defaults', borrower_consistency=False, dpd_backstops=True)
"""

from .classifier import ClassificationResult, Classifier, category_summary
from .history import (
    ClassificationChanges,
    ClassificationHistory,
    compare,
    load_classification,
    migration_matrix,
    save_classification,
)
from .overrides import effective_overrides, load_overrides, record_overrides, validate_overrides
from .rules import RULE_CODES, RULES, apply_rules, quantitative_category, rule_codes

__all__ = [
    "RULES",
    "RULE_CODES",
    "ClassificationChanges",
    "ClassificationHistory",
    "ClassificationResult",
    "Classifier",
    "apply_rules",
    "category_summary",
    "compare",
    "load_classification",
    "migration_matrix",
    "save_classification",
    "effective_overrides",
    "load_overrides",
    "quantitative_category",
    "record_overrides",
    "rule_codes",
    "validate_overrides",
]
