"""Ingest: readers, encodings, row validation, hotline turns and the all-or-nothing runner."""
