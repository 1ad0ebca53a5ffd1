/// The console's stylesheet and script, served from `/static/` (no CDN, no build step).
enum Assets {
    static let css = """
        :root { --ink: #1d2733; --muted: #5b6775; --line: #d5dbe3; --accent: #1f5fa8; --ok: #1d7a3e; --bad: #b3261e; --warn: #9a6700; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #f6f8fa; }
        header { display: flex; flex-wrap: wrap; align-items: center; gap: .8rem; padding: .6rem 1.2rem; background: #16324f; color: #fff; }
        header a { color: #dbe9f7; margin-right: .6rem; }
        header a:focus, header button:focus { outline: 2px solid #ffd166; }
        .brand { font-weight: 700; } .site { background: #ffd166; color: #16324f; padding: 0 .4rem; border-radius: 3px; font-weight: 700; }
        nav { flex: 1; } .syncnow { margin: 0; }
        main { max-width: 1200px; margin: 0 auto; padding: 1rem 1.2rem 3rem; }
        h1 { font-size: 1.4rem; margin: .4rem 0 1rem; } h2 { font-size: 1.1rem; margin-top: 1.6rem; }
        table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
        th, td { text-align: left; padding: .35rem .55rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        thead th { background: #eef2f6; font-weight: 600; }
        a { color: var(--accent); } a:focus, button:focus, input:focus, select:focus, textarea:focus { outline: 3px solid #ffbf47; outline-offset: 1px; }
        button { font: inherit; padding: .3rem .9rem; border: 1px solid #0f3d70; background: var(--accent); color: #fff; border-radius: 4px; cursor: pointer; }
        input, select, textarea { font: inherit; padding: .25rem .4rem; border: 1px solid #8c99a8; border-radius: 3px; }
        .filters { display: flex; flex-wrap: wrap; gap: .8rem; align-items: end; margin-bottom: .8rem; }
        .facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
        .facts dt { color: var(--muted); }
        .state, .sig { padding: 0 .45rem; border-radius: 10px; font-size: .85rem; background: #e8ecf1; }
        .state.ok, .sig.ok, .state.resolved { background: #dcf3e3; color: var(--ok); }
        .state.failing, .sig.bad, .state.open { background: #fbe0de; color: var(--bad); }
        .state.behind, .sig.unknown { background: #fff1c9; color: var(--warn); }
        .badge { background: #b3261e; color: #fff; border-radius: 9px; padding: 0 .4rem; font-size: .8rem; }
        .flash, .live { background: #e7f1fb; border-left: 4px solid var(--accent); padding: .5rem .8rem; }
        .error { background: #fbe0de; border-left: 4px solid var(--bad); padding: .5rem .8rem; }
        .sides td.value { font-size: 1.1rem; font-weight: 600; }
        .resolution { background: #eef8f1; border: 1px solid #b9e2c6; padding: .2rem 1rem; margin-top: 1rem; }
        fieldset { background: #fff; border: 1px solid var(--line); margin-top: 1rem; }
        .edit p { margin: .4rem 0; } .edit label { display: inline-block; min-width: 18rem; }
        .edit input { width: min(36rem, 60vw); }
        ul.log, ul.changes { padding-left: 1.1rem; margin: 0; }
        .skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: .5rem; background: #fff; padding: .3rem; z-index: 1; }
        .pages { margin-top: .6rem; display: flex; gap: 1rem; }
        form.inline { display: inline; margin: 0 .3rem 0 0; } button.danger { background: var(--bad); border-color: #7d1a15; }
        """

    static let icon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#16324f"/><path d="M4 3v10h8v-2H6V3z" fill="#ffd166"/></svg>
        """

    /// Small helps: `/` focuses the search field; typing another or a merged value on a conflict
    /// chooses it; the edit form asks before leaving with unsaved
    /// changes; the page listens to `/events` (server-sent events; without `EventSource` it asks
    /// `/state` every 5 s) and offers a reload when a sync or edit changed the replica.
    static let js = """
        "use strict";
        const loaded = document.body.dataset.stamp;
        const live = document.getElementById("live");
        if (loaded && live && window.EventSource) {
          // Server-sent events: the console says when the replica changed (a sync, an edit elsewhere).
          const events = new EventSource("/events?stamp=" + encodeURIComponent(loaded));
          events.onmessage = (event) => { if (event.data !== loaded) { live.hidden = false; } };
        } else if (loaded && live) {
          setInterval(async () => {
            try {
              const answer = await fetch("/state", { credentials: "same-origin" });
              if (!answer.ok) { return; }
              const state = await answer.json();
              if (state.stamp !== loaded) { live.hidden = false; }
            } catch (error) { /* the console stopped: keep the page as it is */ }
          }, 5000);
        }
        document.addEventListener("keydown", (event) => {
          const search = document.getElementById("search");
          if (event.key === "/" && search && document.activeElement.tagName !== "INPUT" && document.activeElement.tagName !== "TEXTAREA") {
            event.preventDefault();
            search.focus();
          }
        });
        // Typing another value or editing the merged text chooses that way of resolving.
        for (const [field, choice] of [["other-value", "keep-other"], ["merged-value", "keep-merged"]]) {
          const input = document.getElementById(field);
          const radio = document.getElementById(choice);
          if (input && radio) { input.addEventListener("input", () => { radio.checked = true; }); }
        }
        for (const form of document.querySelectorAll("form.edit")) {
          let dirty = false;
          form.addEventListener("input", () => { dirty = true; });
          form.addEventListener("submit", () => { dirty = false; });
          window.addEventListener("beforeunload", (event) => { if (dirty) { event.preventDefault(); } });
        }
        """
}
