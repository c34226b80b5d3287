"""Customer reconciliation with Zingg on Spark: dedupe inside CRM, link CRM to billing."""
