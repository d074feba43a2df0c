"""Gap suggestions: themes customers evaluate that no indicator covers (candidates, grouping, evidence)."""
