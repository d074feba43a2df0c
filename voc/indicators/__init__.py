"""The indicator system (指标体系): tree and versions, import/export, mapping of VOC evidence onto it,
coverage, suggested new indicators from gaps, and their review. ``IndicatorService`` is the entry point."""
