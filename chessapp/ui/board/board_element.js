// The Café 1913 board element: lichess's chessground over the whole game tree.
//
// chessapp/ui/board_element.py puts the vendored chessground bundle (which
// defines ChessgroundLib) in front of this module and registers both as ONE
// inline components-v2 module. Python sends the tree once per game (see
// chessapp/view/board.py); the browser steps through it locally, so a step
// never waits for the server. It reports back:
//   state "path"     the current node's path key, 150 ms after the last step;
//   trigger "event"  {kind: "move" | "shapes" | "menu", path, ...}, one per user action.
// Nothing here puts payload text into HTML: text goes in with textContent only.

const { Chessground } = ChessgroundLib;

const FILES = "abcdefgh";
const PIECE_NAMES = { p: "pawn", n: "knight", b: "bishop", r: "rook", q: "queen", k: "king" };
// lichess's promotion order (ui/lib/src/game/promotion.ts): queen, knight, rook, bishop.
const PROMOTIONS = ["queen", "knight", "rook", "bishop"];
const KEY_HELP = [
  ["← / →", "previous / next move"],
  ["↑ / Home", "start"],
  ["↓ / End", "end of the line"],
  ["Shift+→ / Shift+←", "into / out of a variation"],
  ["f", "flip the board"],
  ["a", "best-move arrow on / off"],
  ["l", "live engine on / off"],
  ["Space", "play / pause (where autoplay is on)"],
  ["?", "this list"],
  ["right-drag", "draw (Shift red, Alt blue, Shift+Alt yellow)"],
];

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(className, label, text) {
  const b = el("button", className, text);
  b.type = "button";
  b.setAttribute("aria-label", label);
  b.title = label;
  return b;
}

function parentKey(key) {
  const i = key.lastIndexOf(".");
  return i < 0 ? "" : key.slice(0, i);
}

// A spoken description of the pieces of a FEN, for screen readers.
function describePosition(fen) {
  const rows = fen.split(" ")[0].split("/");
  const sides = { white: [], black: [] };
  rows.forEach((row, r) => {
    let file = 0;
    for (const ch of row) {
      if (/[1-8]/.test(ch)) { file += Number(ch); continue; }
      const side = ch === ch.toUpperCase() ? "white" : "black";
      sides[side].push(PIECE_NAMES[ch.toLowerCase()] + " " + FILES[file] + (8 - r));
      file += 1;
    }
  });
  return "White: " + sides.white.join(", ") + ". Black: " + sides.black.join(", ") + ".";
}

class BoardElement {
  constructor(host) {
    // Counts mounts, so tests can tell that new data did not re-mount the element.
    window.__c13bMounts = (window.__c13bMounts || 0) + 1;
    this.host = host;
    this.treeId = null;
    this.nodes = {};
    this.cells = new Map();
    this.current = "";
    this.cursorSeq = null;
    this.copiedSeq = null;
    this.showBest = false;
    this.playing = null;
    this.pending = null;
    this.reportTimer = null;
    this.reported = null;
    this.eventSeq = 0;
    this.readAloud = false;
    this.utterance = null;
    this.build();
  }

  build() {
    const root = el("div", "c13b");
    root.setAttribute("role", "group");
    root.setAttribute("aria-roledescription", "chess board");
    this.root = root;

    const main = el("div", "c13b-main");
    const boardBox = el("div", "c13b-boardbox");
    this.boardEl = el("div", "c13b-board");
    this.promoEl = el("div", "c13b-promo cg-wrap");
    this.promoEl.hidden = true;
    // The eval bar (when the page asks for it): as tall as the board, beside it.
    this.barEl = el("div", "c13b-bar");
    this.barEl.hidden = true;
    this.barEl.setAttribute("role", "img");
    this.barFill = el("div", "c13b-bar-white");
    this.barText = el("div", "c13b-bar-text");
    this.barEl.append(this.barFill, this.barText);
    const boardWrap = el("div", "c13b-boardwrap");
    boardWrap.append(this.boardEl, this.promoEl);
    boardBox.append(this.barEl, boardWrap);

    const side = el("div", "c13b-side");
    // The current move ("11. Nxd5"), when the page asks for it: it changes with the board.
    this.moveLabelEl = el("div", "c13b-current");
    this.moveLabelEl.hidden = true;
    side.appendChild(this.moveLabelEl);
    const controls = el("div", "c13b-controls");
    const mk = (cls, label, text, fn) => {
      const b = button("c13b-btn " + cls, label, text);
      b.addEventListener("click", () => { fn(); });
      controls.appendChild(b);
      return b;
    };
    mk("c13b-first", "First move", "«", () => this.go(""));
    mk("c13b-prev", "Previous move", "‹", () => this.prev());
    mk("c13b-next", "Next move", "›", () => this.next());
    mk("c13b-last", "Last move", "»", () => this.end());
    this.playBtn = mk("c13b-play", "Play", "Play", () => this.togglePlay());
    mk("c13b-flip", "Flip board", "⇅", () => this.flip());
    this.bestBtn = mk("c13b-best", "Best-move arrow", "➚", () => this.toggleBest());
    mk("c13b-help", "Keyboard keys", "?", () => this.toggleHelp());
    this.movesEl = el("div", "c13b-moves");
    this.movesEl.setAttribute("role", "list");
    this.movesEl.setAttribute("aria-label", "Moves");
    side.append(controls, this.movesEl);
    main.append(boardBox, side);

    this.live = el("div", "c13b-sr");
    this.live.setAttribute("aria-live", "polite");
    this.positionText = el("div", "c13b-sr");
    this.helpEl = el("div", "c13b-help-panel");
    this.helpEl.hidden = true;
    this.helpEl.setAttribute("role", "dialog");
    this.helpEl.setAttribute("aria-label", "Keyboard keys");
    const table = el("dl", "c13b-keys");
    for (const [k, v] of KEY_HELP) table.append(el("dt", "", k), el("dd", "", v));
    const close = button("c13b-btn", "Close", "×");
    close.addEventListener("click", () => this.toggleHelp(false));
    this.helpEl.append(el("strong", "", "Keys"), close, table);

    this.menuEl = el("div", "c13b-menu");
    this.menuEl.hidden = true;
    this.menuEl.setAttribute("role", "menu");
    const actions = [["promote", "Promote variation"], ["make_main", "Make main line"],
                     ["delete", "Delete from here"], ["copy_pgn", "Copy PGN"]];
    for (const [action, label] of actions) {
      const b = button("c13b-menu-item", label, label);
      b.setAttribute("role", "menuitem");
      b.dataset.action = action;
      b.addEventListener("click", () => this.menuAction(action));
      this.menuEl.appendChild(b);
    }
    this.pgnBox = el("textarea", "c13b-pgn");
    this.pgnBox.readOnly = true;
    this.pgnBox.hidden = true;
    this.pgnBox.setAttribute("aria-label", "PGN from this move");
    this.menuEl.appendChild(this.pgnBox);

    root.append(main, this.live, this.positionText, this.helpEl, this.menuEl);
    this.host.appendChild(root);

    this.cg = Chessground(this.boardEl, {
      coordinates: true,
      animation: { enabled: true, duration: 120 },
      movable: { free: false, color: undefined, showDests: true,
                 events: { after: (o, d) => this.userMove(o, d) } },
      premovable: { enabled: false },
      draggable: { enabled: true, showGhost: true },
      highlight: { lastMove: true, check: true },
      drawable: { enabled: true, visible: true, defaultSnapToValidMove: true,
                  onChange: (shapes) => this.userShapes(shapes) },
    });

    this.movesEl.addEventListener("click", (e) => {
      const more = e.target.closest(".c13b-more");
      if (more) { this.openMenu(more.dataset.key, more); return; }
      const cell = e.target.closest("[data-key]");
      if (cell) this.go(cell.dataset.key);
    });
    this.movesEl.addEventListener("contextmenu", (e) => {
      const cell = e.target.closest("[data-key]");
      if (!cell || cell.dataset.key === "") return;
      e.preventDefault();
      this.go(cell.dataset.key);
      this.openMenu(cell.dataset.key, cell);
    });
    this.onKey = (e) => this.key(e);
    document.addEventListener("keydown", this.onKey);
    this.onDocClick = (e) => {
      if (!this.menuEl.hidden && !e.composedPath().includes(this.menuEl)
          && !(e.target.closest && e.target.closest(".c13b-more"))) this.closeMenu();
    };
    document.addEventListener("pointerdown", this.onDocClick, true);
    this.resize = new ResizeObserver(() => this.layout());
    this.resize.observe(this.root);
  }

  destroy() {
    document.removeEventListener("keydown", this.onKey);
    document.removeEventListener("pointerdown", this.onDocClick, true);
    this.resize.disconnect();
    this.stopPlay();
    this.stopSpeaking();
    clearTimeout(this.reportTimer);
    this.cg.destroy();
    this.root.remove();
  }

  // --- Data from Python --------------------------------------------------------------------

  update(data, api) {
    this.api = api;
    this.data = data;
    this.root.dataset.label = data.label || "Board";
    this.root.setAttribute("aria-label", data.label || "Board");
    this.playBtn.hidden = !data.autoplay;
    this.barEl.hidden = !data.evalBar;
    this.root.classList.toggle("c13b-with-bar", !!data.evalBar);
    this.moveLabelEl.hidden = !data.moveLabel;
    const readAloud = !!data.readAloud && !!window.speechSynthesis;
    if (readAloud !== this.readAloud) {
      this.readAloud = readAloud;
      this.root.dataset.readAloud = String(readAloud);
      if (!readAloud) this.stopSpeaking();
    }
    this.cg.set({ drawable: { enabled: !!data.drawable } });
    let treeChanged = false;
    if (data.tree && data.tree.id !== this.treeId) {
      this.treeId = data.tree.id;
      this.nodes = data.tree.nodes;
      this.renderMoves(data.tree);
      treeChanged = true;
      this.root.dataset.treeId = data.tree.id;
    }
    if (data.orientation && data.orientationSeq !== this.orientationSeq) {
      this.orientationSeq = data.orientationSeq;
      this.cg.set({ orientation: data.orientation });
      this.root.dataset.orientation = data.orientation;
    }
    if (typeof data.showBest === "boolean" && data.showBestSeq !== this.showBestSeq) {
      this.showBestSeq = data.showBestSeq;
      if (this.showBest !== data.showBest) this.toggleBest();
    }
    const cursor = data.cursor || { path: "", seq: 0 };
    if (this.cursorSeq === null) this.reported = cursor.path;  // Python's default state
    if (cursor.seq !== this.cursorSeq) {
      // Python moved the cursor (a new game, or after an edit): go there, and
      // report it if Python's "path" state still names another node.
      const first = this.cursorSeq === null;
      this.cursorSeq = cursor.seq;
      this.pending = null;
      this.go(cursor.path in this.nodes ? cursor.path : "");
      // A click far from the board (a beat card, the metaphor picture): show it there.
      if (data.scrollIntoView && !first) {
        this.root.scrollIntoView({ block: "center", behavior: "instant" });
        this.root.dataset.scrolledSeq = String(cursor.seq);
      }
    } else if (treeChanged) {
      this.pending = null;
      let key = this.current;
      while (key !== "" && !(key in this.nodes)) key = parentKey(key);
      this.go(key);
    }
    if (data.copied && data.copied.seq !== this.copiedSeq) {
      this.copiedSeq = data.copied.seq;
      this.showPgn(data.copied.pgn);
    }
    this.layout();
  }

  // --- The move list ----------------------------------------------------------------------

  moveCell(cell, inline) {
    const span = el("span", "c13b-move" + (inline ? " c13b-inline" : ""));
    span.dataset.key = cell.key;
    span.setAttribute("role", "listitem");
    if (cell.startingComment) span.append(el("span", "c13b-comment", cell.startingComment), " ");
    if (inline && cell.number) span.append(el("span", "c13b-num", cell.number + " "));
    span.append(el("span", "c13b-san", cell.san));
    if (cell.glyphs.length) {
      const g = el("span", "c13b-glyph", cell.glyphs.join(""));
      g.dataset.glyph = cell.glyphs[0];
      span.append(g);
    }
    if (cell.clock) span.append(el("span", "c13b-clock", cell.clock));
    this.cells.set(cell.key, span);
    return span;
  }

  variation(v) {
    const box = el(v.depth === 1 ? "div" : "span", "c13b-var c13b-depth" + Math.min(v.depth, 4));
    box.append(el("span", "c13b-paren", "("));
    v.items.forEach((item, i) => {
      if (i) box.append(" ");
      if (item.kind === "variation") { box.append(this.variation(item)); return; }
      box.append(this.moveCell(item, true));
      if (item.comment) box.append(" ", el("span", "c13b-comment", item.comment));
    });
    box.append(el("span", "c13b-paren", ")"));
    return box;
  }

  renderMoves(tree) {
    this.cells = new Map();
    const frag = document.createDocumentFragment();
    const start = el("span", "c13b-move c13b-start", "Start");
    start.dataset.key = "";
    this.cells.set("", start);
    frag.append(start);
    for (const item of tree.moveList) {
      if (item.kind === "row") {
        const row = el("div", "c13b-row");
        row.append(el("span", "c13b-index", item.number + "."));
        for (const side of [item.white, item.black]) {
          row.append(side ? this.moveCell(side, false) : el("span", "c13b-move c13b-empty", "…"));
        }
        frag.append(row);
      } else {
        const box = el("div", "c13b-interrupt");
        if (item.comment) box.append(el("div", "c13b-comment", item.comment));
        for (const v of item.variations) box.append(this.variation(v));
        frag.append(box);
      }
    }
    this.movesEl.replaceChildren(frag);
    this.activeCell = null;
  }

  // --- Stepping ---------------------------------------------------------------------------

  go(key, opts = {}) {
    const node = this.nodes[key];
    if (!node) return;
    const arrived = key !== this.current || this.root.dataset.fen === undefined;
    if (this.pending && key !== this.current) this.pending = null;
    this.root.dataset.pending = this.pending ? "true" : "false";
    this.current = key;
    this.closePromotion();
    const root = this.root;
    root.dataset.fen = node.fen;
    root.dataset.ply = String(node.ply);
    root.dataset.path = key;
    this.cg.set({
      fen: node.fen,
      turnColor: node.turn,
      lastMove: node.lastMove || undefined,
      check: !!node.check,
      movable: {
        color: this.data && this.data.movable && !this.pending ? node.turn : undefined,
        dests: new Map(Object.entries(node.dests)),
      },
      drawable: { shapes: node.shapes.slice(), autoShapes: this.autoShapes(node) },
    });
    if (this.activeCell) this.activeCell.classList.remove("c13b-active");
    const cell = this.cells.get(key);
    this.activeCell = cell || null;
    if (cell) {
      cell.classList.add("c13b-active");
      this.placeMore(cell, key);
      const box = this.movesEl;
      const top = cell.offsetTop - box.offsetTop;
      if (top < box.scrollTop || top > box.scrollTop + box.clientHeight - cell.offsetHeight) {
        box.scrollTop = Math.max(0, top - box.clientHeight / 2);
      }
    }
    this.announce(node);
    this.showBar(node);
    this.moveLabelEl.textContent = node.san === null ? "Start"
      : node.number + " " + node.san + node.glyphs.join("");
    if (arrived) this.speakNode(node);
    if (opts.report !== false) this.scheduleReport();
    else this.reported = key;
  }

  // --- The eval bar -----------------------------------------------------------------------

  showBar(node) {
    if (this.barEl.hidden) return;
    const bar = node.bar || { win: null, text: "?" };
    const known = typeof bar.win === "number";
    this.barEl.classList.toggle("c13b-bar-unknown", !known);
    this.barEl.dataset.win = known ? String(bar.win) : "unknown";
    this.barFill.style.height = known ? bar.win + "%" : "0";
    this.barText.textContent = known ? bar.text : "?";
    this.barEl.setAttribute("aria-label", known
      ? "Eval " + bar.text + ": White's winning chances " + Math.round(bar.win) + "%"
      : "Eval unknown: no engine has looked at this position");
  }

  // --- Read aloud (the Web Speech API; nothing leaves the browser) --------------------------

  speakNode(node) {
    if (!this.readAloud) return null;
    this.stopSpeaking();
    if (!node.speech) return null;
    const u = new SpeechSynthesisUtterance(node.speech);
    u.lang = "en";
    this.utterance = u;
    this.root.dataset.speaking = "true";
    const done = () => {
      if (this.utterance !== u) return;
      this.utterance = null;
      this.root.dataset.speaking = "false";
      if (this.afterSpeech) { const next = this.afterSpeech; this.afterSpeech = null; next(); }
    };
    u.onend = done;
    u.onerror = done;
    window.speechSynthesis.speak(u);
    return u;
  }

  stopSpeaking() {
    this.afterSpeech = null;
    if (!this.utterance) return;
    this.utterance = null;
    if (this.root) this.root.dataset.speaking = "false";
    if (window.speechSynthesis) window.speechSynthesis.cancel();
  }

  placeMore(cell, key) {
    if (!this.moreBtn) {
      this.moreBtn = button("c13b-more", "Move menu", "⋯");
    }
    this.moreBtn.dataset.key = key;
    if (key === "") { this.moreBtn.remove(); return; }
    cell.appendChild(this.moreBtn);
  }

  autoShapes(node) {
    const shapes = node.autoShapes.slice();
    if (this.showBest && node.best) {
      shapes.push({ orig: node.best.slice(0, 2), dest: node.best.slice(2, 4), brush: "paleBlue" });
    }
    return shapes;
  }

  next() { const n = this.nodes[this.current]; if (n && n.children.length) this.go(n.children[0]); }
  prev() { if (this.current !== "") this.go(parentKey(this.current)); }
  end() {
    let key = this.current;
    while (this.nodes[key].children.length) key = this.nodes[key].children[0];
    this.go(key);
  }
  enterVariation() {
    const n = this.nodes[this.current];
    if (n && n.children.length > 1) this.go(n.children[1]);
  }
  exitVariation() {
    const path = this.current === "" ? [] : this.current.split(".");
    for (let i = path.length - 1; i >= 0; i--) {
      if (path[i] !== "0") { this.go(path.slice(0, i).join(".")); return; }
    }
  }
  flip() {
    this.cg.toggleOrientation();
    this.root.dataset.orientation = this.cg.state.orientation;
  }
  toggleBest() {
    this.showBest = !this.showBest;
    this.bestBtn.setAttribute("aria-pressed", String(this.showBest));
    this.root.dataset.best = String(this.showBest);
    const node = this.nodes && this.nodes[this.current];
    if (node) this.cg.set({ drawable: { autoShapes: this.autoShapes(node) } });
  }
  togglePlay() {
    if (!this.data || !this.data.autoplay) return;
    if (this.playing) { this.stopPlay(); return; }
    const tick = () => {
      const n = this.nodes[this.current];
      if (!n || !n.children.length) { this.stopPlay(); return; }
      this.go(n.children[0]);
      const shown = this.nodes[this.current];
      const delay = shown.delayMs || this.data.autoplayMs || 1500;
      if (this.utterance) {
        // Reading aloud: the next move comes when the narration has been spoken
        // (a short pause after it); a lost "end" event falls back to a long timer.
        this.afterSpeech = () => { clearTimeout(this.playing); this.playing = setTimeout(tick, 400); };
        this.playing = setTimeout(() => { this.afterSpeech = null; tick(); }, delay * 3 + 10000);
      } else {
        this.playing = setTimeout(tick, delay);
      }
    };
    this.playing = setTimeout(tick, 0);
    this.playBtn.textContent = "Pause";
    this.playBtn.setAttribute("aria-label", "Pause");
    this.root.dataset.playing = "true";
  }
  stopPlay() {
    if (this.playing) clearTimeout(this.playing);
    this.playing = null;
    this.afterSpeech = null;
    if (this.playBtn) {
      this.playBtn.textContent = "Play";
      this.playBtn.setAttribute("aria-label", "Play");
    }
    if (this.root) this.root.dataset.playing = "false";
  }
  toggleHelp(show) {
    this.helpEl.hidden = show === undefined ? !this.helpEl.hidden : !show;
  }

  announce(node) {
    let text;
    if (node.san === null) text = "Start position.";
    else {
      text = node.number + " " + node.san + node.glyphs.join("") + ".";
      if (node.check) text += " Check.";
      if (!node.children.length) text += " End of the line.";
      if (node.comment) text += " " + node.comment;
    }
    this.live.textContent = text;
    this.positionText.textContent = describePosition(node.fen);
  }

  scheduleReport() {
    clearTimeout(this.reportTimer);
    const delay = (this.data && this.data.debounceMs) || 150;
    this.reportTimer = setTimeout(() => {
      if (this.reported === this.current) return;
      this.reported = this.current;
      this.root.dataset.reported = this.current;
      this.api.setStateValue("path", this.current);
    }, delay);
  }

  send(event) {
    // Flush a pending path report first, in the same tick, so that the path's
    // rerun and the event's rerun are one: a trigger can be lost when a second
    // rerun request overtakes the first (seen in tests; cf. streamlit#16732).
    clearTimeout(this.reportTimer);
    if (this.reported !== this.current) {
      this.reported = this.current;
      this.root.dataset.reported = this.current;
      this.api.setStateValue("path", this.current);
    }
    this.eventSeq += 1;
    this.root.dataset.sent = event.kind + ":" + event.path;
    this.api.setTriggerValue("event", { ...event, seq: this.eventSeq });
  }

  // --- Keys -------------------------------------------------------------------------------

  key(e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.composedPath()[0] || e.target;
    const tag = t && t.tagName ? t.tagName.toLowerCase() : "";
    if (tag === "input" || tag === "textarea" || tag === "select" || (t && t.isContentEditable)) return;
    if (!this.root.isConnected) return;
    const k = e.key;
    let handled = true;
    if (k === "Escape") { this.closeMenu(); this.toggleHelp(false); this.closePromotion(true); handled = false; }
    else if (k === "ArrowRight" && e.shiftKey) this.enterVariation();
    else if (k === "ArrowLeft" && e.shiftKey) this.exitVariation();
    else if (k === "ArrowRight") this.next();
    else if (k === "ArrowLeft") this.prev();
    else if (k === "ArrowUp" || k === "Home") this.go("");
    else if (k === "ArrowDown" || k === "End") this.end();
    else if (k === "f") this.flip();
    else if (k === "a") this.toggleBest();
    else if (k === "l" && this.data && this.data.liveKey) this.send({ kind: "live", path: this.current });
    else if (k === "?") this.toggleHelp();
    else if (k === " " && this.data && this.data.autoplay && tag !== "button") this.togglePlay();
    else handled = false;
    if (handled) e.preventDefault();
  }

  // --- Moves ------------------------------------------------------------------------------

  existingChild(node, orig, dest, promotion) {
    for (const key of node.children) {
      const c = this.nodes[key];
      const uci = c.uci;
      if (uci === orig + dest + (promotion ? promotion : "")) return key;
      if (c.san.startsWith("O-O") && uci.slice(0, 2) === orig && !promotion) {
        const rank = uci[1];
        const rook = (c.san.startsWith("O-O-O") ? "a" : "h") + rank;
        if (dest === uci.slice(2, 4) || dest === rook) return key;
      }
    }
    return null;
  }

  userMove(orig, dest) {
    const node = this.nodes[this.current];
    if (!node) return;
    const piece = this.cg.state.pieces.get(dest);
    const lastRank = dest[1] === "8" || dest[1] === "1";
    if (piece && piece.role === "pawn" && lastRank) { this.openPromotion(orig, dest, piece.color); return; }
    this.playMove(orig, dest, null);
  }

  playMove(orig, dest, promotion) {
    const node = this.nodes[this.current];
    const letter = promotion ? { queen: "q", knight: "n", rook: "r", bishop: "b" }[promotion] : "";
    const known = this.existingChild(node, orig, dest, letter);
    if (known !== null) { this.go(known); return; }
    this.pending = { path: this.current, orig, dest };
    this.root.dataset.pending = "true";
    this.cg.set({ movable: { color: undefined } });
    this.send({ kind: "move", path: this.current, orig, dest, promotion });
    // Python answers with a new cursor; if it never does (it rejected the move),
    // put the position back rather than leave a piece where no node is.
    clearTimeout(this.pendingTimer);
    this.pendingTimer = setTimeout(() => {
      if (this.pending) { this.pending = null; this.go(this.current, { report: false }); }
    }, 4000);
  }

  openPromotion(orig, dest, color) {
    const box = this.promoEl;
    box.replaceChildren();
    const white = this.cg.state.orientation === "white";
    const file = FILES.indexOf(dest[0]);
    const col = white ? file : 7 - file;
    const fromTop = (dest[1] === "8") === white;
    PROMOTIONS.forEach((role, i) => {
      const b = button("c13b-promo-choice", "Promote to " + role);
      b.dataset.role = role;
      const row = fromTop ? i : 7 - i;
      b.style.left = (col * 12.5) + "%";
      b.style.top = (row * 12.5) + "%";
      const p = document.createElement("piece");
      p.className = role + " " + color;
      b.appendChild(p);
      b.addEventListener("click", (e) => {
        e.stopPropagation();
        this.closePromotion();
        this.playMove(orig, dest, role);
      });
      box.appendChild(b);
    });
    box.hidden = false;
    this.root.dataset.promotion = "open";
    box.onclick = () => this.closePromotion(true);
  }

  closePromotion(restore) {
    if (this.promoEl.hidden) return;
    this.promoEl.hidden = true;
    this.root.dataset.promotion = "closed";
    if (restore) this.go(this.current, { report: false });
  }

  userShapes(shapes) {
    const node = this.nodes[this.current];
    if (!node) return;
    const clean = shapes.filter((s) => ["green", "red", "blue", "yellow"].includes(s.brush))
      .map((s) => (s.dest && s.dest !== s.orig ? { orig: s.orig, dest: s.dest, brush: s.brush }
                                                : { orig: s.orig, brush: s.brush }));
    node.shapes = clean;
    this.send({ kind: "shapes", path: this.current, shapes: clean });
  }

  // --- Node menu --------------------------------------------------------------------------

  openMenu(key, anchor) {
    if (key === "" || !(key in this.nodes)) return;
    this.menuKey = key;
    this.pgnBox.hidden = true;
    const onMain = !key.split(".").some((i) => i !== "0");
    for (const b of this.menuEl.querySelectorAll("[data-action]")) {
      b.disabled = onMain && (b.dataset.action === "promote" || b.dataset.action === "make_main");
    }
    this.menuEl.hidden = false;
    const r = anchor.getBoundingClientRect();
    const h = this.root.getBoundingClientRect();
    this.menuEl.style.left = Math.max(0, Math.min(r.left - h.left, h.width - 200)) + "px";
    this.menuEl.style.top = (r.bottom - h.top + 2) + "px";
    this.root.dataset.menu = key;
    const first = this.menuEl.querySelector("[data-action]:not([disabled])");
    if (first) first.focus();
  }

  closeMenu() {
    this.menuEl.hidden = true;
    this.root.dataset.menu = "";
  }

  menuAction(action) {
    const key = this.menuKey;
    if (action !== "copy_pgn") this.closeMenu();
    this.send({ kind: "menu", path: key, action });
  }

  showPgn(pgn) {
    this.pgnBox.value = pgn;
    this.pgnBox.hidden = false;
    this.menuEl.hidden = false;
    this.pgnBox.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(pgn).catch(() => {});
    }
  }

  // --- Layout -----------------------------------------------------------------------------

  layout() {
    const width = this.root.clientWidth;
    if (!width) return;
    const stacked = width < 620;
    this.root.classList.toggle("c13b-stacked", stacked);
    const maxH = Math.max(280, window.innerHeight - 140);
    const bar = this.barEl.hidden ? 0 : 24;  // the eval bar and its gap
    const size = (stacked ? width - bar : Math.min(width - 260 - 16 - bar, maxH, 720));
    const px = Math.max(160, Math.floor(size / 8) * 8) + "px";
    if (this.boardEl.style.width !== px) {
      this.boardEl.style.width = px;
      this.boardEl.style.height = px;
      this.promoEl.style.width = px;
      this.promoEl.style.height = px;
      this.barEl.style.height = px;
      this.root.style.setProperty("--c13b-board", px);
      this.cg.redrawAll();
    }
  }
}

export default function (component) {
  const { data, parentElement, setStateValue, setTriggerValue } = component;
  let instance = parentElement.__c13b;
  if (!instance || !instance.root.isConnected) {
    instance = new BoardElement(parentElement);
    parentElement.__c13b = instance;
  }
  instance.update(data || {}, { setStateValue, setTriggerValue });
  return () => {
    instance.destroy();
    if (parentElement.__c13b === instance) delete parentElement.__c13b;
  };
}
