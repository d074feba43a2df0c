"""The indicator service the CLI and the REST API share. Every method returns plain dicts/lists.

    svc = IndicatorService(Voc())
    svc.import_tree(Path("tree.xlsx"), author="alice")
    svc.coverage(); svc.suggest(); svc.review("s-…", "accept", reviewer="alice")
"""

from __future__ import annotations

import math
import shutil
import uuid
from collections.abc import Sequence
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from voc.exemplars import Calibration, default_calibration_path
from voc.indicators.corpus import DocView, iter_docs, scope_conditions
from voc.indicators.coverage import coverage
from voc.indicators.embedding import Encoder
from voc.indicators.examples import learn, load_learned, read_examples
from voc.indicators.gaps.contextual import ContextualTerms
from voc.indicators.gaps.finder import find_gaps
from voc.indicators.io import IndicatorFileError, dump_tree, parse_tree, read_tree
from voc.indicators.mapping import Mapper
from voc.indicators.model import IndicatorTree, diff_trees
from voc.indicators.review import ACTIONS, STATUS_OF, ReviewError, accept, merge, same_evidence
from voc.indicators.rules import Rule, parse_rule
from voc.indicators.rules.indicators import rule_problems
from voc.indicators.rules.preview import preview
from voc.indicators.store import IndicatorStore
from voc.indicators.suggest import suggestion_id
from voc.indicators.tables import indicator_mapped
from voc.service import Voc
from voc.store import documents

__all__ = ["IndicatorFileError", "IndicatorNotFound", "IndicatorService", "ReviewError"]
BACKGROUND = 2000  # stored documents that serve as negatives when learning from examples (ids are hashes: a spread)
MIN_SHARE = 0.01  # default minimum volume of a suggestion: 1% of documents, at least 5


class IndicatorNotFound(LookupError):
    """No indicator system yet, or no such version, suggestion or template."""


def template_dir() -> Path:
    return Path(str(resources.files("voc.indicators") / "templates"))


class IndicatorService:
    def __init__(self, voc: Voc, encoder: Encoder | None = None) -> None:
        self.voc = voc
        self.encoder = encoder

    @cached_property
    def contextual_terms(self) -> ContextualTerms:
        """Encoder vectors of candidate terms, cached for the life of the service."""
        return ContextualTerms()

    @cached_property
    def store(self) -> IndicatorStore:
        return IndicatorStore(self.voc.store.engine)

    def _begin(self) -> Any:
        return self.voc.store.engine.begin()

    # --- the tree -----------------------------------------------------------------------------
    def tree(self, version: int | None = None) -> IndicatorTree:
        with self.voc.store.engine.connect() as conn:
            tree = self.store.tree(conn, version)
        if tree is None:
            raise IndicatorNotFound(f"no indicator system version {version}" if version else
                                    "no indicator system yet: import one with `voc indicators import FILE` "
                                    "or `--template NAME`")
        return tree

    def import_tree(self, source: Path | dict[str, Any] | list[Any] | IndicatorTree, *, fmt: str | None = None,
                    author: str = "unknown", note: str = "") -> dict[str, Any]:
        """Store a tree (file, parsed data or tree) as a new version. A bad file stores nothing."""
        if isinstance(source, IndicatorTree):
            tree = source
        elif isinstance(source, Path):
            tree = read_tree(source, fmt)
        else:
            tree = parse_tree(source)
        problems = rule_problems((loc.node for loc in tree.walk()), self.voc.tokenizer)
        if problems:
            raise IndicatorFileError("; ".join(problems[:5]))
        with self._begin() as conn:
            previous = self.store.tree(conn)
            version = self.store.save_tree(conn, tree, author, note)
            changes = diff_trees(previous, tree) if previous else None
            self.store.audit(conn, author, "tree.import", None, version, {
                "note": note, "source": str(source) if isinstance(source, Path) else type(source).__name__,
                "nodes": len(tree.ids()),
                **({"added": len(changes["added"]), "removed": len(changes["removed"]),
                    "changed": len(changes["changed"])} if changes else {})})
        return {"version": version, "name": tree.name, "nodes": len(tree.ids()),
                "indicators": sum(1 for loc in tree.walk() if not loc.node.is_group)}

    def templates(self) -> list[dict[str, Any]]:
        out = []
        for path in sorted(template_dir().glob("*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            tree = parse_tree(data, path.name)
            out.append({"template": path.stem, "name": tree.name, "description": data.get("description", ""),
                        "nodes": len(tree.ids())})
        return out

    def import_template(self, name: str, *, author: str = "unknown", note: str = "") -> dict[str, Any]:
        path = template_dir() / f"{name}.yaml"
        if not path.is_file():
            known = ", ".join(t["template"] for t in self.templates())
            raise IndicatorNotFound(f"no template {name!r} (templates: {known})")
        return self.import_tree(path, author=author, note=note or f"template {name}")

    def export_tree(self, fmt: str = "yaml", version: int | None = None) -> bytes:
        return dump_tree(self.tree(version), fmt)

    def show(self, version: int | None = None) -> dict[str, Any]:
        tree = self.tree(version)
        return {**tree.to_dict(), "nodes": len(tree.ids()),
                "indicators_count": sum(1 for loc in tree.walk() if not loc.node.is_group)}

    def versions(self) -> list[dict[str, Any]]:
        with self.voc.store.engine.connect() as conn:
            return self.store.versions(conn)

    def diff(self, old: int, new: int | None = None) -> dict[str, Any]:
        return diff_trees(self.tree(old), self.tree(new))

    def audit(self, limit: int = 200, target: str | None = None) -> list[dict[str, Any]]:
        with self.voc.store.engine.connect() as conn:
            return self.store.audit_log(conn, limit, target)

    # --- mapping and coverage -----------------------------------------------------------------
    def mapper(self, tree: IndicatorTree) -> Mapper:
        exemplars = load_learned(self.examples_dir)
        calibration = Calibration.load(default_calibration_path()) if exemplars is not None else None
        return Mapper(tree, self.voc.tokenizer, self.encoder, exemplars=exemplars, calibration=calibration)

    @property
    def examples_dir(self) -> Path:
        return self.voc.settings.home / "models" / "exemplars"

    def learn_examples(self, path: Path, text_column: str | None = None,
                       label_column: str | None = None) -> dict[str, Any]:
        """Learn the current tree's indicators from labelled examples, then map every document again."""
        tree = self.tree()
        examples = read_examples(path, tree, self.voc.normalizer, text_column, label_column)
        staging = self._aside("tmp")
        with self.voc.store.engine.connect() as conn:
            background = list(conn.scalars(select(documents.c.text).order_by(documents.c.id).limit(BACKGROUND)))
        try:
            summary = learn(examples, tree, self.voc.tokenizer.segment, staging, background)
            # swapped in whole, last writer wins: a mapper never reads half of an old model and half of a
            # new one, and two learners (the API's job, a CLI run) never share a staging directory
            for _ in range(3):
                self._move_aside()
                try:
                    staging.rename(self.examples_dir)
                    break
                except OSError:  # another writer published between the two renames: move it aside too
                    continue
            else:
                raise RuntimeError(f"could not publish the learned model in {self.examples_dir}")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        summary["mapping"] = self.map_documents(full=True)
        return summary

    def forget_examples(self) -> bool:
        """Drop the learned model (mapping goes back to keywords, aspects and rules) and map again."""
        if not self._move_aside():
            return False
        self.map_documents(full=True)
        return True

    def _aside(self, kind: str) -> Path:
        return self.examples_dir.with_name(f"exemplars.{uuid.uuid4().hex}.{kind}")

    def _move_aside(self) -> bool:
        """Take the learned model out of use in one rename (readers see it whole or not at all), then delete it."""
        trash = self._aside("old")
        try:
            self.examples_dir.rename(trash)
        except FileNotFoundError:
            return False
        shutil.rmtree(trash, ignore_errors=True)
        return True

    def map_documents(self, *, full: bool = False) -> dict[str, Any]:
        """Map documents not yet mapped for the current version (all of them with ``full``)."""
        tree = self.tree()
        mapper = self.mapper(tree)
        with self.voc.store.engine.connect() as conn:
            done = set() if full else self.store.mapped_ids(conn, tree.version)
        mapped = 0
        for batch in iter_docs(self.voc.store.engine):
            todo = [doc for doc in batch if doc.id not in done]
            if not todo:
                continue
            mentions = [m.to_dict() for mapping in mapper.map_many(todo) for m in mapping.mentions]
            with self._begin() as conn:
                self.store.write_mapping(conn, tree.version, [d.id for d in todo], mentions)
            mapped += len(todo)
        return {"version": tree.version, "mapped": mapped}

    def coverage(self, *, sources: Sequence[str] = (), industries: Sequence[str] = ()) -> dict[str, Any]:
        """Coverage of the current tree, over all documents or one business line (sources, industries)."""
        tree = self.tree()
        self.map_documents()
        with self.voc.store.engine.connect() as conn:
            mapped_ids = select(indicator_mapped.c.document_id).where(indicator_mapped.c.version == tree.version)
            created = dict(conn.execute(select(documents.c.id, documents.c.created_at)
                                        .where(documents.c.id.in_(mapped_ids),
                                               *scope_conditions(sources, industries))).all())
            mentions = [m for m in self.store.mentions(conn, tree.version) if m["document_id"] in created]
        return coverage(tree, mentions, created, len(created))

    def preview_rule(self, rule: str | Rule, *, limit: int = 20, sources: Sequence[str] = (),
                     industries: Sequence[str] = (), max_documents: int | None = None) -> dict[str, Any]:
        """How a rule would match the stored documents (no indicator tree needed); raises
        ``RuleSyntaxError`` for a bad rule."""
        parsed = rule if isinstance(rule, Rule) else parse_rule(rule, self.voc.tokenizer)
        batches = iter_docs(self.voc.store.engine, sources=sources, industries=industries)
        return preview(parsed, batches, self.voc.tokenizer, limit=limit, max_documents=max_documents)

    # --- suggestions and review ---------------------------------------------------------------
    def suggest(self, *, min_count: int | None = None, min_share: float = MIN_SHARE, topics: bool = True,
                sources: Sequence[str] = (), industries: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Recompute pending suggestions from the corpus (or one business line: sources, industries);
        reviewed ones are never re-proposed on the same evidence."""
        tree = self.tree()

        def store_mapping(batch: list[DocView], mentions: list[dict[str, Any]]) -> None:
            with self._begin() as conn:
                self.store.write_mapping(conn, tree.version, [d.id for d in batch], mentions)

        run = find_gaps(tree, self.mapper(tree), iter_docs(self.voc.store.engine, sources=sources,
                                                           industries=industries),
                        self.contextual_terms, min_count=lambda n: min_count or max(5, math.ceil(min_share * n)),
                        topic_keywords=self._topic_keywords if topics else None, on_mapped=store_mapping)
        proposed = run.suggestions
        with self._begin() as conn:
            reviewed = self.store.suggestions(conn, ("accepted", "merged", "rejected"))
            kept = [s for s in proposed if not any(same_evidence(s, r) for r in reviewed)]
            taken = {r["id"] for r in reviewed}
            for item in kept:
                base, k = item["id"], 1
                while item["id"] in taken:  # came back on fresh evidence: a new suggestion, not the old one
                    k += 1
                    item["id"] = suggestion_id(f"{item['name']}#{base}#{k}")
                taken.add(item["id"])
            self.store.replace_pending(conn, kept, tree.version)
            self.store.audit(conn, "system", "suggestions.generate", None, tree.version, {
                "pending": len(kept), "suppressed_as_reviewed": len(proposed) - len(kept),
                "candidates": len(run.groups), "min_count": run.min_count})
        return self.suggestions(("pending",))

    def _topic_keywords(self) -> dict[int, list[str]]:
        """Keywords per topic of the last build (none before the first `voc topics build`)."""
        return {topic.id: list(topic.keywords) for topic in self.voc.topics.list_topics()}

    def suggestions(self, status: tuple[str, ...] | list[str] = ()) -> list[dict[str, Any]]:
        with self.voc.store.engine.connect() as conn:
            return self.store.suggestions(conn, tuple(status))

    def suggestion(self, suggestion_id: str) -> dict[str, Any]:
        with self.voc.store.engine.connect() as conn:
            found = self.store.suggestion(conn, suggestion_id)
        if found is None:
            raise IndicatorNotFound(f"no suggestion {suggestion_id!r}")
        return found

    def review(self, suggestion_id: str, action: str, *, reviewer: str, reason: str | None = None,
               target: str | None = None, parent: str | None = None, name: str | None = None) -> dict[str, Any]:
        """accept (new tree version with the indicator), merge (keywords into ``target``) or reject."""
        if action not in ACTIONS:
            raise ReviewError(f"unknown review action {action!r} (one of {', '.join(ACTIONS)})")
        suggestion = self.suggestion(suggestion_id)
        if suggestion["status"] != "pending":
            raise ReviewError(f"suggestion {suggestion_id} is already {suggestion['status']}")
        if action == "reject" and not (reason and reason.strip()):
            raise ReviewError("a rejection needs a reason (--reason)")
        if action == "merge" and not target:
            raise ReviewError("merging needs the indicator to merge into (--merge-into IND)")
        tree = self.tree()
        result: dict[str, Any] = {}
        with self._begin() as conn:
            version, node_id = None, None
            if action == "accept":
                new_tree, node = accept(tree, suggestion, parent=parent, name=name)
                version = self.store.save_tree(conn, new_tree, reviewer, f"accepted suggestion {suggestion_id}")
                node_id = node.id
                result["indicator"] = new_tree.find(node.id).node.to_dict()
            elif action == "merge":
                new_tree, added = merge(tree, suggestion, target or "")
                version = self.store.save_tree(conn, new_tree, reviewer,
                                               f"merged suggestion {suggestion_id} into {target}")
                node_id, result["keywords_added"] = target, added
            self.store.review(conn, suggestion_id, STATUS_OF[action], reviewer, reason, node_id, version)
            self.store.audit(conn, reviewer, f"suggestion.{action}", suggestion_id, version, {
                "name": suggestion["name"], "reason": reason, "indicator": node_id, **result})
        return {**self.suggestion(suggestion_id), "version": version or tree.version, **result}
