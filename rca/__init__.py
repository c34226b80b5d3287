"""Root-cause analysis as a plain library: data frames and graphs in, ranked findings out.

It imports neither Dagster nor the warehouse driver, so analysts and tests can call it directly.
"""
