// Aspects in the document view: each aspect's term and opinion marked in the analysed text, and a list
// of them under it. Offsets are the API's code points (util.js `segments`). Server text only ever goes
// in through textContent / text nodes, never as markup.
import { pct, segments, SENTIMENT_LABELS } from "./util.js";

const POLARITIES = ["negative", "neutral", "positive"];
const polarityOf = (a) => (POLARITIES.includes(a.polarity) ? a.polarity : "neutral");
const categoryOf = (a) => a.aspect || "未归类 uncategorised";
const confidenceOf = (a) => (a.confidence == null ? "–" : pct(a.confidence));

function describe(a) {
  return `${categoryOf(a)} · ${SENTIMENT_LABELS[polarityOf(a)]} · 置信度 confidence ${confidenceOf(a)}`;
}

// The spans to mark: the term (where written) and the opinion of every aspect.
export function aspectSpans(aspects) {
  const spans = [];
  for (const [i, a] of (aspects || []).entries()) {
    const info = describe(a);
    if (a.term && a.term_start >= 0 && a.term_end > a.term_start) {
      spans.push({ start: a.term_start, end: a.term_end, index: i, classes: ["aspect-term"],
        title: `方面 term「${a.term}」 ${info}` });
    }
    if (a.end > a.start) {
      spans.push({ start: a.start, end: a.end, index: i, classes: ["aspect-opinion", `aspect-${polarityOf(a)}`],
        title: `观点 opinion「${a.opinion}」 ${info}` });
    }
  }
  return spans;
}

// The nodes of `text` with every span marked. A piece covered by several spans gets nested marks (one
// per span, outermost first), so overlapping spans never interleave tags; the innermost mark's title
// names every span covering it.
export function markedAspects(text, aspects, doc = document) {
  return segments(text, aspectSpans(aspects)).map((seg) => {
    let node = doc.createTextNode(seg.text);
    const titles = seg.spans.map((s) => s.title).join("\n");
    for (const span of [...seg.spans].reverse()) {
      const mark = doc.createElement("mark");
      mark.className = span.classes.join(" ");
      mark.dataset.aspect = String(span.index);
      mark.title = titles;
      mark.append(node);
      node = mark;
    }
    return node;
  });
}

// category · term · opinion · polarity · confidence, one row per aspect.
export function aspectList(aspects, doc = document) {
  const table = doc.createElement("table");
  table.className = "grid aspects";
  const head = table.createTHead().insertRow();
  for (const name of ["方面 aspect", "词 term", "观点 opinion", "情感 polarity", "置信度 conf."]) {
    const th = doc.createElement("th");
    th.textContent = name;
    head.append(th);
  }
  const body = table.createTBody();
  for (const [i, a] of (aspects || []).entries()) {
    const row = body.insertRow();
    row.dataset.aspect = String(i);
    const cells = [categoryOf(a), a.term || "（隐含 implicit）", a.opinion, SENTIMENT_LABELS[polarityOf(a)], confidenceOf(a)];
    for (const value of cells) row.insertCell().textContent = value ?? "";
    row.cells[3].className = `sent ${polarityOf(a)}`;
    row.cells[4].className = "n";
  }
  return table;
}

// The analysed text with its aspects marked, then the list; null when there are no aspects.
export function aspectView(text, aspects, { heading = "" } = {}) {
  if (!aspects?.length) return null;
  const box = document.createElement("section");
  box.className = "aspect-view";
  if (heading) {
    const h = document.createElement("h4");
    h.textContent = heading;
    box.append(h);
  }
  const p = document.createElement("p");
  p.className = "fulltext aspect-text";
  p.append(...markedAspects(text, aspects));
  box.append(p, aspectList(aspects));
  return box;
}
