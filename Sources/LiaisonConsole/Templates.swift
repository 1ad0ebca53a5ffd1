/// The console's Mustache templates. `{{x}}` escapes HTML; `{{{x}}}` is used only for HTML this
/// console rendered itself (a page body inside the layout).
enum Templates {
    static let all: [String: String] = [
        "layout": layout, "overview": overview, "peers": peers, "log": log, "table": table, "row": row,
        "conflicts": conflicts, "conflict": conflict, "held": held, "heldItem": heldItem, "heldActions": heldActions,
        "schema": schema,
    ]

    static let layout = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Liaison {{site}}</title>
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml"><link rel="stylesheet" href="/static/console.css"><script src="/static/console.js" defer></script>
        </head><body data-stamp="{{stamp}}">
        <a class="skip" href="#main">Skip to content</a>
        <header><span class="brand">Liaison console</span> <span class="site">{{site}}</span>
        <nav aria-label="Main"><a href="/">Overview</a> <a href="/conflicts">Conflicts{{#openConflicts}} <span class="badge">{{openConflicts}}</span>{{/openConflicts}}</a>
        <a href="/held">Held{{#heldCount}} <span class="badge">{{heldCount}}</span>{{/heldCount}}</a>
        {{#tables}}<a href="/table?name={{.}}">{{.}}</a> {{/tables}}<a href="/peers">Peers</a> <a href="/log">Log</a> <a href="/schema">Schema</a></nav>
        <form method="post" action="/sync" class="syncnow"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">Sync now</button></form>
        </header>
        <main id="main">
        {{#flash}}<p class="flash" role="status">{{flash}}</p>{{/flash}}
        <p class="live" id="live" role="status" hidden>New changes have arrived. <a href="">Reload</a> to see them.</p>
        <h1>{{title}}</h1>
        {{{body}}}
        </main></body></html>
        """

    static let overview = """
        {{#alarms}}<section class="error" role="alert" aria-label="Divergence alarm" id="divergence-{{peer}}"><p><b>ALARM: this replica and {{peer}} do not hold the same rows</b> (compared at {{at}}): {{message}}. Nothing was repaired; compare with <code>liaison compare DB --peer {{peer}}</code> and ask {{peer}}'s operator.</p>
        <ul>{{#rows}}<li>{{kind}}: <a href="/row?table={{table}}&amp;id={{idQuery}}">{{table}} {{id}}</a> (scope {{scope}})</li>{{/rows}}</ul></section>{{/alarms}}
        <section aria-labelledby="me"><h2 id="me">This agency</h2>
        <dl class="facts"><dt>Site</dt><dd>{{site}}</dd><dt>Site id</dt><dd><code>{{siteID}}</code></dd>
        <dt>Key fingerprint</dt><dd><code>{{fingerprint}}</code></dd><dt>Transactions</dt><dd>{{transactions}}</dd>
        <dt>Open conflicts</dt><dd><a href="/conflicts">{{openConflicts}}</a>{{#conflictTables}} · {{table}} {{count}}{{/conflictTables}}</dd>
        <dt>Held here</dt><dd id="held-count"><a href="/held">{{heldCount}}</a>{{#heldBySource}} · from {{source}} {{count}}{{/heldBySource}}</dd>
        <dt>Held by peers</dt><dd id="held-by-peers">{{#heldByPeers}}{{peer}} {{count}} {{/heldByPeers}}{{^heldByPeers}}none{{/heldByPeers}}</dd></dl></section>
        {{#hasHeld}}<section aria-labelledby="heldTitle"><h2 id="heldTitle">Held transactions</h2>
        <ul class="log">{{#heldFirst}}<li><a href="/held/item?id={{idQuery}}">{{id}}</a> from {{source}}: <code>{{error}}</code> {{message}} · since {{heldAt}}{{#hasBehind}} · {{behindText}} wait behind it{{/hasBehind}}</li>{{/heldFirst}}</ul>
        <p><a href="/held">Review held transactions</a></p></section>{{/hasHeld}}
        <section aria-labelledby="peers"><h2 id="peers">Peers</h2>
        {{^peers}}<p>No peers registered. Add one with <code>liaison peer add</code>.</p>{{/peers}}
        {{#peers.count}}{{/peers.count}}
        {{#hasPeers}}<table><thead><tr><th scope="col">Peer</th><th scope="col">Health</th><th scope="col">They lack</th><th scope="col">We lack</th><th scope="col">Last sync out</th><th scope="col">Last sync in</th><th scope="col">Same rows?</th></tr></thead><tbody>
        {{#peers}}<tr><td>{{peer}}</td><td><span class="state {{state}}">{{state}}</span></td><td>{{peerLacksText}}</td><td>{{weLackText}}</td><td>{{lastOutboundText}}</td><td>{{lastInboundText}}</td><td><span class="state {{compareClass}}">{{compareText}}</span></td></tr>{{/peers}}
        </tbody></table>{{/hasPeers}}</section>
        <section aria-labelledby="recent"><h2 id="recent">Recent transactions</h2>
        <ul class="log">{{#recent}}<li><b>{{site}}#{{seq}}</b> {{time}} by {{author}} · {{summary}}</li>{{/recent}}</ul>
        <p><a href="/log">The whole log</a></p></section>
        """

    static let peers = """
        <table><thead><tr><th scope="col">Peer</th><th scope="col">URL</th><th scope="col">Key fingerprint</th><th scope="col">Reads</th><th scope="col">Writes</th>
        <th scope="col">Health</th><th scope="col">They lack</th><th scope="col">We lack</th><th scope="col">Last out</th><th scope="col">Last in</th><th scope="col">Auth failures</th><th scope="col">Refused here</th><th scope="col">Held here / there</th><th scope="col">Same rows?</th></tr></thead><tbody>
        {{#peers}}<tr id="peer-{{peer}}"><td>{{peer}}</td><td><code>{{url}}</code></td><td><code>{{fingerprintText}}</code></td><td>{{readScopes}}</td><td>{{writeScopes}}</td>
        <td><span class="state {{state}}">{{state}}</span></td><td>{{peerLacksText}}</td><td>{{weLackText}}</td><td>{{lastOutboundText}}</td><td>{{lastInboundText}}</td><td id="peer-auth-{{peer}}">{{authFailures}}</td><td id="peer-refused-{{peer}}">{{refusedText}}</td><td id="peer-held-{{peer}}">{{heldHere}} / {{heldThere}}</td><td id="compare-{{peer}}"><span class="state {{compareClass}}">{{compareText}}</span></td></tr>{{/peers}}
        </tbody></table>
        {{^peers}}<p>No peers registered.</p>{{/peers}}
        """

    static let log = """
        <form method="get" action="/log" class="filters" role="search">
        <label>Table <select name="table"><option value="">any</option>{{#tableOptions}}<option{{#selected}} selected{{/selected}}>{{name}}</option>{{/tableOptions}}</select></label>
        <label>Author <input name="author" value="{{author}}"></label>
        <label>Agency <input name="site" value="{{siteFilter}}"></label>
        <label>Since <input name="since" value="{{since}}" placeholder="1h30m, 7d or 2026-11-30" size="14"></label>
        <button type="submit">Filter</button></form>
        <table><thead><tr><th scope="col">Transaction</th><th scope="col">Time</th><th scope="col">Author</th><th scope="col">Changes</th></tr></thead><tbody>
        {{#entries}}<tr><td>{{site}}#{{seq}}</td><td>{{time}}</td><td>{{author}}</td><td><ul class="changes">{{#changes}}<li>{{op}} <a href="/row?table={{table}}&amp;id={{idQuery}}">{{table}} {{id}}</a> {{values}}</li>{{/changes}}{{#resolves}}<li>resolves {{.}}</li>{{/resolves}}{{#notes}}<li class="note">note: {{.}}</li>{{/notes}}</ul></td></tr>{{/entries}}
        </tbody></table>
        {{^entries}}<p>No transactions match.</p>{{/entries}}
        """

    static let table = """
        <form method="get" action="/table" class="filters" role="search"><input type="hidden" name="name" value="{{name}}">
        <label>Search <input type="search" name="q" value="{{q}}" id="search"></label>
        {{#choiceFilters}}<label>{{column}} <select name="f.{{column}}"><option value="">any</option>{{#options}}<option{{#selected}} selected{{/selected}}>{{value}}</option>{{/options}}</select></label>{{/choiceFilters}}
        <button type="submit">Filter</button> <a href="/table.csv?{{query}}" download>Download CSV</a></form>
        <p>{{total}} rows{{#filtered}} match{{/filtered}} · page {{page}} of {{pages}}</p>
        <table><thead><tr>{{#columns}}<th scope="col"><a href="/table?{{sortQuery}}">{{name}}{{#sorted}} {{arrow}}{{/sorted}}</a></th>{{/columns}}</tr></thead><tbody>
        {{#rows}}<tr>{{#cells}}<td>{{#link}}<a href="/row?table={{table}}&amp;id={{idQuery}}">{{text}}</a>{{/link}}{{^link}}{{text}}{{/link}}</td>{{/cells}}</tr>{{/rows}}
        </tbody></table>
        <nav class="pages" aria-label="Pages">{{#previous}}<a href="/table?{{previous}}" rel="prev">Previous</a>{{/previous}} {{#next}}<a href="/table?{{next}}" rel="next">Next</a>{{/next}}</nav>
        """

    static let row = """
        {{#error}}<p class="error" role="alert" id="edit-error">{{error}}</p>{{/error}}
        <section aria-labelledby="edit"><h2 id="edit">Fields</h2>
        <form method="post" action="/row?table={{table}}&amp;id={{idQuery}}" class="edit"><input type="hidden" name="csrf" value="{{csrf}}">
        <dl class="facts"><dt>id</dt><dd><code>{{id}}</code></dd><dt>Scope</dt><dd>{{scope}}</dd>
        <dt>Sent to</dt><dd id="readers">{{readers}} <small>(peers whose read grant holds this scope)</small></dd></dl>
        {{#fields}}<p><label for="col-{{name}}">{{name}}{{#required}} (required){{/required}} <small>{{type}}</small></label>
        <input id="col-{{name}}" name="col.{{name}}" value="{{value}}"{{#list}} list="list-{{name}}"{{/list}}>
        {{#list}}<datalist id="list-{{name}}">{{#choices}}<option value="{{.}}">{{/choices}}</datalist>{{/list}}</p>{{/fields}}
        <button type="submit">Save</button></form></section>
        <section aria-labelledby="history"><h2 id="history">History</h2>
        <table><thead><tr><th scope="col">Transaction</th><th scope="col">Time</th><th scope="col">Author</th><th scope="col">Signature</th><th scope="col">Scope</th><th scope="col">Change</th></tr></thead><tbody>
        {{#history}}<tr><td>{{site}}#{{seq}}</td><td>{{time}}</td><td>{{author}}</td><td><span class="sig {{signatureClass}}">{{signature}}</span></td><td>{{scope}}</td><td>{{op}} {{values}}</td></tr>{{/history}}
        </tbody></table></section>
        {{#conflicts.0}}{{/conflicts.0}}
        {{#hasConflicts}}<section aria-labelledby="rowconflicts"><h2 id="rowconflicts">Conflicts on this row</h2><ul>{{#conflicts}}<li><a href="/conflict?id={{id}}">{{id}}</a> {{kind}} on {{column}} ({{state}})</li>{{/conflicts}}</ul></section>{{/hasConflicts}}
        """

    static let conflicts = """
        <p>{{#all}}<a href="/conflicts">Open only</a>{{/all}}{{^all}}<a href="/conflicts?all=1">Include resolved</a>{{/all}}</p>
        <table><thead><tr><th scope="col">Conflict</th><th scope="col">Where</th><th scope="col">Kind</th><th scope="col">Kept now</th><th scope="col">Overwritten</th><th scope="col">State</th></tr></thead><tbody>
        {{#conflicts}}<tr><td><a href="/conflict?id={{id}}">{{shortID}}</a></td><td>{{table}} {{rowID}}{{#column}}.{{column}}{{/column}}</td><td>{{kind}}</td>
        <td>{{winnerValue}} <small>({{winnerSite}}, {{winnerAuthor}})</small></td><td>{{loserValue}} <small>({{loserSite}}, {{loserAuthor}})</small></td><td>{{state}}</td></tr>{{/conflicts}}
        </tbody></table>
        {{^conflicts}}<p>No {{^all}}open {{/all}}conflicts.</p>{{/conflicts}}
        """

    static let conflict = """
        <p><b>{{kind}}</b> conflict on <a href="/row?table={{table}}&amp;id={{idQuery}}">{{table}} {{rowID}}</a>{{#column}}, column <b>{{column}}</b>{{/column}} · policy {{policy}} · <span class="state {{state}}" id="conflict-state">{{state}}</span></p>
        <table class="sides"><thead><tr><th scope="col"></th><th scope="col">Before both (base)</th><th scope="col">Kept now (the merge rule's winner)</th><th scope="col">Overwritten</th></tr></thead><tbody>
        <tr><th scope="row">Value</th><td class="value" id="base-value">{{base.value}}</td><td class="value" id="winner-value">{{winner.value}}</td><td class="value" id="loser-value">{{loser.value}}</td></tr>
        <tr><th scope="row">Agency</th><td>{{base.site}}</td><td id="winner-site">{{winner.site}}</td><td id="loser-site">{{loser.site}}</td></tr>
        <tr><th scope="row">Author</th><td>{{base.author}}</td><td id="winner-author">{{winner.author}}</td><td id="loser-author">{{loser.author}}</td></tr>
        <tr><th scope="row">Time</th><td>{{base.time}}</td><td>{{winner.time}}</td><td>{{loser.time}}</td></tr>
        <tr><th scope="row">Transaction</th><td>{{#base}}{{site}}#{{seq}}{{/base}}</td><td>{{winner.site}}#{{winner.seq}}</td><td>{{loser.site}}#{{loser.seq}}</td></tr>
        <tr><th scope="row">Signature</th><td>{{#base}}<span class="sig {{signatureClass}}">{{signature}}</span>{{/base}}</td><td><span class="sig {{winner.signatureClass}}">{{winner.signature}}</span></td><td><span class="sig {{loser.signatureClass}}">{{loser.signature}}</span></td></tr>
        </tbody></table>
        {{#resolution}}<section aria-labelledby="res" class="resolution" id="resolution"><h2 id="res">Resolved</h2>
        <p>by <b>{{author}}</b> on {{site}} ({{site}}#{{seq}}) at {{time}}</p>{{#note}}<blockquote id="resolution-note">{{note}}</blockquote>{{/note}}</section>{{/resolution}}
        {{#open}}<form method="post" action="/conflict?id={{id}}" class="resolve"><input type="hidden" name="csrf" value="{{csrf}}">
        <fieldset><legend>Resolve</legend>
        <p><input type="radio" name="choice" value="winner" id="keep-winner" checked> <label for="keep-winner">Keep {{winner.site}}'s {{valueWord}} ({{winner.value}})</label></p>
        <p><input type="radio" name="choice" value="loser" id="keep-loser"> <label for="keep-loser">Keep {{loser.site}}'s {{valueWord}} ({{loser.value}})</label></p>
        {{#column}}<p><input type="radio" name="choice" value="value" id="keep-other"> <label for="keep-other">Write another value</label> <input name="value" aria-label="Another value" id="other-value"></p>{{/column}}
        {{#merge}}<div class="merge" id="merge"><p><input type="radio" name="choice" value="merge" id="keep-merged"> <label for="keep-merged">Merge: write the text below, made from every side{{#several}} (it resolves the {{count}} conflicts on this cell: {{conflictIDs}}){{/several}}</label></p>
        {{#several}}<ul class="merge-sides" id="merge-sides">{{#sides}}<li><b>{{site}}</b> ({{author}}, {{time}}): {{value}}</li>{{/sides}}</ul>{{/several}}
        <p><label for="merged-value">Merged text (a first draft from the base and each side's additions; edit it)</label><br><textarea id="merged-value" name="merged" rows="4" cols="60">{{draft}}</textarea></p></div>{{/merge}}
        <p><label for="note">Note (why; kept with the resolution and synced)</label><br><textarea id="note" name="note" rows="3" cols="60"></textarea></p>
        <button type="submit">Resolve</button></fieldset></form>{{/open}}
        """
}
