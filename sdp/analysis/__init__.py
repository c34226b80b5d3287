"""Root-cause analysis against the warehouse: observations in, findings table out."""
